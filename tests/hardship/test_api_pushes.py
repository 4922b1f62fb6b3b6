"""The push API: POST /api/v1/hardship/pushes (JSON, pages, files), GET a push, list pushes."""

import hashlib
import json
import urllib.error
import urllib.request

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from core.services import api_key_create
from hardship import pushformats
from hardship.models import DataPush, PushRow
from tests.factories import AgencyFactory

URL = "/api/v1/hardship/pushes"


def manifest_of(rows, *, batch_id="b1", kind="medical", period="2025-03"):
    sha, count = pushformats.rows_sha256([rows])
    return {"kind": kind, "period": period, "batch_id": batch_id, "row_count": count, "sha256": sha}


def api(secret: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def post_json(client: Client, body: dict):
    return client.post(URL, json.dumps(body), content_type="application/json")


@pytest.fixture
def cdpf_key(db):
    """Another agency (残联) with its own key: an outsider to 医保局's pushes."""
    _key, secret = api_key_create(agency=AgencyFactory(code="cdpf", name="残联"), scopes=["hardship:push"])
    return secret


def test_a_json_push_answers_201_and_the_same_batch_again_200_with_the_same_body(nhsa_key, push_rows):
    rows = push_rows("medical", 3)
    rows[2]["out_of_pocket"] = "-1"
    client = api(nhsa_key)
    response = post_json(client, {"manifest": manifest_of(rows), "rows": rows})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["state"], body["accepted"], body["rejected"], body["agency"]) == ("ingested", 2, 1, "nhsa")
    assert body["errors"] == [
        {"line": 3, "reason": "negative_amount", "field": "out_of_pocket", "message": body["errors"][0]["message"]}
    ]
    assert response["Location"] == f"{URL}/{body['id']}"

    again = post_json(client, {"manifest": manifest_of(rows), "rows": rows})
    assert again.status_code == 200 and again.json() == body
    assert client.get(f"{URL}/{body['id']}").json() == body
    assert PushRow.objects.count() == 2


def test_the_agency_is_the_keys_never_the_bodys(nhsa_key, nhsa, push_rows):
    rows = push_rows("medical", 1)
    response = post_json(api(nhsa_key), {"manifest": {**manifest_of(rows), "agency": "mca"}, "rows": rows})
    assert response.status_code == 201
    assert DataPush.objects.get().agency == nhsa


def test_a_csv_file_is_pushed_as_multipart(nhsa_key, push_rows):
    rows = push_rows("medical", 2)
    header = "记录编号,身份证号,姓名,医疗总费用,医保报销,个人自付,疾病类别\r\n"
    lines = [
        f"{r['source_key']},{r['id_number']},{r['name']},{r['total_cost']},{r['reimbursed']},{r['out_of_pocket']},"
        f"{r['illness_category']}\r\n"
        for r in rows
    ]
    content = (header + "".join(lines)).encode("gbk")
    data = {
        "kind": "medical",
        "period": "2025-03",
        "batch_id": "file-1",
        "row_count": 2,
        "sha256": hashlib.sha256(content).hexdigest(),
        "file": SimpleUploadedFile("三月.csv", content, content_type="text/csv"),
    }
    response = api(nhsa_key).post(URL, data)
    assert response.status_code == 201, response.content
    assert (response.json()["accepted"], DataPush.objects.get().encoding) == (2, "gb18030")


def test_a_push_in_pages_answers_202_until_its_last_page(nhsa_key, push_rows, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    rows = push_rows("disability", 5)
    manifest = manifest_of(rows, kind="disability")
    client = api(nhsa_key)
    first = post_json(client, {"manifest": manifest, "page": 1, "pages": 2, "rows": rows[:3]})
    assert first.status_code == 202
    assert (first.json()["state"], first.json()["pages_received"]) == ("receiving", [1])
    last = post_json(client, {"manifest": manifest, "page": 2, "pages": 2, "rows": rows[3:]})
    assert last.status_code == 201
    assert (last.json()["state"], last.json()["accepted"]) == ("ingested", 5)


def test_a_manifest_mismatch_is_a_structured_400_and_keeps_nothing(nhsa_key, push_rows):
    rows = push_rows("medical", 3)
    response = post_json(api(nhsa_key), {"manifest": {**manifest_of(rows), "row_count": 4}, "rows": rows})
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["declared"], error["received"]) == ("row_count_mismatch", 4, 3)
    assert error["message"]
    response = post_json(api(nhsa_key), {"manifest": {**manifest_of(rows), "sha256": "0" * 64}, "rows": rows})
    assert response.json()["error"]["code"] == "sha256_mismatch"
    assert not DataPush.objects.exists() and not PushRow.objects.exists()


def test_an_invalid_manifest_names_its_fields(nhsa_key, push_rows):
    rows = push_rows("medical", 1)
    response = post_json(api(nhsa_key), {"manifest": {**manifest_of(rows), "kind": "salary"}, "rows": rows})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and "manifest.kind" in error["fields"]


def test_a_file_missing_a_column_is_refused(nhsa_key):
    content = "记录编号,身份证号\r\nA1,330502199003071232\r\n".encode()
    data = {
        "kind": "medical",
        "period": "2025-03",
        "batch_id": "f",
        "row_count": 1,
        "sha256": hashlib.sha256(content).hexdigest(),
        "file": SimpleUploadedFile("x.csv", content),
    }
    response = api(nhsa_key).post(URL, data)
    assert response.status_code == 400 and response.json()["error"]["code"] == "missing_columns"


