"""/healthz: answers from the config alone, sending nothing to any host, and discloses no
path."""

from __future__ import annotations

from conftest import client_for

from recon.web.context import runtime


def test_healthz_does_not_disclose_the_config_path(app, anon):
    text = anon.get("/healthz").get_data(as_text=True)
    source = str(runtime(app).config.source)
    assert source not in text and "recon.toml" not in text and "/" not in text.replace(
        "\\/", "")


def test_healthz_needs_no_ssh(make_app, target_info, target):
    client = client_for(make_app([target_info], monitor=False))
    before = len(target.command_log())
    body = client.get("/healthz").get_json()
    assert body["ok"] is True and body["services"] >= 4
    assert len(target.command_log()) == before
