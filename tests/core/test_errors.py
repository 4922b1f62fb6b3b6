"""The one refusal type and its one HTTP mapping."""

import pytest

from core.api_errors import exception_handler
from core.errors import ErrorKind, ServiceError


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        (ErrorKind.INVALID, 400),
        (ErrorKind.FORBIDDEN, 403),
        (ErrorKind.NOT_FOUND, 404),
        (ErrorKind.CONFLICT, 409),
        (ErrorKind.TOO_LARGE, 413),
    ],
)
def test_the_status_follows_from_the_kind_of_refusal(kind, status):
    resp = exception_handler(ServiceError("some_code", "Refused.", kind=kind), {})
    assert resp.status_code == status
    assert resp.data == {"error": {"code": "some_code", "message": "Refused."}}


def test_a_refusal_is_bad_input_unless_it_says_otherwise():
    assert ServiceError("x", "y").http_status == 400


def test_details_of_a_refusal_go_into_the_error_body():
    resp = exception_handler(ServiceError("sha256_mismatch", "Differs.", declared="a", received="b"), {})
    assert resp.data["error"] == {"code": "sha256_mismatch", "message": "Differs.", "declared": "a", "received": "b"}


def test_an_unknown_kind_is_refused_when_the_error_is_made():
    with pytest.raises(ValueError):
        ServiceError("x", "y", kind="teapot")
