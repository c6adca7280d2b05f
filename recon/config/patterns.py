"""What a value in ``recon.toml`` may look like, and the actions RECON knows.

Every value here ends up in a remote command line or a sudoers rule, hence strict patterns."""

from __future__ import annotations

import re

ACTIONS = ("status", "start", "stop", "restart", "reload", "logs",
           "enable", "disable", "reset-failed", "mask", "unmask")
SYSTEMCTL_ACTIONS = ("start", "stop", "restart", "reload",
                     "enable", "disable", "reset-failed", "mask", "unmask")
# What a service may do when its `actions` are not listed: the actions RECON always had.
# Changing the boot setup and masking are opt-in (list them), so existing files keep meaning
# what they meant and their sudoers drop-ins stay valid.
DEFAULT_ACTIONS = ("status", "start", "stop", "restart", "reload", "logs")
# Actions on the running unit (the row's buttons) and on its installation (the detail panel).
RUN_ACTIONS = ("start", "stop", "restart", "reload")
SETUP_ACTIONS = ("enable", "disable", "reset-failed", "mask", "unmask")
# Only admins may mask or unmask: a masked unit cannot be started by anyone until unmasked.
ADMIN_ACTIONS = ("mask", "unmask")

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
HOST_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
# Hostnames and IPv4/IPv6 literals; never anything starting with "-" (an ssh option).
ADDRESS_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.:-]{0,252}$")
USER_RE = re.compile(r"^[a-z_][a-z0-9_.-]{0,31}$")
REMOTE_PATH_RE = re.compile(r"^/[A-Za-z0-9._+/-]{1,254}$")
UNIT_SUFFIXES = (
    "service", "socket", "target", "timer", "mount", "automount", "path", "swap", "slice",
    "scope", "device",
)
# systemd's own rule, minus the backslash escapes (they would need escaping in sudoers too).
_UNIT_NAME = r"^[A-Za-z0-9_:][A-Za-z0-9:_.@-]{0,240}\."
UNIT_RE = re.compile(_UNIT_NAME + "(" + "|".join(UNIT_SUFFIXES) + r")$")
# Patterns are matched whole (fullmatch), so `$` here admits no trailing newline.
TIMER_RE = re.compile(_UNIT_NAME + r"timer$")
# A display name: not blank, at most 100 characters.
DISPLAY_NAME_RE = re.compile(r"(?=.*\S).{1,100}\Z", re.S)
TAG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
ALLOW_RE = re.compile(r"^(role:(viewer|operator|admin)|[A-Za-z0-9][A-Za-z0-9_.@:-]{0,69})$")
PUBKEY_RE = re.compile(r"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/=]+$")
