"""One error type for everything RECON refuses or fails at: an HTTP status, a stable ``code``,
a message and a hint that says the fix (plus extra fields). Domain modules raise subclasses;
``recon.web.error_responses`` renders every one of them the same way, in one handler.

Kept free of Flask so the SSH, systemd, logs and terminal layers can raise without knowing
about HTTP.
"""

from __future__ import annotations

from typing import Any


class ReconError(Exception):
    """Base of every RECON error. Subclasses set ``status``/``code``/``hint`` as defaults."""

    status = 500
    code = "error"
    hint = "See the dashboard's log."
    # Seconds after which a retry may succeed (sent as the Retry-After header), if known.
    retry_after: int | None = None

    def __init__(self, message: str, *, hint: str | None = None, status: int | None = None,
                 code: str | None = None, retry_after: int | None = None, **extra: Any):
        super().__init__(message)
        self.message = message
        if retry_after is not None:
            self.retry_after = retry_after
        if hint is not None:
            self.hint = hint
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        self.extra = extra

    def to_dict(self) -> dict[str, Any]:
        """The JSON error body: ``{"error", "message", "hint", ...extra}``."""
        return {"error": self.code, "message": self.message, "hint": self.hint, **self.extra}


class ApiError(ReconError):
    """A request RECON refuses, with its status and code given where it is raised."""

    def __init__(self, status: int, code: str, message: str, hint: str,
                 retry_after: int | None = None, **extra: Any):
        super().__init__(message, hint=hint, status=status, code=code,
                         retry_after=retry_after, **extra)


class InvalidParameter(ReconError, ValueError):
    """A request parameter that cannot be used; ``parameter`` names it (400)."""

    status = 400
    code = "invalid_parameter"

    def __init__(self, parameter: str, message: str, hint: str):
        super().__init__(message, hint=hint, parameter=parameter)
        self.parameter = parameter


class InvalidBody(ReconError):
    """A request body that is not the JSON object the route takes (400)."""

    status = 400
    code = "invalid_body"

    def __init__(self, message: str, hint: str):
        super().__init__(message, hint=hint)


class NotFound(ReconError):
    """No configured or stored thing of that name: code ``unknown_<kind>`` (404)."""

    status = 404

    def __init__(self, kind: str, message: str, hint: str):
        super().__init__(message, hint=hint, code=f"unknown_{kind}")
