"""Users and tokens managed by admins, through the API and the CLI; a change with one bad value
changes nothing."""

from __future__ import annotations

from conftest import client_for

from recon.auth.accounts import find_user

PASSWORD = "correct horse battery"


def test_admin_manages_users_through_the_api(app):
    admin = client_for(app)
    made = admin.post("/api/users", json={"username": "vic", "password": PASSWORD,
                                          "role": "viewer"})
    assert made.status_code == 201
    assert admin.post("/api/users", json={"username": "vic", "password": PASSWORD,
                                          "role": "viewer"}).status_code == 409
    weak = admin.post("/api/users", json={"username": "w", "password": "short",
                                          "role": "viewer"})
    assert weak.status_code == 400 and weak.get_json()["error"] == "weak_password"
    newline = admin.post("/api/users", json={"username": "vic\n", "password": PASSWORD,
                                             "role": "viewer"})
    assert newline.status_code == 400 and newline.get_json()["error"] == "invalid_username"
    assert admin.patch("/api/users/vic", json={"role": "operator"}).get_json()["role"] == \
        "operator"
    assert admin.delete("/api/users/vic").status_code == 200
    assert admin.delete("/api/users/vic").status_code == 404


def test_cli_manages_users_and_tokens(app):
    runner = app.test_cli_runner()
    out = runner.invoke(args=["recon", "users", "add", "carol", "--role", "viewer",
                              "--generate"])
    assert out.exit_code == 0 and "password (shown once)" in out.output
    assert "carol\tviewer" in runner.invoke(args=["recon", "users", "list"]).output
    assert runner.invoke(args=["recon", "users", "passwd", "carol", "--generate"]).exit_code == 0
    out = runner.invoke(args=["recon", "tokens", "add", "backup", "--role", "viewer"])
    raw = out.output.strip().splitlines()[-1]
    assert raw.startswith("recon_")
    listing = runner.invoke(args=["recon", "tokens", "list"]).output
    assert "backup" in listing and raw not in listing
    assert runner.invoke(args=["recon", "tokens", "revoke", "backup"]).exit_code == 0
    assert runner.invoke(args=["recon", "users", "remove", "carol"]).exit_code == 0
    assert runner.invoke(args=["recon", "users", "remove", "carol"]).exit_code == 1


def test_patch_user_with_a_bad_password_changes_nothing(app):
    admin = client_for(app)
    assert admin.post("/api/users", json={"username": "vic", "password": PASSWORD,
                                          "role": "viewer"}).status_code == 201
    before = len(admin.get("/api/audit?action=user_change").get_json()["entries"])
    resp = admin.patch("/api/users/vic", json={"role": "admin", "password": "short"})
    assert resp.status_code == 400 and resp.get_json()["error"] == "weak_password"
    with app.app_context():
        assert find_user("vic").role == "viewer"
    resp = admin.patch("/api/users/vic", json={"role": "wizard", "password": PASSWORD + "2"})
    assert resp.status_code == 400
    with app.app_context():
        assert find_user("vic").check_password(PASSWORD)
    assert len(admin.get("/api/audit?action=user_change").get_json()["entries"]) == before
    ok = admin.patch("/api/users/vic", json={"role": "operator", "password": PASSWORD + "2"})
    assert ok.status_code == 200 and ok.get_json()["role"] == "operator"
    rows = admin.get("/api/audit?action=user_change").get_json()["entries"]
    assert len(rows) == before + 1 and "role" in rows[0]["output"]
