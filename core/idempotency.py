"""The API's Idempotency-Key: read from the header, documented once, checked against earlier rows.

A POST that must have exactly one effect (a redemption, a refund) needs the header. Its service
stores the key with a hash of the request's body, unique within a scope (a redemption's key per
merchant, a refund's per redemption); sent again with the same body it answers the first result,
with another body it is refused (409 ``idempotency_conflict``).
"""

import hashlib
import json

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from core.errors import ErrorKind, ServiceError

HEADER = "Idempotency-Key"
MAX_LENGTH = 100


def header_parameter(attempt: str) -> OpenApiParameter:
    """The header in the OpenAPI schema of an operation that requires it."""
    return OpenApiParameter(
        HEADER,
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        required=True,
        description=f"A unique key per {attempt} (e.g. a UUID), at most {MAX_LENGTH} characters.",
    )


def key_from_request(request) -> str:
    """The request's key; a request without one is refused (400 ``idempotency_key_required``)."""
    key = request.headers.get(HEADER, "").strip()
    if not key:
        raise ServiceError("idempotency_key_required", _("Send an Idempotency-Key header with this request."))
    return key


def clean_key(idempotency_key: str) -> str:
    key = (idempotency_key or "").strip()
    if len(key) > MAX_LENGTH:
        raise ServiceError(
            "invalid_idempotency_key",
            _("The Idempotency-Key is too long (at most %(n)d characters).") % {"n": MAX_LENGTH},
        )
    return key


def request_hash(**fields) -> str:
    body = json.dumps(fields, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


def replay(scope, key: str, body_hash: str):
    """The earlier row of ``scope`` (a queryset with ``idempotency_key`` and ``request_hash``) for
    this key, if any; refused with 409 if its body differed."""
    if not key:
        return None
    earlier = scope.filter(idempotency_key=key).first()
    if earlier is not None and earlier.request_hash != body_hash:
        raise ServiceError(
            "idempotency_conflict",
            _("This Idempotency-Key was already used for a different request."),
            kind=ErrorKind.CONFLICT,
        )
    return earlier
