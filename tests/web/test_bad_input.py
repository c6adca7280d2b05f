"""Input that used to end in a 500 (issue 24, item 9): '²' in an integer parameter (Python's
``str.isdigit()`` says yes, ``int()`` says no), a number too long for ``int()``, an id past
SQLite's 64-bit range, a body nested past the recursion limit, a lone surrogate in a JSON
string. Each is refused with the usual JSON error and a stable code, and changes nothing."""

from __future__ import annotations

import pytest

DEEP = "[" * 200000
HUGE = "99999999999999999999999999"
SURROGATE = '{"password": "\\udc00\\udc00 long enough password"}'

CASES = [
    # (method, path, raw JSON body, status, code)
    ("GET", "/api/services/demo-web/history?limit=²", None, 400, "invalid_parameter"),
    ("GET", "/api/services/demo-web/history?before=²", None, 400, "invalid_parameter"),
    ("GET", "/api/services/demo-web/history?before=" + "9" * 5000, None, 400,
     "invalid_parameter"),
    ("GET", "/api/changes?hours=²", None, 400, "invalid_parameter"),
    ("GET", "/api/changes?limit=³", None, 400, "invalid_parameter"),
    ("GET", "/api/audit?limit=²", None, 400, "invalid_parameter"),
    ("GET", "/api/audit?group=²", None, 400, "invalid_parameter"),
    ("GET", f"/api/audit?group={HUGE}", None, 400, "invalid_parameter"),
    ("GET", f"/api/actions/{HUGE}", None, 404, "not_found"),
    ("DELETE", f"/api/actions/{HUGE}", None, 404, "not_found"),
    ("GET", f"/api/actions/{2**63 - 1}", None, 404, "unknown_run"),
    ("POST", "/api/actions", DEEP, 400, "invalid_body"),
    ("POST", "/api/terminals", DEEP, 400, "invalid_body"),
    ("POST", "/api/users", DEEP, 400, "invalid_body"),
    ("PATCH", "/api/users/x", DEEP, 400, "invalid_body"),
    ("POST", "/api/tokens", DEEP, 400, "invalid_body"),
    ("PATCH", "/api/users/x", SURROGATE, 400, "invalid_body"),
    ("POST", "/api/users", '{"username": "y", "role": "viewer", "password": '
     '"\\ud800 long enough password"}', 400, "invalid_body"),
    ("POST", "/api/tokens", '{"name": "t\\udfff", "role": "viewer"}', 400, "invalid_body"),
    ("POST", "/api/actions", '{"action": "restart", "services": ["\\udc00"]}', 400,
     "invalid_body"),
]


def _state(app) -> dict:
    """Everything these requests could change, as stored."""
    import sqlalchemy as sa

    from recon.audit.models import AuditEntry
    from recon.auth.models import ApiToken, User
    from recon.db.extensions import db
    from recon.rolling.models import RollingRun
    from recon.terminals.models import TerminalSession

    with app.app_context():
        return {
            "users": db.session.execute(sa.select(User.username, User.role, User.password_hash)
                                        .order_by(User.id)).all(),
            "tokens": db.session.execute(sa.select(ApiToken.name, ApiToken.role,
                                                   ApiToken.revoked_at)).all(),
            **{model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
               for model in (AuditEntry, RollingRun, TerminalSession)}}


@pytest.mark.parametrize("method,path,body,status,code", CASES,
                         ids=[f"{c[0]} {c[1][:50]} {(c[2] or '')[:20]}" for c in CASES])
def test_bad_input_is_a_json_error_and_changes_nothing(app, client, method, path, body, status,
                                                     code):
    from recon.auth.accounts import create_user

    with app.app_context():
        create_user("x", "correct horse battery", "viewer")
    before = _state(app)
    resp = client.open(path, method=method, data=body,
                       content_type="application/json" if body is not None else None)
    data = resp.get_json()
    assert (resp.status_code, data and data["error"]) == (status, code), data
    assert data["message"] and data["hint"]
    assert _state(app) == before
