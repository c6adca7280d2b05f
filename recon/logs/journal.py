"""journalctl argv and reads."""

from __future__ import annotations

from flask import jsonify

from .. import audit
from ..config import HostConfig, ServiceConfig
from ..runtime import runtime
from ..ssh import RemoteError, SudoRefused
from ..systemd import sudo_refused

RUNBOOK_LINES = 50


def journal_argv(host: HostConfig, unit: str, lines: int) -> list[str]:
    """``sudo -n journalctl -u UNIT -n N --no-pager`` (the runbook's sudoers rule allows
    ``journalctl -u UNIT *``)."""
    argv = [host.journalctl, "-u", unit, "-n", str(int(lines)), "--no-pager"]
    return [host.sudo, "-n", *argv] if host.use_sudo else argv


def read_lines(service: ServiceConfig, lines: int) -> list[str]:
    """The last ``lines`` journal lines of a service, as text lines."""
    rt = runtime()
    host = rt.config.hosts[service.host]
    result = rt.executor.run(host, journal_argv(host, service.unit, lines))
    if sudo_refused(result):
        raise SudoRefused(f"sudo on {host.name} refused journalctl for {service.unit}: "
                          f"{result.stderr.strip()[:300]}", host=host.name)
    return result.stdout.splitlines()


def runbook_logs(service: ServiceConfig):
    """``POST /api/services/<slug>/logs``: the runbook's last 50 lines, audited."""
    try:
        lines = read_lines(service, RUNBOOK_LINES)
    except RemoteError as exc:
        audit.record("logs", success=False, service=service.slug, host=service.host,
                     error=exc.code, output=exc.message)
        return jsonify({"success": False, "action": "logs", **exc.to_dict()}), exc.status
    audit.record("logs", success=True, service=service.slug, host=service.host)
    return jsonify({"success": True, "action": "logs", "service": service.slug,
                    "stdout": "\n".join(lines), "lines": lines})
