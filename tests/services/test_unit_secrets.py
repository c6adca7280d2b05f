"""A unit's secrets on its detail view, against the real host: a drop-in hands demo-worker a
password in ``Environment=``, a command argument and a credential. Viewers, operators and
admins see them redacted; only an admin, where the service sets ``reveal_secrets``, sees them."""

from __future__ import annotations

import json
import os

import pytest
from conftest import client_for
from pg_cluster import app_database_uri

from recon import create_app
from recon.auth.accounts import create_token
from recon.demo.recon_config import demo_config_toml
from recon.web.context import runtime
from recon.web.policy import ROLES

SECRET = "hunter2"
DROPIN = ("[Service]\n"
          f"Environment=DB_PASSWORD={SECRET} LOG_LEVEL=debug\n"
          f"ExecStartPre=/bin/true --token={SECRET}-arg\n"
          f"SetCredential=dbpass:{SECRET}-cred\n")
DROPIN_PATH = "/run/systemd/system/demo-worker.service.d/secret.conf"


@pytest.fixture
def secret_dropin(target):
    """demo-worker's drop-in with secrets, loaded by systemd (the running unit needs no
    restart: ``systemctl show`` reports what was loaded)."""
    target.set_dropin("demo-worker.service", "secret", DROPIN)
    yield target
    target.set_dropin("demo-worker.service", "secret", None)


def _unit(app, role: str) -> dict:
    resp = client_for(app, role).get("/api/services/demo-worker/unit")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


@pytest.mark.parametrize("role", ROLES)
def test_a_units_secrets_are_hidden_from_every_role_by_default(make_app, target_info,
                                                               secret_dropin, role):
    body = _unit(make_app([target_info]), role)
    assert SECRET not in json.dumps(body)
    assert body["redacted"] is True
    assert "Environment=DB_PASSWORD=(hidden) LOG_LEVEL=(hidden)" in body["file"]
    assert "ExecStartPre=/bin/true (arguments hidden)" in body["file"]
    assert "SetCredential=dbpass:(hidden)" in body["file"]
    props = body["properties"]
    assert props["Environment"] == "DB_PASSWORD=(hidden) LOG_LEVEL=(hidden)"
    assert "argv[]=/bin/true (arguments hidden) ;" in props["ExecStartPre"]
    assert "path=/bin/true" in props["ExecStartPre"]  # what runs stays readable


def test_the_status_text_hides_the_arguments_of_the_commands_that_ran(make_app, target_info,
                                                                      secret_dropin):
    secret_dropin.systemctl("restart", "demo-worker.service")  # ExecStartPre runs now
    raw = secret_dropin.systemctl("status", "--no-pager", "demo-worker.service").stdout
    assert f"ExecStartPre=/bin/true --token={SECRET}-arg" in raw  # what systemd shows
    body = _unit(make_app([target_info]), "viewer")
    assert "ExecStartPre=/bin/true (arguments hidden) (code=exited" in body["status_text"]
    assert SECRET not in body["status_text"]


def test_a_0600_dropin_still_leaks_through_show_and_is_hidden_there(make_app, target_info,
                                                                    secret_dropin):
    os.chmod(secret_dropin.path(DROPIN_PATH), 0o600)  # `systemctl cat` cannot read it now
    body = _unit(make_app([target_info]), "viewer")
    assert body["file"] is None and "Permission denied" in body["file_error"]
    assert body["properties"]["Environment"] == "DB_PASSWORD=(hidden) LOG_LEVEL=(hidden)"
    assert SECRET not in json.dumps(body)


@pytest.fixture
def revealing_app(tmp_path, target_info):
    """An app whose demo-worker sets ``reveal_secrets = true`` (tokens for every role)."""
    toml = demo_config_toml([target_info], known_hosts=target_info.known_hosts_path)
    line = 'unit = "demo-worker.service"\n'
    assert line in toml
    (tmp_path / "recon.toml").write_text(toml.replace(line, line + "reveal_secrets = true\n"))
    app = create_app({"TESTING": True, "SECRET_KEY": "t",
                      "RECON_CONFIG": str(tmp_path / "recon.toml"),
                      "SQLALCHEMY_DATABASE_URI": app_database_uri(tmp_path)})
    assert runtime(app).config.services["demo-worker"].reveal_secrets
    assert not runtime(app).config.services["demo-web"].reveal_secrets
    with app.app_context():
        app.config["TEST_TOKENS"] = {r: create_token(f"t-{r}", r)[1] for r in ROLES}
    yield app
    runtime(app).executor.close_all()


def test_only_an_admin_sees_the_secrets_and_only_where_the_service_opts_in(revealing_app,
                                                                           secret_dropin):
    for role in ("viewer", "operator"):
        body = _unit(revealing_app, role)
        assert SECRET not in json.dumps(body) and body["redacted"] is True, role
    body = _unit(revealing_app, "admin")
    assert body["redacted"] is False
    assert f"Environment=DB_PASSWORD={SECRET} LOG_LEVEL=debug" in body["file"]
    assert f"ExecStartPre=/bin/true --token={SECRET}-arg" in body["file"]
    assert body["properties"]["Environment"] == f"DB_PASSWORD={SECRET} LOG_LEVEL=debug"
    assert f"argv[]=/bin/true --token={SECRET}-arg" in body["properties"]["ExecStartPre"]
    # the opt-in is the service's own: another service stays redacted for admins too
    web = client_for(revealing_app, "admin").get("/api/services/demo-web/unit").get_json()
    assert web["redacted"] is True and "DEMO_PORT=(hidden)" in web["file"]
