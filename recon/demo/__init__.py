"""A real SSH target on 127.0.0.1 for tests and the demo mode (see :mod:`recon.demo.target`)."""

from recon.demo.target import DemoTarget, TargetInfo
from recon.demo.units import DEFAULT_UNITS, SUDO_ACTIONS, UnitSpec

__all__ = ["DEFAULT_UNITS", "SUDO_ACTIONS", "DemoTarget", "TargetInfo", "UnitSpec"]
