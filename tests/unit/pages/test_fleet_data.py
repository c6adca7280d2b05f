"""The dashboard's data about the fleet (pages.routes._fleet_data): one compact entry per
service, one row kind per distinct set of buttons, and the threshold past which the page
builds rows itself (pages.routes.is_large)."""

from __future__ import annotations

from types import SimpleNamespace

from recon.config import ServiceConfig
from recon.pages.routes import LARGE_HOSTS, LARGE_SERVICES, Panel, _fleet_data, is_large


def svc(slug: str, host: str, tags=()) -> ServiceConfig:
    return ServiceConfig(slug=slug, name=slug.title(), host=host, unit=f"{slug}.service",
                         actions=frozenset({"status", "restart"}), tags=tuple(tags))


def test_each_service_is_one_array_and_services_with_the_same_buttons_share_a_row_kind():
    web, api, db = svc("web", "h1", ["prod"]), svc("api", "h1"), svc("db", "h2")
    hosts = {"h1": [Panel(web, ("restart",), (), True), Panel(api, (), (), True)],
             "h2": [Panel(db, ("restart",), (), True)], "h3": []}
    data, kinds = _fleet_data(hosts, {"h1": [(web, ("restart",))]}, large=False)
    assert data["services"] == [
        ["web", "Web", "h1", "web.service", ["prod"], 0, ["restart"]],
        ["api", "Api", "h1", "api.service", [], 1, []],
        ["db", "Db", "h2", "db.service", [], 0, []],
    ]
    assert [k.service.slug for k in kinds] == ["web", "api"]  # the first of each kind
    assert data["rolling_hosts"] == ["h1"] and data["large"] is False


def test_a_fleet_is_large_past_either_bound():
    def config(hosts: int, services: int):
        return SimpleNamespace(hosts=dict.fromkeys(range(hosts)),
                               services=dict.fromkeys(range(services)))

    assert not is_large(config(3, 12))  # the demo
    assert not is_large(config(LARGE_HOSTS, LARGE_SERVICES))
    assert is_large(config(LARGE_HOSTS + 1, 9))
    assert is_large(config(2, LARGE_SERVICES + 1))
