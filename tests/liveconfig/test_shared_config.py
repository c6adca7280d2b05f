"""Servers that share one config (``share_config = true``) on one database, each with its
own recon.toml (as replicas on two machines would be): a service added through one server's
API, or by hand in the other's file, reaches both files and both servers within seconds; a
server restarted with a stale file takes the newest instead of pushing its old one."""

from __future__ import annotations

import shutil

import pg_cluster
import pytest
from conftest import build_app
from helpers import Gunicorn, wait_for
from stream_clients import bearer, call

SHARE = "[settings]\nshare_config = true\n"


def _with_share(path) -> None:
    path.write_text(path.read_text().replace("[settings]\n", SHARE, 1))


@pytest.mark.skipif(pg_cluster.unavailable_reason() is not None, reason="no PostgreSQL")
def test_two_servers_keep_one_config(tmp_path, target_info, monkeypatch):
    monkeypatch.setenv("RECON_TEST_DATABASE", "postgresql")
    app = build_app(tmp_path, [target_info])
    admin = bearer(app.config["TEST_TOKENS"]["admin"])
    a_conf = tmp_path / "recon.toml"
    _with_share(a_conf)
    b_dir = tmp_path / "b"
    b_dir.mkdir()
    b_conf = b_dir / "recon.toml"
    shutil.copy(a_conf, b_conf)
    b_env = {"RECON_CONFIG": str(b_conf)}
    with Gunicorn(app, workers=2, error_log=str(tmp_path / "a.log")) as a, \
            Gunicorn(app, workers=2, env=b_env, error_log=str(tmp_path / "b.log")) as b:
        code, body = call(a.port, "POST", "/api/config/services", admin,
                          {"host": "demo", "unit": "demo-flaky.service", "slug": "via-a"})
        assert code == 201, body
        assert wait_for(lambda: 'slug = "via-a"' in b_conf.read_text(), timeout=10)
        assert wait_for(lambda: all(call(b.port, "GET", "/api/services/via-a/status",
                                         admin)[0] == 200 for _ in range(6)), timeout=10)
        stale = b_conf.read_text()  # kept for the restart below
        # A hand edit of B's file reaches A's.
        b_conf.write_text(b_conf.read_text() + '\n[[services]]\nslug = "via-b"\n'
                          'name = "Via B"\nhost = "demo"\nunit = "demo-cron.service"\n')
        assert wait_for(lambda: 'slug = "via-b"' in a_conf.read_text(), timeout=10)
        assert wait_for(lambda: call(a.port, "GET", "/api/services/via-b/status",
                                     admin)[0] == 200, timeout=10)
        assert list((tmp_path / "backups").iterdir())  # A's file before B's change: kept
        b.stop()
        b_conf.write_text(stale)  # B comes back with the file it had before via-b
        with Gunicorn(app, workers=1, env=b_env, error_log=str(tmp_path / "b2.log")) as b2:
            assert wait_for(lambda: 'slug = "via-b"' in b_conf.read_text(), timeout=10)
            assert wait_for(lambda: call(b2.port, "GET", "/api/services/via-b/status",
                                         admin)[0] == 200, timeout=10)
            # and A kept the newest: the stale file was not pushed back
            assert 'slug = "via-b"' in a_conf.read_text()
        _, health = call(a.port, "GET", "/healthz")
        assert health["config_split"] == 0
