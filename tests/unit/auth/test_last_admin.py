"""An admin can manage every user but never leave RECON without an admin user: removing or
demoting the only admin is refused (409 ``last_admin``, with a hint) and changes nothing, through
the API and the CLI alike, and two admins demoting each other at once leave one; with a second
admin both work, one's own account included."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from flask import Flask
from pg_cluster import app_database_uri

from recon import create_app
from recon.auth.accounts import AccountError, create_token, create_user, find_user, set_role

PASSWORD = "correct horse battery"


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    config = tmp_path / "recon.toml"
    config.write_text("[settings]\n")
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "RECON_CONFIG": str(config),
                      "SQLALCHEMY_DATABASE_URI": app_database_uri(tmp_path)})
    with app.app_context():
        app.config["TOKEN"] = create_token("root", "admin")[1]
        create_user("ada", PASSWORD, "admin")
        create_user("olga", PASSWORD, "operator")
    return app


@pytest.fixture
def admin(app: Flask):
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {app.config['TOKEN']}"
    return client


@pytest.mark.parametrize("method, body", [("DELETE", None), ("PATCH", {"role": "operator"}),
                                          ("PATCH", {"role": "viewer", "password": PASSWORD})])
def test_the_only_admin_is_neither_removed_nor_demoted(app, admin, method, body):
    resp = admin.open("/api/users/ada", method=method, json=body)
    assert resp.status_code == 409, resp.get_json()
    err = resp.get_json()
    assert err["error"] == "last_admin" and "only admin" in err["message"] and err["hint"]
    with app.app_context():
        assert find_user("ada").role == "admin"
    assert admin.get("/api/audit?action=user_change").get_json()["entries"] == []
    assert admin.get("/api/audit?action=user_remove").get_json()["entries"] == []


def test_the_only_admin_may_still_change_their_password(admin):
    resp = admin.patch("/api/users/ada", json={"password": PASSWORD + "!"})
    assert resp.status_code == 200 and resp.get_json()["role"] == "admin"


def test_with_a_second_admin_one_may_be_demoted_and_then_the_other_is_the_last(app, admin):
    assert admin.patch("/api/users/olga", json={"role": "admin"}).status_code == 200
    assert admin.patch("/api/users/ada", json={"role": "viewer"}).status_code == 200
    refused = admin.delete("/api/users/olga")
    assert refused.status_code == 409 and refused.get_json()["error"] == "last_admin"
    assert admin.delete("/api/users/ada").status_code == 200


def test_the_cli_keeps_the_rule_too(app):
    runner = app.test_cli_runner()
    out = runner.invoke(args=["recon", "users", "remove", "ada"])
    assert out.exit_code == 1 and "only admin" in out.output
    with app.app_context():
        assert find_user("ada") is not None


def test_two_admins_demoting_each_other_at_once_leave_one_admin(app):
    """Each check runs under SQLite's write lock: the second sees the first's demotion."""
    with app.app_context():
        set_role("olga", "admin")
    barrier, outcomes = threading.Barrier(2), []

    def demote(name: str) -> None:
        with app.app_context():
            barrier.wait()
            try:
                set_role(name, "viewer")
                outcomes.append("ok")
            except AccountError as exc:
                outcomes.append(exc.code)

    threads = [threading.Thread(target=demote, args=(n,)) for n in ("ada", "olga")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["last_admin", "ok"]
    with app.app_context():
        assert sorted(find_user(n).role for n in ("ada", "olga")) == ["admin", "viewer"]
