"""The one refusal type of the portal.

A service refuses by raising ``ServiceError(code, message, kind=…)``:

- ``code``: stable and machine-readable (``not_pending``, ``voucher_used``…), the API's error code;
- ``message``: for people, already translated (shown in the admin, the worker pages and the API);
- ``kind``: what sort of refusal it is; the HTTP status follows from it (``core.api_errors``'s one
  exception handler maps it), never from a table in an API module;
- ``details``: extra JSON-safe facts a caller may need (``declared``/``received`` of a manifest).

API views never catch it to rebuild it: the API's exception handler answers it. The admin and the
worker views catch it and show its ``message``.
"""

from enum import StrEnum


class ErrorKind(StrEnum):
    INVALID = "invalid"  # the input cannot be accepted as it is (400)
    FORBIDDEN = "forbidden"  # the caller may not do this (403)
    NOT_FOUND = "not_found"  # nothing there, or outside the caller's scope (404)
    CONFLICT = "conflict"  # the object's state does not allow it now (409)
    TOO_LARGE = "too_large"  # the body is over a limit (413)


HTTP_STATUS = {
    ErrorKind.INVALID: 400,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.TOO_LARGE: 413,
}


class ServiceError(Exception):
    """A refusal with a stable code, a message for people (already translated) and its kind."""

    def __init__(self, code: str, message: str, *, kind: ErrorKind = ErrorKind.INVALID, **details):
        super().__init__(message)
        self.code = code
        self.message = str(message)
        self.kind = ErrorKind(kind)
        self.details = details

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.kind]

    def __repr__(self) -> str:
        return f"ServiceError({self.code!r}, kind={self.kind.value!r})"
