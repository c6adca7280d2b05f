"""Response headers and request limits that hold for every route.

Every HTML page RECON renders (dashboard, audit, terminal page, /login, HTML error pages)
gets the strict Content-Security-Policy and cannot be framed by anyone. The one exception is
ttyd's own page, proxied under ``/terminals/<id>/tty/``: RECON's terminal page frames it, so
it may be framed by this origin only (``frame-ancestors 'self'``); its proxy sets that itself.
Every answer to an authenticated request says ``Cache-Control: no-store``.
Request bodies are capped at ``settings.max_request_bytes`` before any view or login check;
path integers and JSON bodies are read by :mod:`recon.web.params` (installed here, so every
route reads them the same way).
"""

from __future__ import annotations

from flask import Flask, g, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from recon.web import params
from recon.web.context import runtime

# The pages load no inline script, no third-party resource and cannot be framed.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
       "form-action 'self'")
# ttyd's page (inline script and styles of its own): only framing is restricted.
TTYD_CSP = "frame-ancestors 'self'; object-src 'none'; base-uri 'none'"


def _no_store(response) -> None:
    """What an authenticated caller was shown (statuses, unit files, logs, metrics, the
    pages) is kept by no cache, the browser's included; added to a route's own directive
    (the streams' ``no-cache``). Static files and login are public: they stay cacheable."""
    if getattr(g, "principal", None) is None:
        return
    directive = response.headers.get("Cache-Control")
    if directive is None:
        response.headers["Cache-Control"] = "no-store"
    elif "no-store" not in directive:
        response.headers["Cache-Control"] = f"{directive}, no-store"


def _headers(response):
    _no_store(response)
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def _body_limit():
    limit = request.max_content_length
    if limit is not None and request.content_length is not None \
            and request.content_length > limit:
        raise RequestEntityTooLarge(
            f"the request body is {request.content_length} bytes; the limit is {limit}")
    return None


class TrustedProxyFix:
    """X-Forwarded-For/-Proto/-Host (one hop: the reverse proxy overwrites them) are honoured
    only when the direct peer is one of ``RECON_TRUSTED_PROXIES``; from anyone else they are
    ignored. The peer itself stays in ``environ["werkzeug.proxy_fix.orig"]``."""

    def __init__(self, wsgi_app, trusted: list[str]):
        self.wsgi_app, self.trusted = wsgi_app, set(trusted)
        self.fixed = ProxyFix(wsgi_app, x_for=1, x_proto=1, x_host=1)

    def __call__(self, environ, start_response):
        if environ.get("REMOTE_ADDR") in self.trusted:
            return self.fixed(environ, start_response)
        return self.wsgi_app(environ, start_response)


def peer_address() -> str | None:
    """The direct peer of this request (the proxy, when one forwarded it)."""
    orig = request.environ.get("werkzeug.proxy_fix.orig") or {}
    return orig.get("REMOTE_ADDR") or request.remote_addr


def init_app(app: Flask) -> None:
    """Call before the auth guard so an oversized body is refused before anything else, and
    before the blueprints so their ``<int:...>`` rules use RECON's converter."""
    params.init_app(app)
    if app.config.get("MAX_CONTENT_LENGTH") is None:  # Flask's default is "no limit"
        app.config["MAX_CONTENT_LENGTH"] = runtime(app).config.settings.max_request_bytes
    app.before_request(_body_limit)
    app.after_request(_headers)
    if app.config.get("RECON_TRUSTED_PROXIES"):
        app.wsgi_app = TrustedProxyFix(app.wsgi_app, app.config["RECON_TRUSTED_PROXIES"])
