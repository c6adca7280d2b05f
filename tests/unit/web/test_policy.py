"""The permission rule (recon.web.policy.may_act): a service's allow list limits operators to the
users and roles it names; admins may act on every service."""

from __future__ import annotations

from recon.config import ServiceConfig
from recon.web.policy import Principal, may_act


def test_per_service_allow_list_limits_operators():
    svc = ServiceConfig("db", "DB", "h", "pg.service", frozenset({"restart"}),
                        allow=frozenset({"alice", "role:admin"}))
    assert may_act(Principal("alice", "operator"), svc)
    assert not may_act(Principal("bob", "operator"), svc)
    assert not may_act(Principal("alice", "viewer"), svc)
    assert may_act(Principal("root", "admin"), svc)
