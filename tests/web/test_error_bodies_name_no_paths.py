"""Only admins see file paths in error bodies (issue 24, item 12): a viewer or an operator
gets the same error code and hint, but neither the dashboard's private-key path nor the
known_hosts path (the ssh troubleshooting command, with ``-i KEY`` and
``UserKnownHostsFile=``, is for admins)."""

from __future__ import annotations

import dataclasses
import json

from conftest import client_for, copy_key

from recon.ssh.errors import HostKeyUnknown, KeyUnreadable


def key_app(make_app, target_info, tmp_path, name: str):
    """An app whose key file turns into garbage after the config was checked."""
    key = tmp_path / f"{name}_key"
    copy_key(target_info, key)
    key.chmod(0o600)
    app = make_app([dataclasses.replace(target_info, key_path=key)], monitor=False)
    key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nnot a key\n")
    return app, str(key)


def test_key_unreadable_names_the_key_path_to_admins_only(make_app, target_info, tmp_path):
    app, key = key_app(make_app, target_info, tmp_path, "viewer")
    known_hosts = app.config["RECON_KNOWN_HOSTS"]
    seen, hints = [], []
    for role, method, url in (("viewer", "GET", "/api/services/demo-web/status?fresh=1"),
                              ("operator", "POST", "/api/services/demo-web/restart"),
                              ("viewer", "GET", "/api/services/demo-web/status?fresh=1")):
        resp = client_for(app, role).open(url, method=method)
        body = resp.get_json()
        seen.append(body["error"])
        hints.append(body["hint"])
        text = json.dumps(body)
        assert key not in text, (role, body)
        assert str(known_hosts) not in text and "UserKnownHostsFile" not in text, body
        assert "ssh" not in body, body
    # The first answer is the error itself, with its hint (later ones: host_down, during
    # the connection's back-off).
    assert seen[0] == "key_unreadable" and hints[0] == KeyUnreadable.hint
    admin_app, admin_key = key_app(make_app, target_info, tmp_path, "admin")
    resp = client_for(admin_app).get("/api/services/demo-web/status?fresh=1")
    body = resp.get_json()
    assert body["error"] == "key_unreadable" and resp.status_code == 500
    assert body["hint"].startswith(KeyUnreadable.hint)
    assert f"-i {admin_key}" in body["ssh"] and admin_key in body["hint"]


def test_an_unknown_host_key_hides_the_known_hosts_path_from_viewers(make_app, target_info,
                                                                     tmp_path):
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    app = make_app([target_info], known_hosts=empty, monitor=False)
    viewer = client_for(app, "viewer").get("/api/services/demo-web/status?fresh=1")
    body = viewer.get_json()
    assert body["error"] == "host_key_unknown" and body["hint"] == HostKeyUnknown.hint
    text = json.dumps(body)
    assert "ssh" not in body and str(empty) not in text and str(target_info.key_path) not in text
    admin_app = make_app([target_info], known_hosts=empty, monitor=False)
    admin = client_for(admin_app).get("/api/services/demo-web/status?fresh=1").get_json()
    assert admin["error"] == "host_key_unknown"
    assert f"UserKnownHostsFile={empty}" in admin["ssh"]
