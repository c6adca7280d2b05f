"""Fixtures that boot the real target: Debian with systemd, journald, sshd and sudo in a
systemd-nspawn container (recon.demo.nspawn), reached over SSH on its own loopback address.

The one conftest of the suite: pytest loads it for every folder below. The shared helpers,
fixture plugins and stand-ins are modules in ``tests/support/`` (on ``sys.path`` through
``pythonpath`` in setup.cfg), so ``from helpers import ...`` works from every test folder.

Two tiers, one folder tree each, both mirroring ``recon/``'s packages:
``tests/unit/<package>/`` holds the tests that need no host (no root, no ``target``, ``fleet``
or ``browser``: ``make test-fast`` runs them in seconds), ``tests/<package>/`` the ones that
do. ``pytest_collection_modifyitems`` below refuses a test filed in the wrong tier.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from pg_cluster import app_database_uri

from recon import create_app
from recon.auth.accounts import create_token
from recon.demo.host import Host
from recon.demo.info import TargetInfo
from recon.demo.nspawn import Testbed, unavailable_reason
from recon.demo.recon_config import demo_config_toml
from recon.jobs.background import start_monitor as start_jobs_monitor
from recon.monitor.lease import Monitor
from recon.web.context import runtime as runtime_of
from recon.web.policy import ROLES

# Fixture plugins for every folder (pytest allows ``pytest_plugins`` only here); their asserts,
# and those of the other support modules, are rewritten like the tests' own.
pytest.register_assert_rewrite("helpers", "notify_receivers", "promtool")
# leftovers: the run fails if any process it started outlives it (tests/support/leftovers.py).
pytest_plugins = ["terminal_fixtures", "browser_fixtures", "config_data", "fresh_host",
                  "leftovers"]

TESTS = Path(__file__).resolve().parent
UNIT = TESTS / "unit"
# The fixtures that boot something heavy: demo hosts in nspawn containers (root) or Chromium.
# A test whose fixtures reach one of them (e.g. app -> target_info -> target) needs a host.
HOST_FIXTURES = frozenset({"target", "fleet", "browser", "fresh_bed"})


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "host: needs root and real demo hosts (set from a test's fixtures; by hand "
        "only on a test that needs root or boots hosts without them)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that needs a host ``host``, and refuse a test in the wrong tier: one
    that needs a host under tests/unit/, or one that needs none in a host folder."""
    wrong = []
    for item in items:
        host = bool(HOST_FIXTURES.intersection(getattr(item, "fixturenames", ()))
                    or item.get_closest_marker("host"))
        if host:
            item.add_marker(pytest.mark.host)
        if item.path.parent == TESTS:
            item.warn(pytest.PytestWarning(
                f"{item.path.name} is not in a package folder: move it to "
                f"tests/{'' if host else 'unit/'}<package>/"))
        elif UNIT in item.path.parents and host:
            wrong.append(f"{item.nodeid} needs a host: it belongs in tests/<package>/")
        elif UNIT not in item.path.parents and not host:
            wrong.append(f"{item.nodeid} needs no host: it belongs in tests/unit/<package>/ "
                         "(or mark it host if it needs root or boots hosts itself)")
    if wrong:
        raise pytest.UsageError("tests in the wrong tier:\n  " + "\n  ".join(wrong))

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the real SSH target needs root")


@pytest.fixture(scope="session")
def target() -> Iterator[Host]:
    """One real host for the whole session; tests leave it as they found it."""
    reason = unavailable_reason()
    if reason:
        pytest.skip(f"no real host: {reason}")
    bed = Testbed(["demo"])
    (host,) = bed.start()
    yield host
    bed.stop()


@pytest.fixture(scope="session")
def fleet() -> Iterator[list[Host]]:
    """Five more real hosts, for tests about several hosts at once."""
    reason = unavailable_reason()
    if reason:
        pytest.skip(f"no real hosts: {reason}")
    bed = Testbed([f"web{i}" for i in range(1, 6)])
    hosts = bed.start()
    yield hosts
    bed.stop()


@pytest.fixture
def target_info(target: Host) -> TargetInfo:
    return target.info


def build_app(tmp_path: Path, infos: list[TargetInfo], known_hosts: Path | None = None,
              extra_toml: str = "", **config: float) -> Flask:
    """An app with its own database and known_hosts copy, configured for ``infos``
    (``extra_toml`` is appended to its recon.toml, e.g. [notify.NAME] tables)."""
    config.setdefault("command_timeout", 5)
    config.setdefault("connect_timeout", 3)
    if known_hosts is None:
        known_hosts = tmp_path / "known_hosts"
        known_hosts.write_text("".join(i.host_key_line.strip() + "\n" for i in infos))
    path = tmp_path / "recon.toml"
    path.write_text(demo_config_toml(infos, known_hosts=known_hosts, **config) + extra_toml)
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test",
        "RECON_CONFIG": str(path),
        "SQLALCHEMY_DATABASE_URI": app_database_uri(tmp_path),
    })
    with app.app_context():
        app.config["TEST_TOKENS"] = {
            role: create_token(f"test-{role}", role)[1] for role in ROLES}
    return app


def client_for(app: Flask, role: str = "admin"):
    """A test client that authenticates with an API token of ``role``."""
    return token_client(app, app.config["TEST_TOKENS"][role])


def token_client(app: Flask, token: str):
    """A test client that sends ``Authorization: Bearer TOKEN`` on every request."""
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


@pytest.fixture
def make_app(tmp_path: Path):
    """Factory for apps against given targets, each with its fleet monitor running (as under
    gunicorn) and its first round of reads published; stops both afterwards.
    ``monitor=False`` builds an app without one."""
    apps: list[Flask] = []

    def make(infos: list[TargetInfo], *, monitor: bool = True, **kwargs) -> Flask:
        sub = tmp_path / f"app{len(apps)}"
        sub.mkdir()
        app = build_app(sub, infos, **kwargs)
        apps.append(app)
        if monitor:
            start_monitor(app, wait=15)
        return app

    yield make
    for app in apps:
        mon = app.extensions.get("recon.monitor")
        if mon is not None:
            mon.stop()
        runtime_of(app).executor.close_all()
        # Whatever terminal the test opened: its ttyd must not outlive it. (Imported here:
        # a plugin module imported before pytest registers it escapes assert rewriting.)
        from terminal_fixtures import close_all

        close_all(app)


def start_monitor(app: Flask, wait: float = 15) -> Monitor:
    """Start ``app``'s monitor and wait until every host was contacted once."""
    return start_jobs_monitor(app, wait=wait, alone=True)


@pytest.fixture
def app(make_app, target_info: TargetInfo) -> Flask:
    return make_app([target_info])


@pytest.fixture
def client(app: Flask):
    """An admin API client (bearer token, so no CSRF token is needed)."""
    return client_for(app, "admin")


@pytest.fixture
def anon(app: Flask):
    """A client with no credentials at all."""
    return app.test_client()


@pytest.fixture
def runtime(app: Flask):
    return runtime_of(app)


def requested_commands(commands: list[str]) -> list[str]:
    """The commands in a target's command log that requests sent (the monitor's own reads
    and its unit watcher left out)."""
    return [c for c in commands if " show --property=" not in c and "dbus-monitor" not in c]


def copy_key(info: TargetInfo, dest: Path) -> Path:
    """A copy of the dashboard key (tests that need a different key edit the copy)."""
    shutil.copy(info.key_path, dest)
    return dest


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The run's PostgreSQL cluster (if a test made one) ends with the run, before the
    leftovers check looks for what outlived it."""
    import pg_cluster
    pg_cluster.stop()
