"""The errors the DoiT Support client raises.

    SupportError
    ├── SupportUnreachable      connection refused, DNS failure or timeout: nothing came back
    ├── UnreadableAnswer        DoiT answered with success, but not with what the call expects
    └── SupportHTTPError        DoiT answered with an error status
        ├── BadApiKey           401: the key is wrong, revoked or missing
        ├── PermissionDenied    403: the key may not do this, or the tenant is wrong
        ├── TicketNotFound      404
        ├── RequestRejected     400: a bad filter, page token or body; ``message`` is DoiT's own text
        ├── RateLimited         429
        └── SupportUnavailable  502, 503, 504: DoiT or the ticket system behind it is down

Every message is safe to log: none of them carries the API key.
"""

from __future__ import annotations


class SupportError(Exception):
    """Base of every error from the DoiT Support client."""

    def __init__(self, message: str, *, request_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.request_id = request_id

    def __str__(self) -> str:
        if self.request_id:
            return f"{self.message} (request id {self.request_id})"
        return self.message


class SupportUnreachable(SupportError):
    """DoiT could not be reached at all, or did not answer in time.

    ``maybe_applied`` is True when a write was sent but no answer came back: DoiT may have done it.
    """

    def __init__(self, message: str, *, request_id: str | None = None, maybe_applied: bool = False) -> None:
        super().__init__(message, request_id=request_id)
        self.maybe_applied = maybe_applied


class UnreadableAnswer(SupportError):
    """A success status with a body this client cannot read. For a create, the ticket may exist."""


class SupportHTTPError(SupportError):
    """DoiT answered with an error status."""

    status_code: int = 0

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        request_id: str | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, request_id=request_id)
        if status_code is not None:
            self.status_code = status_code
        self.code = code
        self.retry_after = retry_after


class BadApiKey(SupportHTTPError):
    status_code = 401


class PermissionDenied(SupportHTTPError):
    status_code = 403


class TicketNotFound(SupportHTTPError):
    status_code = 404


class RequestRejected(SupportHTTPError):
    status_code = 400


class RateLimited(SupportHTTPError):
    status_code = 429


class SupportUnavailable(SupportHTTPError):
    status_code = 503


_BY_STATUS: dict[int, type[SupportHTTPError]] = {
    400: RequestRejected,
    401: BadApiKey,
    403: PermissionDenied,
    404: TicketNotFound,
    429: RateLimited,
    502: SupportUnavailable,
    503: SupportUnavailable,
    504: SupportUnavailable,
}


def error_class_for(status_code: int) -> type[SupportHTTPError]:
    """The error class for an HTTP status; unknown 4xx are rejections, unknown 5xx unavailability."""
    if status_code in _BY_STATUS:
        return _BY_STATUS[status_code]
    return SupportUnavailable if status_code >= 500 else RequestRejected
