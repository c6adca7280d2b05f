"""A changed recon.toml is applied by every gunicorn worker without a restart: a unit added
by hand is served by both workers and read by the monitor, an open log stream of a service
that stays goes on, a removed service's stream ends cleanly, and an invalid file is refused
with the running config unchanged."""

from __future__ import annotations

import time

from conftest import build_app
from helpers import Gunicorn, wait_for
from stream_clients import bearer, call, log_stream, open_stream, read_until_closed

EXTRA = """
[[services]]
slug = "demo-flaky"
name = "Flaky"
host = "demo"
unit = "demo-flaky.service"
"""


def _seen_by_every_worker(port: int, headers: dict, slug: str, tries: int = 12) -> bool:
    """``tries`` requests, each on a new connection (gunicorn hands them to either worker),
    all know ``slug``."""
    return all(call(port, "GET", f"/api/services/{slug}/status", headers)[0] == 200
               for _ in range(tries))


def test_a_hand_edited_unit_reaches_every_worker_while_a_stream_stays_open(tmp_path,
                                                                           target_info):
    app = build_app(tmp_path, [target_info])
    admin = bearer(app.config["TEST_TOKENS"]["admin"])
    conf = tmp_path / "recon.toml"
    with Gunicorn(app, workers=2, error_log=str(tmp_path / "server.log")) as server:
        stream = open_stream(server.port, log_stream("demo-web"), admin)
        assert stream.status == 200
        code, _ = call(server.port, "GET", "/api/services/demo-flaky/status", admin)
        assert code == 404
        conf.write_text(conf.read_text() + EXTRA)
        written = time.monotonic()
        assert wait_for(lambda: _seen_by_every_worker(server.port, admin, "demo-flaky"),
                        timeout=10)
        applied = time.monotonic() - written
        # The monitor reads the new unit (its state, not "unknown").
        def state() -> str:
            _, body = call(server.port, "GET", "/api/services", admin)
            return next(s["state"] for s in body["services"] if s["slug"] == "demo-flaky")
        assert wait_for(lambda: state() in ("active", "activating", "failed"), timeout=15)
        ended, _ = read_until_closed(stream, 1.0)
        assert not ended, "the stream of a service that stays must go on"
        # Every process reports the new revision.
        _, status = call(server.port, "GET", "/api/config", admin)
        assert wait_for(lambda: {p["revision"] for p in call(
            server.port, "GET", "/api/config", admin)[1]["processes"]}
            == {status["revision"]}, timeout=10)
        # Removing demo-web by hand ends its stream with a clear error event.
        text = conf.read_text()
        start = text.index('[[services]]\nslug = "demo-web"')
        end = text.index("[[services]]", start + 5)
        conf.write_text(text[:start] + text[end:])
        ended, seen = read_until_closed(stream, 10)
        assert ended and b"service_removed" in seen
        stream.close()
    assert applied < 5, f"applied by both workers {applied:.1f} s after the write"


def test_an_invalid_file_is_refused_and_the_running_config_stays(tmp_path, target_info):
    app = build_app(tmp_path, [target_info])
    admin = bearer(app.config["TEST_TOKENS"]["admin"])
    conf = tmp_path / "recon.toml"
    log = tmp_path / "server.log"
    with Gunicorn(app, workers=2, error_log=str(log)) as server:
        _, before = call(server.port, "GET", "/api/config", admin)
        conf.write_text(conf.read_text() + '\n[[services]]\nslug = "Bad Slug"\nhost = "x"\n')
        code, body = call(server.port, "POST", "/api/config/reload", admin)
        assert code == 422 and body["error"] == "config_invalid", body
        assert any("unknown host 'x'" in e for e in body["errors"]), body
        time.sleep(1.5)  # both watches have seen the file by now
        for _ in range(8):
            code, now = call(server.port, "GET", "/api/config", admin)
            assert now["revision"] == before["revision"]
            assert call(server.port, "GET", "/api/services/demo-web/status", admin)[0] == 200
        assert "is invalid; still running revision" in log.read_text()
        _, audit = call(server.port, "GET", "/api/audit?action=config_reload", admin)
        assert any(e["success"] is False for e in audit["entries"]), audit


def test_an_operator_and_a_viewer_cannot_change_the_config(tmp_path, target_info):
    app = build_app(tmp_path, [target_info])
    conf = tmp_path / "recon.toml"
    before = conf.read_bytes()
    for role in ("viewer", "operator"):
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {app.config['TEST_TOKENS'][role]}"
        for method, path, body in (
                ("get", "/api/config", None), ("post", "/api/config/reload", None),
                ("post", "/api/config/services", {"host": "demo", "unit": "demo-flaky"}),
                ("delete", "/api/config/services/demo-web", None),
                ("post", "/api/config/hosts", {"name": "x"}),
                ("post", "/api/onboarding/hosts/scan", {"name": "x"}),
                ("post", "/api/onboarding/services/preview", {"host": "demo", "unit": "x"}),
                ("get", "/api/onboarding/hosts/demo/check", None),
                ("get", "/api/onboarding/hosts/demo/setup", None)):
            resp = getattr(client, method)(path, json=body)
            assert resp.status_code == 403, (role, path, resp.status_code)
    assert conf.read_bytes() == before


def test_services_added_and_removed_again_and_again_are_read_each_time(tmp_path, target_info):
    """Round after round, a service added (by hand, then through the API) is read by the
    monitor and removed again, with both workers serving."""
    app = build_app(tmp_path, [target_info])
    admin = bearer(app.config["TEST_TOKENS"]["admin"])
    conf = tmp_path / "recon.toml"
    units = ["demo-flaky.service", "demo-worker.service", "demo-cron.service"]
    with Gunicorn(app, workers=2, error_log=str(tmp_path / "server.log")) as server:
        for r in range(3):
            for way in ("hand", "api"):
                slug = f"again-{way}-{r}"
                table = {"slug": slug, "name": slug, "host": "demo", "unit": units[r]}
                block = "".join(f'{k} = "{v}"\n' for k, v in table.items())
                block = f"\n[[services]]\n{block}"
                if way == "hand":
                    conf.write_text(conf.read_text() + block)
                else:
                    code, body = call(server.port, "POST", "/api/config/services", admin, table)
                    assert code == 201, body

                def state(slug: str = slug) -> str | None:
                    _, body = call(server.port, "GET", "/api/services", admin)
                    svc = next((s for s in body["services"] if s["slug"] == slug), None)
                    return svc and not svc.get("pending") and svc["state"]
                assert wait_for(lambda: state() in ("active", "activating", "failed"),
                                timeout=15), (slug, state(),
                                              (tmp_path / "server.log").read_text()[-3000:])
                if way == "hand":
                    conf.write_text(conf.read_text().replace(block, ""))
                else:
                    code, body = call(server.port, "DELETE", f"/api/config/services/{slug}",
                                      admin)
                    assert code == 200, body
                assert wait_for(lambda slug=slug: _seen_nowhere(server.port, admin, slug),
                                timeout=10)


def _seen_nowhere(port: int, headers: dict, slug: str) -> bool:
    return all(call(port, "GET", f"/api/services/{slug}/status", headers)[0] == 404
               for _ in range(8))