def test_a_large_push_answers_202_pending_and_reports_its_state(
    nhsa_key, push_rows, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.HARDSHIP_PUSH_SYNC_MAX_ROWS = 2
    rows = push_rows("medical", 3)
    client = api(nhsa_key)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post_json(client, {"manifest": manifest_of(rows), "rows": rows})
    assert response.status_code == 202 and response.json()["state"] == "pending"
    url = response["Location"]
    assert client.get(url).json()["state"] == "pending"
    for callback in callbacks:
        callback()
    body = client.get(url).json()
    assert (body["state"], body["accepted"]) == ("ingested", 3)


def test_an_agency_sees_only_its_own_pushes(nhsa_key, cdpf_key, push_rows):
    rows = push_rows("medical", 1)
    mine = post_json(api(nhsa_key), {"manifest": manifest_of(rows, batch_id="same"), "rows": rows}).json()
    theirs = post_json(
        api(cdpf_key), {"manifest": manifest_of(rows, batch_id="same", kind="medical"), "rows": rows}
    ).json()
    assert mine["id"] != theirs["id"]  # batch ids are per agency

    outsider = api(cdpf_key)
    response = outsider.get(f"{URL}/{mine['id']}")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    listed = outsider.get(URL).json()["results"]
    assert [p["id"] for p in listed] == [theirs["id"]]
    own = api(nhsa_key).get(URL, {"kind": "medical"}).json()["results"]
    assert [p["id"] for p in own] == [mine["id"]] and own[0]["accepted"] == 1


def test_a_key_without_the_scope_is_refused_403(agency_key, push_rows):
    rows = push_rows("medical", 1)
    response = post_json(api(agency_key), {"manifest": manifest_of(rows), "rows": rows})
    assert response.status_code == 403 and response.json()["error"]["code"] == "missing_scope"
    assert api(agency_key).get(URL).status_code == 403
    assert not DataPush.objects.exists()


def test_a_key_without_an_agency_cannot_push(db, push_rows):
    """A merchant's key cannot be given the push scope; one written before that rule is refused."""
    from core.errors import ServiceError
    from core.models import ApiKey
    from vouchers.models import Merchant, MerchantApiKey
    from vouchers.services.merchants import merchant_api_key_create

    shop = Merchant.objects.create(
        name="太湖电器", category="appliances", address="湖州市吴兴区人民路8号", credit_code="91330502MA2B3C4D5E",
        contact_name="李明", contact_mobile="13700000000", state=Merchant.State.APPROVED,
    )  # fmt: skip
    with pytest.raises(ServiceError) as err:
        merchant_api_key_create(merchant=shop, actor=None, scopes=["hardship:push"])
    assert err.value.code == "scope_not_for_holder"
    secret, key_id, part = ApiKey.new_secret()
    key = ApiKey.objects.create(key_id=key_id, key_hash=ApiKey.digest(part), scopes=["hardship:push"])
    MerchantApiKey.objects.create(key=key, merchant=shop)
    rows = push_rows("medical", 1)
    response = post_json(api(secret), {"manifest": manifest_of(rows), "rows": rows})
    assert response.status_code == 401 and response.json()["error"]["code"] == "revoked_key"
    assert not DataPush.objects.exists()


def test_no_key_is_refused_401(db, push_rows, staff):
    rows = push_rows("medical", 1)
    response = post_json(Client(), {"manifest": manifest_of(rows), "rows": rows})
    assert response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated"
    signed_in = Client()
    signed_in.force_login(staff)  # staff sessions are no agency
    assert signed_in.get(URL).status_code == 401
    assert Client().get(f"{URL}/1").status_code == 401


def test_a_push_over_real_http(live_server, nhsa_key, push_rows):
    rows = push_rows("work_injury", 2)
    body = json.dumps({"manifest": manifest_of(rows, kind="work_injury"), "rows": rows}).encode()
    request = urllib.request.Request(  # noqa: S310 - the test server
        f"{live_server.url}{URL}",
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {nhsa_key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the test server
        assert response.status == 201
        answer = json.loads(response.read())
    assert (answer["state"], answer["accepted"]) == ("ingested", 2)
    request = urllib.request.Request(  # noqa: S310 - the test server
        f"{live_server.url}{URL}/{answer['id']}", headers={"Authorization": f"Bearer {nhsa_key}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the test server
        assert json.loads(response.read()) == answer
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{live_server.url}{URL}/{answer['id']}", timeout=30)  # noqa: S310
    assert refused.value.code == 401


def test_the_list_makes_the_same_queries_for_one_push_or_many(nhsa_key, push_rows):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = api(nhsa_key)
    rows = push_rows("medical", 1)
    post_json(client, {"manifest": manifest_of(rows, batch_id="one"), "rows": rows})
    client.get(URL)  # the key's last use is recorded once a minute at most
    with CaptureQueriesContext(connection) as one:
        assert len(client.get(URL).json()["results"]) == 1
    for n in range(4):
        post_json(client, {"manifest": manifest_of(rows, batch_id=f"more-{n}"), "rows": rows})
    with CaptureQueriesContext(connection) as five:
        assert len(client.get(URL).json()["results"]) == 5
    assert len(five.captured_queries) == len(one.captured_queries)
