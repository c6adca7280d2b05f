"""The recon.toml of the demo web service with an HTTP health check on the host's own page
(``PAGE``, which demo-web serves from /usr/share/doc): one definition for the health tests."""

from __future__ import annotations

PAGE = "/usr/share/doc/recon-health.txt"


def web_health_toml(name: str, address: str, *, body: str | None = "all good",
                    interval: int = 5, fail_after: int = 2, recover_after: int = 2) -> str:
    """``[[services]]`` web-health on host ``name`` (at ``address``) with its check."""
    match = f'body = "{body}"\n' if body else ""
    return f"""
[[services]]
slug = "web-health"
name = "Web (HTTP check)"
host = "{name}"
unit = "demo-web.service"
actions = ["status", "start", "stop", "restart", "logs"]
[services.health]
kind = "http"
url = "http://{address}:8080/recon-health.txt"
{match}interval = {interval}
timeout = 2
fail_after = {fail_after}
recover_after = {recover_after}
"""
