"""Structured API errors: {"error": {"code", "message", "fields"}} with stable codes."""

from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler


def _first_code(detail):
    if isinstance(detail, list) and detail:
        return _first_code(detail[0])
    if isinstance(detail, dict) and detail:
        return _first_code(next(iter(detail.values())))
    return getattr(detail, "code", None)


def exception_handler(exc, context):
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        body = {"error": {"code": "invalid", "message": "Invalid input.", "fields": exc.detail}}
    else:
        detail = getattr(exc, "detail", None)
        code = _first_code(detail) if detail is not None else None
        if isinstance(exc, exceptions.PermissionDenied) and code == "permission_denied":
            code = "forbidden"
        body = {"error": {"code": code or "error", "message": str(detail) if detail is not None else ""}}
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            body["error"]["retry_after"] = int(exc.wait)
    response.data = body
    return response
