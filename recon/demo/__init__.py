"""Real demo hosts for tests and the demo mode: Debian with systemd, journald, sshd and sudo,
booted in systemd-nspawn containers (see :mod:`recon.demo.nspawn`)."""

from recon.demo.files import DEFAULT_UNITS, EXTRA_UNITS, UnitSpec
from recon.demo.host import SUDO_ACTIONS, Host
from recon.demo.info import TargetInfo
from recon.demo.nspawn import Testbed, unavailable_reason

__all__ = ["DEFAULT_UNITS", "EXTRA_UNITS", "SUDO_ACTIONS", "Host", "TargetInfo", "Testbed",
           "UnitSpec", "unavailable_reason"]
