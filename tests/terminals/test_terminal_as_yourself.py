"""Terminals "as yourself" on the real target: a RECON user mapped to a host login gets a shell
as that login (its own sudo rule, its systemd-journal group) with the key RECON holds for
them; an unmapped caller gets the shared terminal_user; the page's identity line and its
`sudo -n -l` summary; `recon check`'s gates for the login; the key's life (0600, rotated,
revoked with the user)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from stream_clients import form_login
from terminal_fixtures import LiveServer, TtyClient, attach, close_all, open_terminal

from recon.auth.accounts import create_user, remove_user, update_user
from recon.terminals import userkeys

LOGIN = "alice-adm"
PASSWORD = "alice-password-1"
# Its own rule, none of RECON's: `sudo -n /usr/bin/id -un` answers root.
OWN_RULE = f"{LOGIN} ALL=(root) NOPASSWD: /usr/bin/id\n"
SSHD_DROPIN = "/etc/ssh/sshd_config.d/zz-test-mapped.conf"
MAPPING = f'\n[hosts.demo.terminal_users]\nalice = "{LOGIN}"\n'


@pytest.fixture(scope="module")
def mapped_login(target):
    """A login of alice's own on the target, as the README's host-side steps make it."""
    target.run(["useradd", "--create-home", "--user-group", "--shell", "/bin/bash",
                "--groups", "systemd-journal", LOGIN])
    target.run(["usermod", "-p", "*", LOGIN])  # key logins only (no password matches '*')
    target.run(["install", "-d", "-m", "0700", "-o", LOGIN, "-g", LOGIN, f"/home/{LOGIN}/.ssh"])
    sudoers = target.path(f"/etc/sudoers.d/{LOGIN}")
    sudoers.write_text(OWN_RULE)
    sudoers.chmod(0o440)
    # The demo's sshd admits only its two logins; AllowUsers lines add up.
    target.path(SSHD_DROPIN).write_text(f"AllowUsers {LOGIN}\n")
    target.systemctl("reload", "ssh.service")
    yield target
    target.path(SSHD_DROPIN).unlink()
    sudoers.unlink(missing_ok=True)
    target.systemctl("reload", "ssh.service")
    target.run(["pkill", "-KILL", "-u", LOGIN], check=False)
    target.run(["userdel", "--remove", LOGIN], check=False)


def authorize(host, line: str) -> None:
    keys = host.path(f"/home/{LOGIN}/.ssh/authorized_keys")
    keys.write_text(line + "\n")
    keys.chmod(0o600)
    host.run(["chown", f"{LOGIN}:{LOGIN}", f"/home/{LOGIN}/.ssh/authorized_keys"])


@pytest.fixture
def keys_dir(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "user-keys"
    monkeypatch.setenv("RECON_TERMINAL_KEYS_DIR", str(path))
    return path


@pytest.fixture
def mapped_app(make_app, target_info, term_env, keys_dir, mapped_login):
    """An app mapping alice to LOGIN on demo, alice an operator, her key installed."""
    app = make_app([target_info], extra_toml=MAPPING, monitor=False)
    with app.app_context():
        create_user("alice", PASSWORD, "operator")
        line, created = userkeys.ensure("alice")
    assert created
    authorize(mapped_login, line)
    yield app
    close_all(app)


@pytest.fixture
def alice(mapped_app):
    server = LiveServer(mapped_app)
    headers, csrf = form_login(server.port, "alice", PASSWORD)
    yield server, headers, csrf
    server.stop()


def open_as(server: LiveServer, headers: dict, csrf: str) -> dict:
    status, body, _ = server.request("POST", "/api/terminals", body={"host": "demo"},
                                     headers={**headers, "X-CSRF-Token": csrf})
    assert status in (200, 201), body
    return body["session"]


def attach_as(server: LiveServer, headers: dict, sess: dict) -> TtyClient:
    status, tok, _ = server.request("GET", sess["url"] + "tty/token", headers=headers)
    assert status == 200, tok
    client = TtyClient.connect(server.url + sess["url"] + "tty/ws", headers=headers)
    client.hello(tok["token"])
    return client


def test_a_mapped_users_shell_is_their_own_login_with_its_own_sudo_and_journal(alice):
    server, headers, csrf = alice
    sess = open_as(server, headers, csrf)
    client = attach_as(server, headers, sess)
    client.send_input("echo who-$((1+1))=$(id -un) sudo=$(sudo -n /usr/bin/id -un) "
                      "journal=$(journalctl -u demo-web.service -n 3 -q --no-pager | grep -c .)"
                      "\r")
    out = client.read_until(b"who-2=")
    out = client.read_until(b"\n", timeout=5) if not out.split(b"who-2=")[1].count(b"\n") \
        else out
    line = next(ln for ln in out.decode(errors="replace").splitlines() if "who-2=" in ln)
    assert f"who-2={LOGIN}" in line and "sudo=root" in line, out[-400:]
    assert int(line.split("journal=")[1].split()[0]) > 0, line  # systemd-journal reads logs
    # RECON's rules are not hers: sudo refuses RECON's restart without a password
    client.send_input("sudo -n /usr/bin/systemctl restart demo-web.service; echo rc-$((40+2))=$?"
                      "\r")
    assert b"rc-42=1" in client.read_until(b"rc-42=")
    client.close()


def test_the_page_says_who_you_are_and_what_the_login_may_do(alice):
    server, headers, csrf = alice
    sess = open_as(server, headers, csrf)
    status, ident, _ = server.request("GET", f"/api/terminals/{sess['id']}/identity",
                                      headers=headers)
    assert status == 200 and ident["login"] == LOGIN and ident["mapped"] and ident["key"] == "user"
    status, ident, _ = server.request("GET", f"/api/terminals/{sess['id']}/identity/sudo",
                                      headers=headers)
    assert status == 200, ident
    probe = ident["probe"]
    assert probe["sudo"] == "rules" and probe["rules"] == ["(root) NOPASSWD: /usr/bin/id"]
    assert probe["summary"] == "may run: (root) NOPASSWD: /usr/bin/id (1 rule)"
    assert "systemd-journal" in probe["groups"]
    status, page, _ = server.request("GET", sess["url"], headers=headers)
    assert b'id="term-identity"' in page and b"terminal_identity.js" in page


def test_an_unmapped_caller_gets_the_shared_login_with_no_sudo(mapped_app, target_info):
    server = LiveServer(mapped_app)
    try:
        token = mapped_app.config["TEST_TOKENS"]["operator"]
        sess = open_terminal(server, token)
        client = attach(server, token, sess)
        client.send_input("echo who-$((1+1))=$(id -un)\r")
        client.read_until(f"who-2={target_info.terminal_user}".encode())
        client.close()
        auth = {"Authorization": f"Bearer {token}"}
        _, ident, _ = server.request("GET", f"/api/terminals/{sess['id']}/identity/sudo",
                                     headers=auth)
        assert ident["login"] == target_info.terminal_user and not ident["mapped"]
        assert ident["probe"]["sudo"] in ("password", "none"), ident
        assert ident["probe"]["rules"] == []
    finally:
        server.stop()


def test_a_mapped_user_without_a_key_is_refused_with_the_command_that_makes_it(
        make_app, target_info, term_env, keys_dir):
    app = make_app([target_info], extra_toml=MAPPING, monitor=False)
    with app.app_context():
        create_user("alice", PASSWORD, "operator")
    server = LiveServer(app)
    try:
        headers, csrf = form_login(server.port, "alice", PASSWORD)
        status, body, _ = server.request("POST", "/api/terminals", body={"host": "demo"},
                                         headers={**headers, "X-CSRF-Token": csrf})
        assert status == 409 and body["error"] == "terminal_key_missing"
        assert "recon terminal-key show alice" in body["hint"]
    finally:
        server.stop()


def test_check_gates_pass_for_a_set_up_login_and_fail_with_a_fix(mapped_app, mapped_login):
    out = mapped_app.test_cli_runner().invoke(args=["recon", "check"])
    assert out.exit_code == 0, out.output
    assert f"mapped login {LOGIN} (for alice): key auth" in out.output
    assert f"mapped login {LOGIN} (for alice) has no RECON sudo rights" in out.output
    # Give the login one of RECON's rules: the gate fails and names the fix.
    sudoers = mapped_login.path(f"/etc/sudoers.d/{LOGIN}")
    sudoers.write_text(OWN_RULE + f"{LOGIN} ALL=(root) NOPASSWD: /usr/bin/systemctl "
                       "restart demo-web.service\n")
    try:
        out = mapped_app.test_cli_runner().invoke(args=["recon", "check"])
    finally:
        sudoers.write_text(OWN_RULE)
    assert out.exit_code == 1
    assert "(sudo allows: demo-web restart)" in out.output
    assert f"Remove the sudoers rules that give {LOGIN} RECON's commands" in out.output
    # A key the host does not know: key auth fails, with how to install it.
    with mapped_app.app_context():
        userkeys.rotate("alice")
    out = mapped_app.test_cli_runner().invoke(args=["recon", "check"])
    assert out.exit_code == 1
    assert any(ln.startswith("FAIL") and f"mapped login {LOGIN} (for alice): key auth" in ln
               for ln in out.output.splitlines()), out.output
    assert "terminal-key show alice" in out.output


def test_the_key_is_0600_rotated_and_revoked_with_the_user(mapped_app, keys_dir):
    client = mapped_app.test_client()
    admin = {"Authorization": f"Bearer {mapped_app.config['TEST_TOKENS']['admin']}"}
    operator = {"Authorization": f"Bearer {mapped_app.config['TEST_TOKENS']['operator']}"}
    path = keys_dir / "alice" / "id_ed25519"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    first = client.get("/api/users/alice/terminal-key", headers=admin).get_json()["public_key"]
    assert first.startswith("ssh-ed25519 ") and "recon-terminal:alice@" in first
    assert client.post("/api/users/alice/terminal-key/rotate",
                       headers=operator).status_code == 403
    assert client.get("/api/users/alice/terminal-key", headers=operator).status_code == 403
    rotated = client.post("/api/users/alice/terminal-key/rotate", headers=admin).get_json()
    assert rotated["public_key"] != first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    audit = client.get("/api/audit?limit=20", headers=admin).get_json()
    assert "terminal_key.rotate" in json.dumps(audit)
    with mapped_app.app_context():
        update_user("alice", password="another-password-2")  # rights kept: key kept
        assert userkeys.existing("alice") == rotated["public_key"]
        update_user("alice", role="viewer")  # below operator: key deleted
        assert not path.exists()
        update_user("alice", role="operator")
        userkeys.ensure("alice")
        remove_user("alice")
        assert not path.parent.exists()


def test_the_cli_prints_rotates_and_revokes_a_key(mapped_app, keys_dir):
    runner = mapped_app.test_cli_runner()
    shown = runner.invoke(args=["recon", "terminal-key", "show", "alice"])
    assert shown.exit_code == 0 and shown.output.startswith("ssh-ed25519 ")
    rotated = runner.invoke(args=["recon", "terminal-key", "rotate", "alice"])
    assert rotated.exit_code == 0 and rotated.output.split()[1] != shown.output.split()[1]
    assert runner.invoke(args=["recon", "terminal-key", "revoke", "alice"]).exit_code == 0
    assert not (keys_dir / "alice").exists()
    refused = runner.invoke(args=["recon", "terminal-key", "rotate", "nobody"])
    assert refused.exit_code != 0 and "no user 'nobody'" in refused.output


def test_the_terminal_page_in_chromium_as_a_mapped_user(browsing, mapped_app):
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import expect

    server = LiveServer(mapped_app)
    try:
        page = browsing.login(server, "alice", password=PASSWORD)
        session = page.evaluate("""async () => {
            const token = document.querySelector('meta[name="csrf-token"]').content;
            const r = await fetch('/api/terminals', {method: 'POST', credentials: 'same-origin',
              headers: {'Content-Type': 'application/json', 'X-CSRF-Token': token},
              body: JSON.stringify({host: 'demo'})});
            return (await r.json()).session;
        }""")
        page.goto(f"/terminals/{session['id']}/")
        expect(page.locator("#term-who")).to_have_text(
            f"You are {LOGIN} on demo (your own login)")
        expect(page.locator("#term-rights")).to_contain_text(
            "may run: (root) NOPASSWD: /usr/bin/id (1 rule)")
        expect(page.locator("#term-rights")).to_contain_text("systemd-journal")
        shell = page.frame_locator("#term-frame").locator("#out")
        expect(shell).to_contain_text("$ ")
        shell.press_sequentially("id -un; sudo -n /usr/bin/id -un\n")
        expect(shell).to_contain_text(f"\n{LOGIN}")
        expect(shell).to_contain_text("\nroot")
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            bad = [v["id"] for v in Axe().run(page).response["violations"]
                   if v["impact"] in ("serious", "critical")]
            assert not bad, (scheme, bad)
        page.emulate_media(color_scheme="light")
        browsing.shot(page, "terminal-as-yourself")
        browsing.assert_no_console_errors()
        page.get_by_role("button", name="Close terminal").click()
    finally:
        browsing.frozen = True
        server.stop()
