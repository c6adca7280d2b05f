"""Where a terminal's ttyd runs, seen from the server that answers a request for it.

ttyd runs beside the RECON process that opened it: a UNIX socket in that server's run dir,
bound to that process's life (:func:`recon.core.children.spawn_bound`). With replicas, nginx
routes each browser to one server (deploy/nginx/recon-replicas.conf hashes its session
cookie or token), so its terminals' WebSockets reach the server that runs them -- routing,
not an internal hop between replicas. A request that reaches another server anyway (a
direct connection, a changed upstream list, the owner died and nginx moved the browser) is
answered here, at once: 421 ``terminal_elsewhere`` while the owner runs, 410
``terminal_server_gone`` (the session closed as ``orphan``) once it is gone -- never a relay
to a socket that is not this server's, never a 502.
"""

from __future__ import annotations

from recon.core.errors import ApiError
from recon.core.process import describe, process_here, process_id, same_server
from recon.terminals.models import TerminalSession
from recon.web.slots import owner_alive

HERE, ELSEWHERE, GONE = "here", "elsewhere", "gone"
# The close reason of a session whose dashboard process died (crash, kill -9, its replica).
SERVER_GONE_REASON = "orphan"


def locate(sess: TerminalSession) -> str:
    """``here`` (this server spawned it: serve it), ``elsewhere`` (another server that still
    runs) or ``gone`` (the process that spawned it is gone, and its ttyd with it)."""
    if same_server(sess.spawner):
        return HERE
    # On this machine, looked at in /proc; on another, its monitor membership is renewed.
    return ELSEWHERE if owner_alive(sess.spawner) else GONE


def gone_words(sess: TerminalSession) -> dict:
    """``{code, title, message, hint}`` for a terminal whose server is gone (page and API)."""
    where = describe(sess.spawner)
    return {"code": "terminal_server_gone",
            "title": "Ended: the RECON server running this terminal is gone",
            "message": f"The RECON server process that ran this terminal ({where}) stopped "
                       "or crashed, and the terminal's shell ended with it.",
            "hint": "Open a new terminal from the dashboard: it opens on a RECON server "
                    "that runs."}


def gone_error(sess: TerminalSession) -> ApiError:
    """410 for a terminal whose server is gone: the same answer every time, on any server."""
    words = gone_words(sess)
    return ApiError(410, words["code"], words["message"], words["hint"],
                    title=words["title"], close_reason=SERVER_GONE_REASON,
                    server=describe(sess.spawner))


def elsewhere_error(sess: TerminalSession) -> ApiError:
    """421 Misdirected Request: the terminal runs on another server that is alive."""
    there, here = describe(sess.spawner), describe(process_id())
    where = "on another machine" if not process_here(sess.spawner) else "beside this one"
    return ApiError(421, "terminal_elsewhere",
                    f"this terminal runs on another RECON server ({there}, {where}), not on "
                    f"this one ({here}): its shell is reachable only through that server",
                    "Open the dashboard through its load balancer (nginx with "
                    "deploy/nginx/recon-replicas.conf sends you to the server that runs your "
                    "terminals), or close this terminal and open a new one here.",
                    server=there)
