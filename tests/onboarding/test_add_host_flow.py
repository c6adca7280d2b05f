"""Adding a host from the API the browser's form calls, against a real host that has none of
RECON's rules yet: its key shown and trusted only once confirmed, the public key and sudoers
to install, `recon check`'s gates with their fixes, then a managed unit that starts and stops.
"""

from __future__ import annotations

from pathlib import Path

from conftest import client_for
from fresh_host import install_sudoers

from recon.config import load_config


def test_a_new_host_is_added_checked_and_its_unit_managed(make_app, target_info, fresh):
    app = make_app([target_info])
    admin = client_for(app, "admin")
    conf = Path(app.config["RECON_CONFIG"])
    info = fresh.info
    form = {"name": "fresh", "address": info.address, "port": info.port, "user": info.user,
            "key": str(info.key_path)}

    # 1. A bad value is refused with every error; nothing written.
    bad = admin.post("/api/onboarding/hosts/scan", json={**form, "user": "no spaces"})
    assert bad.status_code == 422 and bad.json["error"] == "config_invalid"
    assert any("user" in e for e in bad.json["errors"])

    # 2. The key the host offers, with the command that shows it on the host.
    scan = admin.post("/api/onboarding/hosts/scan", json=form)
    assert scan.status_code == 200, scan.json
    offered = scan.json
    assert offered["fingerprint"].startswith("SHA256:") and offered["trusted"] is False
    assert "ssh-keygen -lf" in offered["verify_on_host"]
    before = open(conf, "rb").read()

    # 3. A fingerprint that is not the host's is refused: never auto-accepted.
    wrong = admin.post("/api/config/hosts", json={**form, "fingerprint": "SHA256:forged"})
    assert wrong.status_code == 409 and wrong.json["error"] == "host_key_mismatch"
    missing = admin.post("/api/config/hosts", json=form)
    assert missing.status_code == 400 and missing.json["error"] == "invalid_parameter"
    assert open(conf, "rb").read() == before

    # 4. Confirmed: trusted, added, and what to install on the host.
    added = admin.post("/api/config/hosts", json={**form, "fingerprint": offered["fingerprint"]})
    assert added.status_code == 201, added.json
    assert added.json["public_key"].startswith("ssh-ed25519 ")
    assert "fresh" in load_config(conf).hosts
    assert admin.post("/api/onboarding/hosts/scan", json={**form, "name": "fresh2"}
                      ).json["trusted"] is True

    # 5. Choosing a unit: the exact sudoers lines before saving.
    choice = {"host": "fresh", "unit": "demo-web", "actions": ["status", "start", "stop",
                                                               "logs"]}
    preview = admin.post("/api/onboarding/services/preview", json=choice)
    assert preview.status_code == 200, preview.json
    rules = preview.json["sudoers"]
    assert any(r.endswith("systemctl start demo-web.service") for r in rules), rules
    assert not any("restart" in r for r in rules)
    saved = admin.post("/api/config/services", json=choice)
    assert saved.status_code == 201, saved.json
    slug = saved.json["service"]["slug"]
    assert slug == "fresh-demo-web"

    # 6. The gates: sudo refused (no drop-in yet) with its fix; then installed, all pass.
    gates = admin.get("/api/onboarding/hosts/fresh/check").json
    assert gates["ok"] is False
    failed = [g for g in gates["gates"] if not g["ok"]]
    assert failed and all(g["fix"] for g in failed), gates
    assert any(g["ok"] and "key auth" in g["what"] for g in gates["gates"])
    install_sudoers(fresh, admin.get("/api/onboarding/hosts/fresh/setup").json["sudoers"])
    gates = admin.get("/api/onboarding/hosts/fresh/check").json
    assert gates["ok"] is True, gates

    # 7. The managed unit stops and starts from the dashboard's API.
    op = client_for(app, "operator")
    for action, state in (("stop", "inactive"), ("start", "active")):
        done = op.post(f"/api/services/{slug}/{action}")
        assert done.status_code == 200 and done.json["success"] is True, done.json
        assert fresh.show("demo-web.service", "ActiveState")["ActiveState"] == state

    # 8. Every change is in the audit log with its diff.
    entries = admin.get("/api/audit?limit=50").json["entries"]
    actions = [e["action"] for e in entries]
    for want in ("host_trust", "config_host_add", "config_service_add"):
        assert want in actions, actions
    add = next(e for e in entries if e["action"] == "config_service_add")
    assert '+unit = "demo-web.service"' in add["output"]

    # 9. Removing the service works the same way.
    gone = admin.delete(f"/api/config/services/{slug}")
    assert gone.status_code == 200 and slug not in load_config(conf).services
    assert admin.get(f"/api/services/{slug}/status").status_code == 404
