"""kill -9 of the dashboard in the middle of an action: the audit log already holds the
action, nothing is left running on the target, and the entry is closed as interrupted."""

from __future__ import annotations

import http.client
import signal
import threading
import time

from conftest import build_app
from helpers import Gunicorn

from recon.audit.models import AuditEntry
from recon.jobs.repair import close_interrupted


def test_kill_9_mid_action_leaves_a_pending_audit_entry_and_nothing_running(
        tmp_path, target_info, target):
    app = build_app(tmp_path, [target_info], command_timeout=3, connect_timeout=1)
    token = app.config["TEST_TOKENS"]["operator"]
    with Gunicorn(app, threads=4) as server:

        def reload_stuck():
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            try:
                conn.request("POST", "/api/services/demo-stuck/reload",
                             headers={"Authorization": f"Bearer {token}"})
                conn.getresponse().read()
            except (OSError, http.client.HTTPException):
                pass  # the server dies under us: that is the point

        caller = threading.Thread(target=reload_stuck)
        caller.start()
        deadline = time.monotonic() + 5
        while not target.remote_processes("sleep 600") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert target.remote_processes("sleep 600"), "the action never reached the target"
        server.kill(signal.SIGKILL)
        caller.join(10)
    with app.app_context():
        entry = AuditEntry.query.filter_by(action="reload", service="demo-stuck").one()
        assert entry.success is None and entry.actor == "token:test-operator"
        assert close_interrupted() == 0  # it could still be running: left alone
        later = time.time() + 30
        assert close_interrupted(now=later) == 1
        entry = AuditEntry.query.filter_by(action="reload", service="demo-stuck").one()
        assert entry.success is False and entry.error == "interrupted"
    # the remote `timeout` ends the hung command on the host although nobody waits for it;
    # the reload job is systemd's, ended after the unit's TimeoutStartSec (8 s)
    deadline = time.monotonic() + 3 + 4
    while target.remote_processes("systemctl reload") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert target.remote_processes("systemctl reload") == []
    deadline = time.monotonic() + 10
    while target.remote_processes("sleep 600") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert target.remote_processes("sleep 600") == []
