"""The body size the API reads: what the push documentation allows fits, and a body over the limit
answers a structured 413 (`body_too_large`), in JSON, not Django's HTML 400."""

import functools
import json
import random
import urllib.error
import urllib.request

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from core.services import api_key_create
from hardship import ingest, pushformats
from hardship.models import DataPush
from members.idgen import make_id_number
from tests.factories import AgencyFactory

pytestmark = pytest.mark.django_db

OLD_DEFAULT = 2_621_440  # Django's DATA_UPLOAD_MAX_MEMORY_SIZE, which refused such a page


def longest(col: pushformats.Column, rng, n: int) -> str:
    """The longest value the documented column takes (text at its length limit, in Chinese)."""
    if col.check == "key":
        return f"{n:06d}".rjust(col.max_length, "k")
    if col.check == "text":
        return "帮" * col.max_length
    if col.check == "id_number":
        return make_id_number(rng)
    if col.check == "choice":
        return max((alias for aliases in col.choices.values() for alias in aliases), key=len)
    return {"amount": "99999999.99", "date": "2025-03-02", "grade": "四级"}[col.check]


def widest_page(kind: str) -> tuple[dict, list[dict]]:
    rng = random.Random(9)
    rows = [{c.name: longest(c, rng, n) for c in pushformats.columns(kind)} for n in range(ingest.PAGE_MAX_ROWS)]
    sha, count = pushformats.rows_sha256([rows])
    manifest = {"kind": kind, "period": "2025-03", "batch_id": f"wide-{kind}", "row_count": count, "sha256": sha}
    return manifest, rows


@functools.cache
def widest_body(kind: str) -> bytes:
    """As a client may send it: every non-ASCII character escaped (\\uXXXX, 6 bytes), indented."""
    manifest, rows = widest_page(kind)
    return json.dumps({"manifest": manifest, "rows": rows}, indent=2).encode()


def push_client(agency):
    from django.test import Client

    secret = api_key_create(agency=agency, scopes=["hardship:push"])[1]
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}", raise_request_exception=False)


def test_the_widest_documented_page_of_every_kind_is_under_the_limit():
    sizes = {kind: len(widest_body(kind)) for kind in pushformats.KIND_COLUMNS}
    assert max(sizes.values()) < settings.DATA_UPLOAD_MAX_MEMORY_SIZE, sizes
    assert max(sizes.values()) > OLD_DEFAULT  # the page that was refused


def test_a_page_of_5000_rows_as_wide_as_the_docs_allow_is_accepted():
    kind = max(pushformats.KIND_COLUMNS, key=lambda k: len(widest_body(k)))
    body = widest_body(kind)
    assert len(body) > OLD_DEFAULT
    resp = push_client(AgencyFactory(code="mca")).post("/api/v1/hardship/pushes", body, content_type="application/json")
    assert resp.status_code == 201, resp.content[:300]
    answer = resp.json()
    assert answer["state"] == "ingested" and answer["accepted"] + answer["rejected"] == ingest.PAGE_MAX_ROWS
    assert answer["accepted"] == ingest.PAGE_MAX_ROWS, answer["errors"][:3]


def test_it_refuses_a_json_body_over_the_limit_with_a_structured_413(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    body = json.dumps({"manifest": {}, "rows": [{"name": "x" * 1024}] * 1100}).encode()
    resp = push_client(AgencyFactory()).post("/api/v1/hardship/pushes", body, content_type="application/json")
    assert resp.status_code == 413
    assert resp["Content-Type"].startswith("application/json")
    assert resp.json()["error"]["code"] == "body_too_large"
    assert not DataPush.objects.exists()


def test_it_refuses_form_fields_over_the_limit_with_a_structured_413(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    form = {"kind": "medical", "period": "2025-03", "batch_id": "b" * 2048, "row_count": 1, "sha256": "0" * 64}
    upload = SimpleUploadedFile("rows.csv", "身份证号\n".encode())
    resp = push_client(AgencyFactory()).post("/api/v1/hardship/pushes", {**form, "file": upload})
    assert resp.status_code == 413
    assert resp.json()["error"]["code"] == "body_too_large"


def test_a_body_over_the_limit_is_a_json_413_over_http(live_server, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    secret = api_key_create(agency=AgencyFactory(), scopes=["members:verify"])[1]
    request = urllib.request.Request(  # noqa: S310 - the test server
        f"{live_server.url}/api/v1/members/verify",
        data=json.dumps({"id_number": "1" * 4096}).encode(),
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(request, timeout=30)  # noqa: S310 - the test server
    assert answer.value.code == 413
    assert answer.value.headers["Content-Type"].startswith("application/json")
    assert json.loads(answer.value.read())["error"]["code"] == "body_too_large"
