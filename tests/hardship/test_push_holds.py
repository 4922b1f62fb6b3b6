"""A push is not a lookup: unusual pushes are held for city staff (hardship.ingest.holds), their rows
neither screened nor answered in the outbound data until released; each step audited."""

import json

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from core.errors import ServiceError
from core.models import AuditEntry
from core.services import api_key_create
from hardship import pushformats
from hardship.ingest.holds import push_reject, push_release
from hardship.models import CycleRun, DataPush, PushRow
from tests.factories import AgencyFactory

pytestmark = pytest.mark.push_holds  # the production hold rules, not the relaxed ones of other tests

PUSHES = "/api/v1/hardship/pushes"
OUTBOUND = "/api/v1/hardship/outbound"


def this_month() -> str:
    return timezone.localdate().strftime("%Y-%m")


def manifest_of(rows, *, batch_id, period, kind="medical"):
    sha, count = pushformats.rows_sha256([rows])
    return {"kind": kind, "period": period, "batch_id": batch_id, "row_count": count, "sha256": sha}


def send(client, rows, *, batch_id, period=None, kind="medical"):
    body = {"manifest": manifest_of(rows, batch_id=batch_id, period=period or this_month(), kind=kind), "rows": rows}
    return client.post(PUSHES, json.dumps(body), content_type="application/json")


def outbound(client, period=None):
    return client.get(OUTBOUND, {"period": period or this_month()})


@pytest.fixture
def nhsa_client(nhsa_key):
    return Client(HTTP_AUTHORIZATION=f"Bearer {nhsa_key}")


@pytest.fixture
def published(db):
    def publish(period=None):
        return CycleRun.objects.create(period=period or this_month(), state="done", published_at=timezone.now())

    return publish


@pytest.fixture
def reviewer(city_staff):
    city_staff.user_permissions.add(Permission.objects.get(codename="review_held_push"))
    return type(city_staff).objects.get(pk=city_staff.pk)


@pytest.fixture
def pages_storage(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def test_the_one_row_lookup_is_held_and_the_outbound_data_reveals_nothing(
    nhsa_client, filed_case, member, push_rows, published, pages_storage
):
    rows = push_rows("medical", 1)
    rows[0]["id_number"] = member.id_number
    for period in ("2025-01", this_month()):  # a period long closed, and the current one
        published(period)
        response = send(nhsa_client, rows, batch_id=f"probe-{period}", period=period)
        assert response.status_code == 202 and response.json()["state"] == "held", response.content
        assert "hold_reasons" not in response.json()  # the agency is not told how to tune the next probe
        answer = outbound(nhsa_client, period)
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "no_accepted_push"
        assert member.id_masked not in answer.content.decode() and filed_case.case_no not in answer.content.decode()
    assert not PushRow.objects.exists()  # nothing ingested: nothing screened either
    held = DataPush.objects.get(batch_id="probe-2025-01")
    assert set(held.hold_reasons) == {"too_few_rows", "period_closed"}
    assert AuditEntry.objects.filter(action="hardship.push.held").count() == 2
    assert nhsa_client.get(f"{PUSHES}/{held.pk}").json()["state"] == "held"


def test_a_normal_push_flows_to_the_outbound_data(nhsa_client, filed_case, member, push_rows, published):
    rows = push_rows("medical", 12)
    rows[3]["id_number"] = member.id_number
    response = send(nhsa_client, rows, batch_id="month-1")
    assert response.status_code == 201 and response.json()["state"] == "ingested"
    published()
    assert outbound(nhsa_client).json()["results"] == [{"source_keys": ["medical-00003"], "aid_in_period": False}]


def test_release_by_city_staff_makes_a_held_push_flow(
    nhsa_client, filed_case, member, push_rows, published, reviewer, pages_storage, django_capture_on_commit_callbacks
):
    rows = push_rows("medical", 1)
    rows[0]["id_number"] = member.id_number
    send(nhsa_client, rows, batch_id="small-1")
    push = DataPush.objects.get()
    published()

    with django_capture_on_commit_callbacks(execute=True):
        push_release(actor=reviewer, push_id=push.pk, note="民政局确认为补报")

    push.refresh_from_db()
    assert (push.state, push.accepted, push.reviewed_by) == ("ingested", 1, reviewer)
    assert outbound(nhsa_client).json()["results"] == [{"source_keys": ["medical-00000"], "aid_in_period": False}]
    entry = AuditEntry.objects.get(action="hardship.push.released")
    assert entry.actor == reviewer and entry.new["note"] == "民政局确认为补报"


def test_a_rejected_push_is_never_ingested_and_its_content_is_deleted(
    nhsa_client, member, push_rows, reviewer, pages_storage, django_capture_on_commit_callbacks
):
    from hardship.ingest.storage import pages_received

    send(nhsa_client, push_rows("medical", 2), batch_id="small-1")
    push = DataPush.objects.get()
    assert pages_received(push) == [1]
    with pytest.raises(ServiceError) as err:
        push_reject(actor=reviewer, push_id=push.pk, note="  ")
    assert err.value.code == "reason_required"

    with django_capture_on_commit_callbacks(execute=True):
        push_reject(actor=reviewer, push_id=push.pk, note="疑似查询")

    push.refresh_from_db()
    assert push.state == "rejected" and pages_received(push) == [] and not PushRow.objects.exists()
    assert AuditEntry.objects.filter(action="hardship.push.rejected", actor=reviewer).exists()
    with pytest.raises(ServiceError) as err:
        push_release(actor=reviewer, push_id=push.pk)
    assert err.value.code == "not_held"


def test_only_city_staff_with_the_permission_release_or_reject(
    nhsa_client, push_rows, city_staff, district_staff, other_staff, pages_storage
):
    send(nhsa_client, push_rows("medical", 2), batch_id="small-1")
    push = DataPush.objects.get()
    for who in (city_staff, district_staff, other_staff):  # city staff without the permission, and outsiders
        with pytest.raises(ServiceError) as err:
            push_release(actor=who, push_id=push.pk)
        assert err.value.code == "forbidden"
    push.refresh_from_db()
    assert push.state == "held"


def test_city_staff_release_through_the_admin_action(
    client, nhsa_client, push_rows, reviewer, district_staff, pages_storage, django_capture_on_commit_callbacks
):
    send(nhsa_client, push_rows("medical", 2), batch_id="small-1")
    push = DataPush.objects.get()
    url = "/admin/hardship/datapush/"
    data = {"action": "release_held", "_selected_action": [push.pk]}

    district_staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_datapush", "review_held_push"]))
    client.force_login(district_staff)
    client.post(url, data)
    push.refresh_from_db()
    assert push.state == "held"  # a district's staff cannot release the city's data

    reviewer.user_permissions.add(Permission.objects.get(codename="view_datapush"))
    client.force_login(reviewer)
    page = client.get(f"{url}{push.pk}/change/").content.decode()
    assert "行数远少于该部门此类数据的通常推送" in page  # why it was held, in Chinese
    assert "release_held" in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url, data).status_code == 302
    push.refresh_from_db()
    assert (push.state, push.accepted) == ("ingested", 2)


