"""Numbers typed into the hardship admin and pushed by agencies: ASCII and fullwidth digits are read,
other digits ("²", "①", "٣") are not a number. A case id in other digits is no case (404, never a
500), a report's union in other digits is no union, and a pushed grade or date in other digits
is a rejected row with its reason, never a failed push and never read as the digit it looks like."""

import json

import pytest
from django.test import Client

from hardship import pushformats
from hardship.models import AccessLog, PushRow
from tests.hardship.conftest import grant_hardship

pytestmark = pytest.mark.django_db

CASES = "/admin/hardship/case/"
REPORT = "/admin/hardship/case/report/"
PUSHES = "/api/v1/hardship/pushes"
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
HOSTILE = ["²", "①", "٣", "1²"]


@pytest.mark.parametrize("value", HOSTILE)
def test_a_case_id_in_other_digits_is_no_case(client, case_staff, open_case, value):
    client.force_login(case_staff)
    assert client.get(f"{CASES}{value}/change/").status_code == 404
    resp = client.post(f"{CASES}{value}/do/transition/", {"transition-to_state": "contacted", "transition-note": ""})
    assert resp.status_code == 404
    assert not AccessLog.objects.filter(user=case_staff).exists()


def test_a_case_id_in_fullwidth_digits_opens_the_case(client, case_staff, open_case):
    client.force_login(case_staff)
    resp = client.get(f"{CASES}{str(open_case.pk).translate(FULLWIDTH)}/change/")
    assert resp.status_code == 200
    assert AccessLog.objects.filter(user=case_staff, case=open_case, action="open").exists()


@pytest.fixture
def city_hardship(city_staff):
    return grant_hardship(city_staff)


@pytest.mark.parametrize("value", HOSTILE)
def test_the_report_shows_the_whole_scope_for_a_union_in_other_digits(client, city_hardship, tree, value):
    client.force_login(city_hardship)
    resp = client.get(REPORT, {"period": "2025-03", "union": value})
    assert resp.status_code == 200
    assert resp.context["union"] is None


def test_the_report_reads_a_union_in_fullwidth_digits(client, city_hardship, tree):
    client.force_login(city_hardship)
    resp = client.get(REPORT, {"period": "2025-03", "union": str(tree.nx.pk).translate(FULLWIDTH)})
    assert resp.status_code == 200 and resp.context["union"] == tree.nx


def push(secret, kind, rows):
    sha, count = pushformats.rows_sha256([rows])
    manifest = {"kind": kind, "period": "2025-03", "batch_id": "b1", "row_count": count, "sha256": sha}
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}").post(
        PUSHES, json.dumps({"manifest": manifest, "rows": rows}), content_type="application/json"
    )


def test_a_pushed_grade_in_other_digits_is_a_rejected_row_and_a_fullwidth_one_is_read(nhsa_key, push_rows):
    rows = push_rows("work_injury", 6)
    for row, grade in zip(rows, ["²", "①", "٣", "第٣级", "１０", "第３级"], strict=True):
        row["grade"] = grade
    resp = push(nhsa_key, "work_injury", rows)
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert (body["accepted"], body["rejected"]) == (2, 4)
    assert [(e["line"], e["reason"], e["field"]) for e in body["errors"]] == [
        (line, "unknown_grade", "grade") for line in (1, 2, 3, 4)
    ]
    assert sorted(r.payload["grade"] for r in PushRow.objects.all()) == [3, 10]


def test_a_pushed_date_in_other_digits_is_a_rejected_row_and_a_fullwidth_one_is_read(nhsa_key, push_rows):
    rows = push_rows("work_injury", 4)
    for row, day in zip(rows, ["٢٠٢٤-11-03", "2024-11-0²", "2024-①-03", "２０２４年１１月３日"], strict=True):
        row["injury_date"] = day
    resp = push(nhsa_key, "work_injury", rows)
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert (body["accepted"], body["rejected"]) == (1, 3)
    assert {e["reason"] for e in body["errors"]} == {"bad_date"}
    assert PushRow.objects.get().payload["injury_date"] == "2024-11-03"
