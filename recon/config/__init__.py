"""Load and validate RECON's host and service configuration (``recon.toml``).

Everything the dashboard ever puts into a remote command comes from here, so every value is
checked against a strict pattern before the app starts. An invalid file refuses to start with
all its errors listed, each naming the file and the key.

Each host and service key is declared once, on its dataclass field (:mod:`.models`, with
:func:`.declare.option`); the checks of :mod:`.load` and the README table and example file
of :mod:`.docs` derive from those declarations. Value patterns and actions: :mod:`.patterns`.
"""

from recon.config.load import load_config, normalize_unit, parse_config
from recon.config.models import ConfigError, HostConfig, ReconConfig, ServiceConfig
from recon.config.patterns import (
    ACTIONS,
    ADDRESS_RE,
    ADMIN_ACTIONS,
    ALLOW_RE,
    DEFAULT_ACTIONS,
    HOST_NAME_RE,
    PUBKEY_RE,
    REMOTE_PATH_RE,
    RUN_ACTIONS,
    SETUP_ACTIONS,
    SLUG_RE,
    SYSTEMCTL_ACTIONS,
    TAG_RE,
    UNIT_RE,
    UNIT_SUFFIXES,
    USER_RE,
)
from recon.config.settings import SETTING_RANGES, Settings

__all__ = [
    "ACTIONS", "ADDRESS_RE", "ADMIN_ACTIONS", "ALLOW_RE", "DEFAULT_ACTIONS", "HOST_NAME_RE",
    "PUBKEY_RE", "REMOTE_PATH_RE", "RUN_ACTIONS", "SETTING_RANGES", "SETUP_ACTIONS", "SLUG_RE",
    "SYSTEMCTL_ACTIONS", "TAG_RE", "UNIT_RE", "UNIT_SUFFIXES", "USER_RE", "ConfigError",
    "HostConfig", "ReconConfig", "ServiceConfig", "Settings", "load_config", "normalize_unit",
    "parse_config",
]