def test_a_push_far_below_the_agencys_usual_size_is_held(nhsa, nhsa_client, push_rows, pages_storage):
    for month in ("2026-01", "2026-02", "2026-03"):
        DataPush.objects.create(
            agency=nhsa, kind="medical", period=month, batch_id=f"h-{month}", row_count=1_000, sha256="0" * 64,
            source="api_json", state=DataPush.State.INGESTED,
        )  # fmt: skip
    response = send(nhsa_client, push_rows("medical", 60), batch_id="thin-1")
    assert response.json()["state"] == "held"
    assert DataPush.objects.get(batch_id="thin-1").hold_reasons == ["too_few_rows"]
    other_kind = send(
        nhsa_client, push_rows("disability", 60), batch_id="d-1", kind="disability"
    )  # no history of that kind
    assert other_kind.json()["state"] == "ingested"


def test_many_pushes_of_one_period_are_held(nhsa_client, push_rows, settings, pages_storage):
    settings.HARDSHIP_PUSH_HOLD_MAX_PER_PERIOD = 2
    states = [send(nhsa_client, push_rows("medical", 12), batch_id=f"again-{i}").json()["state"] for i in range(3)]
    assert states == ["ingested", "ingested", "held"]
    assert DataPush.objects.get(batch_id="again-2").hold_reasons == ["many_pushes"]


def test_an_agency_never_reads_another_agencys_people(
    nhsa_client, filed_case, member, push_rows, published, pages_storage
):
    rows = push_rows("medical", 12)
    rows[0]["id_number"] = member.id_number
    send(nhsa_client, rows, batch_id="month-1")
    published()
    _key, secret = api_key_create(agency=AgencyFactory(code="cdpf", name="残联"), scopes=["hardship:push"])
    outsider = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert outbound(outsider).json()["error"]["code"] == "no_accepted_push"
    send(outsider, push_rows("medical", 12, start=50), batch_id="cj-1")  # its own accepted push
    assert outbound(outsider).json()["results"] == []
    assert outsider.get(f"{PUSHES}/{DataPush.objects.get(batch_id='month-1').pk}").status_code == 404


def test_staff_uploads_are_not_held(city_staff, nhsa, push_rows, settings, tmp_path):
    from hardship.ingest import push_upload

    settings.MEDIA_ROOT = str(tmp_path)
    city_staff.user_permissions.add(*Permission.objects.filter(codename__in=["add_datapush", "upload_agency_data"]))
    content = f"记录编号,身份证号,医疗总费用,医保报销,个人自付\r\nk1,{push_rows.numbers[0]},100,50,50\r\n".encode()
    import hashlib

    manifest = {
        "kind": "medical", "period": "2025-01", "batch_id": "up-1", "row_count": 1,
        "sha256": hashlib.sha256(content).hexdigest(),
    }  # fmt: skip
    push = push_upload(
        actor=type(city_staff).objects.get(pk=city_staff.pk), agency=nhsa, manifest=manifest, content=content
    )
    assert push.state == "ingested"


def test_the_reviewers_are_notified_of_a_held_push(
    nhsa_client, push_rows, reviewer, district_staff, pages_storage, django_capture_on_commit_callbacks
):
    from core.models import Notification

    with django_capture_on_commit_callbacks(execute=True):
        send(nhsa_client, push_rows("medical", 2), batch_id="small-1")
    [note] = Notification.objects.all()
    assert note.recipient == reviewer and "/admin/hardship/datapush/" in note.link
