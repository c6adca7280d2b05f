"""``fresh``: a real host with none of RECON's rules, as a newly installed machine that has
only the login and the dashboard's key -- for the add-host tests. One container for the
run; each test gets it with the sudoers drop-in removed. A fixture plugin named in the root
conftest."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from recon.demo.host import Host
from recon.demo.nspawn import Testbed, unavailable_reason


@pytest.fixture(scope="session")
def fresh_bed() -> Iterator[Host]:
    reason = unavailable_reason()
    if reason:
        pytest.skip(f"no real host: {reason}")
    bed = Testbed(["fresh"])
    (host,) = bed.start()
    yield host
    bed.stop()


@pytest.fixture
def fresh(fresh_bed: Host) -> Host:
    """The fresh host, without RECON's sudoers drop-in."""
    fresh_bed.sudoers_file.unlink(missing_ok=True)
    return fresh_bed


def install_sudoers(host: Host, text: str) -> None:
    """What the admin does as root on the host with the drop-in RECON showed."""
    tmp = host.path("/etc/sudoers.d/.recon-new")
    tmp.write_text(text)
    os.chmod(tmp, 0o440)
    assert host.run(["visudo", "-cf", "/etc/sudoers.d/.recon-new"], check=False).returncode == 0
    os.replace(tmp, host.sudoers_file)
