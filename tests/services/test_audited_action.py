"""recon.services.act on the real target, called as the rolling runner calls it (from no app
context, ``context=app.app_context``): the entry is committed before the command goes out,
no app context is held while the host works, and ``after`` runs only for a command that ran."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from flask import has_app_context

from recon.audit.models import AuditEntry
from recon.db.extensions import db
from recon.monitor.models import HostState
from recon.services import act
from recon.ssh import Unreachable
from recon.web.context import runtime


@pytest.fixture
def quiet_app(make_app, target_info):
    """No monitor: the test decides what the host's state row says."""
    return make_app([target_info], monitor=False)


def _entry(app, entry_id: int) -> AuditEntry:
    with app.app_context():
        entry = db.session.get(AuditEntry, entry_id)
        db.session.expunge(entry)
        return entry


def _committed_entries(app) -> list[tuple]:
    """The audit rows another connection sees (only what was committed), on SQLite or
    PostgreSQL alike."""
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=sa.NullPool)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(
                sa.text("SELECT id, action, actor, success FROM audit"))]
    finally:
        engine.dispose()


def test_the_entry_is_committed_before_the_command_and_no_context_is_held_meanwhile(
        quiet_app, monkeypatch):
    rt = runtime(quiet_app)
    service = rt.config.services["demo-worker"]
    seen: dict = {}
    real_run = rt.executor.run

    def run(host, argv, *args, **kwargs):
        if "restart" in argv:
            seen["entries_at_send"] = _committed_entries(quiet_app)
            seen["context_at_send"] = has_app_context()
        return real_run(host, argv, *args, **kwargs)

    def after(sent, cause):
        seen["after"] = (sent.ok, cause.audit_id, cause.actor, has_app_context())
        return sent

    monkeypatch.setattr(rt.executor, "run", run)
    outcome = act.act(service, "restart", actor="test-runner", group_id=None,
                      begun=lambda entry_id: seen.setdefault("begun", entry_id),
                      after=after, context=quiet_app.app_context)
    assert not has_app_context()
    assert outcome.ok and outcome.exit_code == 0 and outcome.audited == "recorded"
    entry_id = outcome.audit_id
    assert seen["begun"] == entry_id
    assert seen["entries_at_send"] == [(entry_id, "restart", "test-runner", None)]
    assert seen["context_at_send"] is False
    assert seen["after"] == (True, entry_id, "test-runner", False)
    entry = _entry(quiet_app, entry_id)
    assert entry.success is True and entry.exit_code == 0 and entry.duration_ms > 0


def test_a_host_seen_down_is_refused_audited_and_sent_nothing(quiet_app, monkeypatch):
    rt = runtime(quiet_app)
    service = rt.config.services["demo-worker"]
    now = time.time()
    with quiet_app.app_context():
        db.session.merge(HostState(name=service.host, state="down", since=now - 30,
                                   last_seen=now - 30, checked_at=now, error="unreachable",
                                   message="connection refused"))
        db.session.commit()
    sent: list = []
    monkeypatch.setattr(rt.executor, "run", lambda *a, **k: sent.append(a))
    outcome = act.act(service, "restart", actor="test-runner", group_id=7,
                      begun=sent.append, after=lambda o, c: sent.append(o),
                      context=quiet_app.app_context)
    assert sent == []
    assert outcome.refused and not outcome.ok and outcome.error == "host_down"
    assert outcome.fault is not None and outcome.fault.status == 503
    assert outcome.audited is None  # written whole at once, never "closed"
    entry = _entry(quiet_app, outcome.audit_id)
    assert (entry.success, entry.error, entry.group_id) == (False, "host_down", 7)


def test_a_command_that_never_ran_skips_after_and_closes_its_entry_with_the_error(
        quiet_app, monkeypatch):
    rt = runtime(quiet_app)
    service = rt.config.services["demo-worker"]

    def unreachable(host, argv, *args, **kwargs):
        raise Unreachable(f"cannot reach {host.name}", host=host.name)

    called: list = []
    monkeypatch.setattr(rt.executor, "run", unreachable)
    outcome = act.act(service, "restart", actor="test-runner",
                      after=lambda o, c: called.append(o) or o, context=quiet_app.app_context)
    assert called == []
    assert not outcome.ok and not outcome.refused and outcome.error == "unreachable"
    assert isinstance(outcome.fault, Unreachable) and outcome.audited == "recorded"
    entry = _entry(quiet_app, outcome.audit_id)
    assert (entry.success, entry.error, entry.output) == (
        False, "unreachable", f"cannot reach {service.host}")
