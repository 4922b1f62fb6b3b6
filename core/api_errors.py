"""Structured API errors: {"error": {"code", "message", "fields"}} with stable codes.

- ``code``: a stable, machine-readable code (``invalid``, ``not_authenticated``, ``invalid_key``,
  ``revoked_key``, ``missing_scope``, ``staff_only``, ``not_found``, ``throttled``, or the code of a
  service's ``core.errors.ServiceError``, whose kind gives the status).
- ``message``: for people, in the request's language.
- ``fields`` (400 ``invalid`` only): per input field, a list of ``{"code", "message"}``; a field of a
  nested input is named by its path (``manifest.kind``, ``codes.2``).
- ``retry_after`` (429 only): seconds to wait, also sent as the ``Retry-After`` header.
- ``declared``/``received`` (a refusal's details, e.g. a push whose content differs from its manifest).

Every answer under /api/ that is not a success has this shape, whatever refused it: a DRF error,
a service's refusal, a body over the size limit (413 ``body_too_large``), an unknown address
(404 ``not_found``), a request Django refuses before any view (400 ``bad_request``) and a server
error (500 ``server_error``). The OpenAPI schema has one component for it, ``Error``.
"""

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views import defaults
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import ServiceError


def _first_code(detail):
    if isinstance(detail, list) and detail:
        return _first_code(detail[0])
    if isinstance(detail, dict) and detail:
        return _first_code(next(iter(detail.values())))
    return getattr(detail, "code", None)


def _field_errors(detail) -> dict[str, list[dict]]:
    """DRF's error detail, flat, with a code beside every message: {"field": [{"code", "message"}]}.

    A nested input's errors are named by their path: `manifest.kind` (a field of a nested object),
    `codes.2` (the third item of a list); a nested object's own errors are the object's
    (`manifest`). Every value is a list of errors, as the schema's `Error` says."""
    fields: dict[str, list[dict]] = {}

    def walk(node, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                key = str(key)
                walk(value, path if (path and key == api_settings.NON_FIELD_ERRORS_KEY) else _join(path, key))
        elif isinstance(node, list):
            for index, item in enumerate(node):
                walk(item, _join(path, str(index)) if isinstance(item, dict | list) else path)
        else:
            error = {"code": getattr(node, "code", None) or "invalid", "message": str(node)}
            fields.setdefault(path or api_settings.NON_FIELD_ERRORS_KEY, []).append(error)

    walk(detail, "")
    return fields


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def exception_handler(exc, context):
    """The API's one exception handler: a service's refusal (`core.errors.ServiceError`) answers its
    code and message with the status of its kind; DRF's own errors get the same shape."""
    if isinstance(exc, ServiceError):
        body = {"error": {"code": exc.code, "message": exc.message, **exc.details}}
        return Response(body, status=exc.http_status)
    if isinstance(exc, SuspiciousOperation):  # a body over the size limit, too many fields…
        # Logged as Django logs what it refuses itself (django.security.*), then answered here.
        logging.getLogger(f"django.security.{exc.__class__.__name__}").warning(str(exc))
        return Response(_refused_body(exc), status=_refused_status(exc))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {api_settings.NON_FIELD_ERRORS_KEY: exc.detail}
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


def _refused_status(exc: Exception) -> int:
    return (
        status.HTTP_413_REQUEST_ENTITY_TOO_LARGE if isinstance(exc, RequestDataTooBig) else status.HTTP_400_BAD_REQUEST
    )


def _refused_body(exc: Exception) -> dict:
    """What Django refuses as suspicious: a body over DATA_UPLOAD_MAX_MEMORY_SIZE (`body_too_large`),
    too many form fields, an unknown host… (`bad_request`)."""
    if isinstance(exc, RequestDataTooBig):
        mb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)
        message = _("The request body is larger than %(mb)d MB.") % {"mb": mb}
        return {"error": {"code": "body_too_large", "message": str(message)}}
    return {"error": {"code": "bad_request", "message": str(exceptions.ParseError.default_detail)}}


def _is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def _json(body: dict, status_code: int) -> JsonResponse:
    return JsonResponse(body, status=status_code, json_dumps_params={"ensure_ascii": False})


def page_not_found(request, exception):
    """handler404: an unknown address under /api/ answers the structured error (`not_found`), in
    JSON like every other API error; elsewhere Django's page."""
    if _is_api(request):
        body = {"error": {"code": "not_found", "message": str(exceptions.NotFound.default_detail)}}
        return _json(body, status.HTTP_404_NOT_FOUND)
    return defaults.page_not_found(request, exception)


def bad_request(request, exception):
    """handler400: what Django refuses before or outside DRF (a body over the size limit read by a
    middleware, an unknown host…) answers the structured error under /api/; elsewhere Django's page."""
    if _is_api(request):
        return _json(_refused_body(exception), _refused_status(exception))
    return defaults.bad_request(request, exception)


def server_error(request):
    """handler500: a server error under /api/ answers the structured error (`server_error`), never
    an HTML page; elsewhere Django's page."""
    if _is_api(request):
        body = {"error": {"code": "server_error", "message": str(exceptions.APIException.default_detail)}}
        return _json(body, status.HTTP_500_INTERNAL_SERVER_ERROR)
    return defaults.server_error(request)


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
        help_text="Only with `invalid`: the errors of each input field. A field of a nested input is named by "
        "its path: `manifest.kind`, `codes.2` (the third item of a list).",
    )
    retry_after = serializers.IntegerField(required=False, help_text="Only with `throttled`: seconds to wait.")
    declared = serializers.JSONField(
        required=False, help_text="Only with `row_count_mismatch`, `sha256_mismatch`: what the manifest declared."
    )
    received = serializers.JSONField(
        required=False, help_text="Only with `row_count_mismatch`, `sha256_mismatch`: what the content has."
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorBodySerializer()


_ERROR_DESCRIPTIONS = {
    400: "Invalid input (`invalid`, with `fields`), or a refusal with its own code.",
    401: "No API key or session (`not_authenticated`), an unknown key (`invalid_key`) or a revoked one "
    "(`revoked_key`). Sent with `WWW-Authenticate: Bearer`.",
    403: "Authenticated but not allowed (`missing_scope`, `staff_only`, `forbidden`).",
    404: "Not found, or outside the caller's scope (`not_found`).",
    409: "The object's state does not allow this (e.g. `not_pending`, `already_member`).",
    413: "The request body is over the size limit (`body_too_large`).",
    415: "The body is not of a media type this operation reads (`unsupported_media_type`).",
    429: "Too many calls (`throttled`); wait for `Retry-After` seconds.",
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """`extend_schema(responses=...)` entries for the given error statuses, all with ErrorSerializer."""
    return {s: OpenApiResponse(response=ErrorSerializer, description=_ERROR_DESCRIPTIONS[s]) for s in statuses}
