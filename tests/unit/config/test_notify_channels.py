"""[notify.NAME] channels: validated with every error at once, secrets from the environment,
never shown."""

from pathlib import Path

import pytest
from config_data import errors_of, good

from recon.config import parse_config


def with_notify(key_path: Path, notify: dict) -> dict:
    return {**good(key_path), "notify": notify}


def test_three_channel_types_parse_with_defaults_and_secrets_from_the_environment(
        key, tmp_path):
    data = with_notify(key, {
        "hook": {"type": "webhook", "url": "https://example.com/hook",
                 "secret_env": "HOOK_SECRET", "events": ["unit_failed", "unit_recovered"],
                 "services": ["web"]},
        "chat": {"type": "slack", "url_env": "RECON_SLACK_URL", "hosts": ["web1"],
                 "for_seconds": 30},
        "mail": {"type": "email", "smtp_host": "smtp.example.com", "username": "recon",
                 "password_env": "SMTP_PW", "from": "recon@example.com",
                 "to": ["ops@example.com"]}})
    env = {"HOOK_SECRET": "s3cret-hmac", "RECON_SLACK_URL": "https://chat.example/hooks/XYZ",
           "SMTP_PW": "hunter2-pw"}
    cfg = parse_config(data, tmp_path / "recon.toml", tmp_path, env)
    hook, chat, mail = cfg.notify["hook"], cfg.notify["chat"], cfg.notify["mail"]
    assert hook.secret == "s3cret-hmac" and hook.events == {"unit_failed", "unit_recovered"}
    assert chat.url == "https://chat.example/hooks/XYZ" and chat.for_seconds == 30
    assert len(chat.events) == 7 and chat.group_seconds == 600
    assert (mail.smtp_port, mail.security, mail.password) == (587, "starttls", "hunter2-pw")
    shown = repr(cfg.notify) + str([c.public() for c in cfg.notify.values()])
    for secret in env.values():
        assert secret not in shown
    assert "example.com/hook" not in shown


def test_bad_channels_are_all_reported_with_file_and_key(key, tmp_path):
    errors = errors_of(with_notify(key, {
        "a": {"type": "pager"},
        "b": {"type": "webhook", "url": "ftp://x", "events": ["unit_exploded"],
              "services": ["nope"], "for_seconds": -1, "colour": "red", "max_attempts": 2.5},
        "c": {"type": "slack", "url_env": "MISSING_VAR"},
        "d": {"type": "email", "smtp_host": "smtp", "username": "u", "from": "nobody",
              "to": []},
    }), tmp_path, {})
    text = "\n".join(errors)
    assert "notify.a.type: unknown channel type 'pager' (one of webhook, slack, email)" in text
    assert "notify.b.events: unknown event 'unit_exploded'" in text
    assert "notify.b.url: must be an http:// or https:// URL" in text
    assert "notify.b.services: unknown service 'nope'" in text
    assert "notify.b.for_seconds: -1 is out of range" in text
    assert "notify.b.colour: unknown key for a webhook channel" in text
    assert "notify.b.max_attempts: expected a whole number" in text
    assert "notify.c.url_env: environment variable MISSING_VAR is not set" in text
    assert "notify.d.password: missing" in text and "notify.d.from:" in text
    assert "notify.d.to: must be a non-empty list" in text
    assert all(e.startswith(str(tmp_path / "recon.toml")) for e in errors)
    assert "ftp://x" not in text  # a URL may be a secret: never echoed


@pytest.mark.parametrize("notify", [[], {"x": "webhook"}])
def test_notify_must_be_tables(key, tmp_path, notify):
    assert errors_of(with_notify(key, notify), tmp_path)
