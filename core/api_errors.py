"""Structured API errors: {"error": {"code", "message", "fields"}} with stable codes.

- ``code``: a stable, machine-readable code (``invalid``, ``not_authenticated``, ``invalid_key``,
  ``revoked_key``, ``missing_scope``, ``staff_only``, ``not_found``, ``throttled``, or the code of a
  service's ``core.errors.ServiceError``, whose kind gives the status).
- ``message``: for people, in the request's language.
- ``fields`` (400 ``invalid`` only): per input field, a list of ``{"code", "message"}``.
- ``retry_after`` (429 only): seconds to wait, also sent as the ``Retry-After`` header.
"""

from django.http import JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views import defaults
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import ServiceError


def _first_code(detail):
    if isinstance(detail, list) and detail:
        return _first_code(detail[0])
    if isinstance(detail, dict) and detail:
        return _first_code(next(iter(detail.values())))
    return getattr(detail, "code", None)


def _field_errors(detail):
    """DRF's error detail with a code beside every message: {"field": [{"code", "message"}]}."""
    if isinstance(detail, dict):
        return {str(key): _field_errors(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_field_errors(item) for item in detail]
    return {"code": getattr(detail, "code", None) or "invalid", "message": str(detail)}


def exception_handler(exc, context):
    """The API's one exception handler: a service's refusal (`core.errors.ServiceError`) answers its
    code and message with the status of its kind; DRF's own errors get the same shape."""
    if isinstance(exc, ServiceError):
        body = {"error": {"code": exc.code, "message": exc.message, **exc.details}}
        return Response(body, status=exc.http_status)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body = {"error": {"code": "invalid", "message": str(_("Invalid input.")), "fields": _field_errors(detail)}}
    else:
        detail = getattr(exc, "detail", None)
        code = _first_code(detail) if detail is not None else None
        if isinstance(exc, exceptions.PermissionDenied) and code == "permission_denied":
            code = "forbidden"
        message = str(detail) if detail is not None else ""
        if isinstance(exc, exceptions.ParseError):
            # The parsers' own messages are English and quote the parser's error: DRF's translated one.
            message = str(exceptions.ParseError.default_detail)
        body = {"error": {"code": code or "error", "message": message}}
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            body["error"]["retry_after"] = int(exc.wait)
    response.data = body
    return response


def page_not_found(request, exception):
    """handler404: an unknown address under /api/ answers the structured error (`not_found`), in
    JSON like every other API error; elsewhere Django's page."""
    if request.path_info.startswith("/api/"):
        body = {"error": {"code": "not_found", "message": str(exceptions.NotFound.default_detail)}}
        return JsonResponse(body, status=status.HTTP_404_NOT_FOUND, json_dumps_params={"ensure_ascii": False})
    return defaults.page_not_found(request, exception)


# --- The error shape in the OpenAPI schema ------------------------------------------------------


class FieldErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="A stable code, e.g. `required`, `id_format`, `id_check`.")
    message = serializers.CharField()


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="A stable, machine-readable code.")
    message = serializers.CharField(help_text="For people, in the request's language.")
    fields = serializers.DictField(
        child=FieldErrorSerializer(many=True),
        required=False,
        help_text="Only with `invalid`: the errors of each input field.",
    )
    retry_after = serializers.IntegerField(required=False, help_text="Only with `throttled`: seconds to wait.")


class ErrorSerializer(serializers.Serializer):
    error = ErrorBodySerializer()


_ERROR_DESCRIPTIONS = {
    400: "Invalid input (`invalid`, with `fields`), or a refusal with its own code.",
    401: "No API key or session (`not_authenticated`), an unknown key (`invalid_key`) or a revoked one "
    "(`revoked_key`). Sent with `WWW-Authenticate: Bearer`.",
    403: "Authenticated but not allowed (`missing_scope`, `staff_only`, `forbidden`).",
    404: "Not found, or outside the caller's scope (`not_found`).",
    409: "The object's state does not allow this (e.g. `not_pending`, `already_member`).",
    429: "Too many calls (`throttled`); wait for `Retry-After` seconds.",
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """`extend_schema(responses=...)` entries for the given error statuses, all with ErrorSerializer."""
    return {s: OpenApiResponse(response=ErrorSerializer, description=_ERROR_DESCRIPTIONS[s]) for s in statuses}
