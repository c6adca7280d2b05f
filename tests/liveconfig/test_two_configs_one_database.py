"""Two servers with different recon.toml files on one database are never silently split:
the second is refused at start (``make run``'s path), and processes that do run different
revisions are reported by /healthz, /api/config and the log."""

from __future__ import annotations

import shutil

from conftest import build_app
from helpers import Gunicorn, wait_for
from stream_clients import bearer, call

from recon.monitor.config_split import startup_refusal


def test_a_second_config_on_one_database_is_refused_at_start_and_reported(tmp_path,
                                                                        target_info):
    app = build_app(tmp_path, [target_info])
    admin = bearer(app.config["TEST_TOKENS"]["admin"])
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(tmp_path / "recon.toml", other / "recon.toml")
    with open(other / "recon.toml", "a") as fh:  # the same hosts, plus a channel
        fh.write('\n[notify.ops]\ntype = "webhook"\nurl = "http://127.0.0.1:9/"\n')
    log = tmp_path / "first.log"
    with Gunicorn(app, workers=1, error_log=str(log)) as first:
        assert wait_for(lambda: call(first.port, "GET", "/api/config", admin)[1]["processes"],
                        timeout=10)
        revision = call(first.port, "GET", "/api/config", admin)[1]["revision"]
        with app.app_context():
            assert startup_refusal(revision, "same") is None  # the same file: welcome
            refusal = startup_refusal("0123456789abcdef", str(other / "recon.toml"))
        assert refusal and "different recon.toml" in refusal and revision in refusal
        # Started anyway (gunicorn directly, not make run): both report the split.
        env = {"RECON_CONFIG": str(other / "recon.toml")}
        with Gunicorn(app, workers=1, env=env, error_log=str(tmp_path / "second.log")) as second:
            def split_seen() -> bool:
                _, health = call(first.port, "GET", "/healthz")
                return health["config_split"] >= 1 and health["status"] == "degraded"
            assert wait_for(split_seen, timeout=30)
            _, status = call(second.port, "GET", "/api/config", admin)
            assert status["split"], status
            assert wait_for(lambda: "run another recon.toml" in log.read_text(), timeout=15)
        # The second is gone: the split ends by itself once its membership lapses.
        assert wait_for(lambda: call(first.port, "GET", "/healthz")[1]["config_split"] == 0,
                        timeout=40)
