"""`recon hosts trust` against the real target: the host key is written only after
confirmation, and a changed key needs --replace and is audited."""

from __future__ import annotations

from recon.ssh.hostkeys import known_hosts_name


def test_trust_writes_the_key_only_after_confirmation(make_app, target_info, tmp_path):
    kh = tmp_path / "kh"
    kh.write_text("")
    app = make_app([target_info], known_hosts=kh)
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["recon", "hosts", "trust", "demo"], input="n\n")
    assert refused.exit_code != 0 and "SHA256:" in refused.output
    assert "ssh-keygen -lf" in refused.output and kh.read_text() == ""
    ok = runner.invoke(args=["recon", "hosts", "trust", "demo", "--yes"])
    assert ok.exit_code == 0, ok.output
    assert target_info.host_key_line.split()[2] in kh.read_text()
    assert client_ok(app)


def test_a_changed_key_needs_replace_and_is_audited(make_app, target_info, tmp_path):
    kh = tmp_path / "kh"
    other = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
    name = known_hosts_name(target_info.address, target_info.port)
    kh.write_text(f"{name} ssh-ed25519 {other}\n")
    app = make_app([target_info], known_hosts=kh)
    runner = app.test_cli_runner()
    out = runner.invoke(args=["recon", "hosts", "trust", "demo", "--yes"])
    assert out.exit_code != 0 and "CHANGED" in out.output
    out = runner.invoke(args=["recon", "hosts", "trust", "demo", "--yes", "--replace"])
    assert out.exit_code == 0, out.output
    assert other not in kh.read_text()
    from recon.audit.models import AuditEntry
    with app.app_context():
        assert AuditEntry.query.filter_by(action="host_key_replace").count() == 1


def client_ok(app) -> bool:
    from conftest import client_for
    return client_for(app).get("/api/services/demo-web/status?fresh=1").get_json()["active"]
