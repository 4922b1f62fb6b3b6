"""Pushes in: formats and encodings, every bad-row reason, manifests, idempotence, corrections,
large pushes and a restarted ingestion (hardship.ingest, called as the API and the admin do)."""

import csv
import datetime as dt
import hashlib
import io
import json

import pytest
from django.db import connection
from django.utils import timezone

from core.crypto import id_number_index
from core.errors import ServiceError
from core.models import AuditEntry
from hardship import ingest, pushformats
from hardship.ingest import receive as ingest_receive
from hardship.ingest import rows as ingest_rows
from hardship.ingest import storage as ingest_storage
from hardship.models import DataPush, PushRow

ZH_HEADERS = {
    "source_key": "记录编号",
    "id_number": "身份证号",
    "name": "姓名",
    "total_cost": "医疗总费用",
    "reimbursed": "医保报销",
    "out_of_pocket": "个人自付",
    "illness_category": "疾病类别",
    "list": "救助类别",
    "start_date": "起始日期",
    "status": "状态",
    "injury_date": "受伤日期",
    "grade": "等级",
    "type": "残疾类别",
    "body": "援助单位",
    "purpose": "援助事由",
    "fund_line": "资金类别",
    "amount": "金额",
    "date": "发放日期",
}


def csv_bytes(rows: list[dict], *, encoding="utf-8", chinese=True) -> bytes:
    fields = list(rows[0])
    buf = io.StringIO(newline="")
    writer = csv.writer(buf)
    writer.writerow([ZH_HEADERS[f] if chinese else f for f in fields])
    for row in rows:
        writer.writerow([row.get(f, "") for f in fields])
    return buf.getvalue().encode(encoding)


def xlsx_bytes(rows: list[dict]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    fields = list(rows[0])
    ws.append(fields)
    for row in rows:
        ws.append([row.get(f) for f in fields])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def file_manifest(kind: str, content: bytes, rows: int, batch_id="b1", period="2025-03") -> dict:
    return {
        "kind": kind,
        "period": period,
        "batch_id": batch_id,
        "row_count": rows,
        "sha256": hashlib.sha256(content).hexdigest(),
    }


def json_manifest(kind: str, rows: list, batch_id="j1", period="2025-03") -> dict:
    sha, count = pushformats.rows_sha256([rows])
    return {"kind": kind, "period": period, "batch_id": batch_id, "row_count": count, "sha256": sha}


def send_file(agency, kind, rows, *, batch_id="b1", period="2025-03", **kwargs):
    content = csv_bytes(rows, **kwargs)
    return ingest.push_receive_file(
        agency=agency,
        manifest=file_manifest(kind, content, len(rows), batch_id, period),
        content=content,
        filename="push.csv",
    )


def send_json(agency, kind, rows, *, batch_id="j1", period="2025-03"):
    return ingest.push_receive_json(agency=agency, manifest=json_manifest(kind, rows, batch_id, period), rows=rows)


def errors_of(push) -> list[tuple[int, str]]:
    return [(e["line"], e["reason"]) for e in push.errors]


# --- Formats, encodings, kinds ----------------------------------------------------------------


EXPECTED_PAYLOAD = {
    "low_income": {"list": "dibao", "start_date": "2024-07-01", "status": "active", "name": "张伟"},
    "work_injury": {"injury_date": "2024-11-03", "grade": 4, "name": "张伟"},
    "medical": {
        "total_cost": "439305.46",
        "reimbursed": "285120.79",
        "out_of_pocket": "154184.67",
        "illness_category": "肝衰竭",
        "name": "张伟",
    },
    "disability": {"type": "physical", "grade": 4, "name": "张伟"},
    "aid_given": {
        "body": "民政局",
        "purpose": "大病救助",
        "fund_line": "illness",
        "amount": "3000.00",
        "date": "2025-03-02",
        "name": "张伟",
    },
}


@pytest.mark.parametrize("kind", list(EXPECTED_PAYLOAD))
def test_it_ingests_a_json_push_of_each_kind(nhsa, push_rows, kind):
    rows = push_rows(kind, 3)
    push = send_json(nhsa, kind, rows)
    assert (push.state, push.accepted, push.rejected, push.created_now) == ("ingested", 3, 0, True)
    stored = PushRow.objects.filter(push=push).order_by("line")
    assert [r.line for r in stored] == [1, 2, 3]
    first = stored[0]
    assert first.payload == EXPECTED_PAYLOAD[kind]
    assert (first.agency, first.kind, first.period, first.source_key) == (nhsa, kind, "2025-03", f"{kind}-00000")
    assert first.id_number == push_rows.numbers[0]
    assert first.id_index == id_number_index(push_rows.numbers[0])
    assert first.is_current and first.member is None


@pytest.mark.parametrize("kind", list(EXPECTED_PAYLOAD))
def test_it_ingests_a_csv_file_of_each_kind_with_chinese_headers(nhsa, push_rows, kind):
    push = send_file(nhsa, kind, push_rows(kind, 2))
    assert (push.accepted, push.rejected) == (2, 0), push.errors
    row = PushRow.objects.get(push=push, line=2)  # the header is line 1
    assert row.payload == EXPECTED_PAYLOAD[kind]


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"), ("gb18030", "gb18030")],
)
def test_it_reads_csv_in_every_encoding(nhsa, push_rows, encoding, detected):
    rows = push_rows("medical", 3)
    rows[2]["name"] = "欧阳䶮"  # a character outside GBK: only for GB18030 and UTF-8
    if encoding == "gbk":
        rows[2]["name"] = "欧阳娜"
    push = send_file(nhsa, "medical", rows, encoding=encoding)
    assert (push.accepted, push.rejected, push.encoding) == (3, 0, detected)
    assert PushRow.objects.get(push=push, line=4).payload["name"] == rows[2]["name"]
    assert PushRow.objects.get(push=push, line=2).payload["illness_category"] == "肝衰竭"


def test_it_reads_english_headers_and_headers_with_units(nhsa, push_rows):
    rows = push_rows("medical", 2)
    content = csv_bytes(rows, chinese=False).replace(b"total_cost", "医疗总费用（元）".encode())
    push = ingest.push_receive_file(
        agency=nhsa, manifest=file_manifest("medical", content, 2), content=content, filename="x.csv"
    )
    assert (push.accepted, push.rejected) == (2, 0)
    assert PushRow.objects.get(push=push, line=3).payload["total_cost"] == "439305.46"


def test_it_reads_an_xlsx_file_with_numbers_and_dates(nhsa, push_rows, xlsx_pushed):
    rows = push_rows("work_injury", 2)
    rows[0].update(grade=3, injury_date=dt.datetime(2024, 5, 6))  # noqa: DTZ001 (a spreadsheet cell has no zone)
    rows[1].update(grade="十级", id_number=rows[1]["id_number"])
    content = xlsx_bytes(rows)
    push = xlsx_pushed(nhsa, file_manifest("work_injury", content, 2), content)
    assert (push.accepted, push.rejected, push.encoding) == (2, 0, "xlsx"), push.errors
    assert PushRow.objects.get(push=push, line=2).payload == {"injury_date": "2024-05-06", "grade": 3, "name": "张伟"}
    assert PushRow.objects.get(push=push, line=3).payload["grade"] == 10


def test_xlsx_amounts_as_numbers_keep_their_cents(nhsa, push_rows, xlsx_pushed):
    rows = push_rows("medical", 1)
    rows[0].update(total_cost=439305.46, reimbursed=285120.79, out_of_pocket=154184.67)
    content = xlsx_bytes(rows)
    push = xlsx_pushed(nhsa, file_manifest("medical", content, 1), content)
    assert PushRow.objects.get(push=push).payload["out_of_pocket"] == "154184.67"


def test_blank_lines_are_skipped_but_keep_their_line_numbers(nhsa, push_rows):
    rows = push_rows("medical", 2)
    content = csv_bytes(rows).replace(b"\r\nmedical-00001", b"\r\n,,,,,,\r\n\r\nmedical-00001")
    push = ingest.push_receive_file(
        agency=nhsa, manifest=file_manifest("medical", content, 2), content=content, filename="x.csv"
    )
    assert sorted(PushRow.objects.filter(push=push).values_list("line", flat=True)) == [2, 5]


def short_rows_csv(numbers) -> bytes:
    """A CSV in the template's column order with short rows and a row with extra cells."""
    lines = [
        "记录编号,身份证号,姓名,医疗总费用,医保报销,个人自付,疾病类别",
        f"k1,{numbers[0]},张伟,100,50,50,肝衰竭",
        f"k2,{numbers[1]},张伟,100,50,50",  # the optional last column left off
        f"k3,{numbers[2]}",  # a truncated line
        "合计,,,300",  # a total at the bottom
        f"k4,{numbers[3]},张伟,100,50,50,肝衰竭,备注,more",  # cells beyond the header: ignored
    ]
    return ("\n".join(lines) + "\n").encode()


def test_a_short_csv_row_has_its_missing_cells_empty(nhsa, push_rows):
    content = short_rows_csv(push_rows.numbers)
    push = ingest.push_receive_file(
        agency=nhsa, manifest=file_manifest("medical", content, 5), content=content, filename="x.csv"
    )
    assert (push.state, push.accepted, push.rejected) == ("ingested", 3, 2)
    assert [(e["line"], e["reason"], e["field"]) for e in push.errors] == [
        (4, "missing_field", "total_cost"),
        (5, "missing_field", "id_number"),
    ]
    payloads = dict(PushRow.objects.filter(push=push).values_list("source_key", "payload"))
    assert "illness_category" not in payloads["k2"] and payloads["k2"]["out_of_pocket"] == "50.00"
    assert payloads["k4"] == payloads["k1"]


def test_a_queued_push_with_a_short_row_is_ingested(nhsa, push_rows, small_threshold):
    content = short_rows_csv(push_rows.numbers)
    push = ingest.push_receive_file(
        agency=nhsa, manifest=file_manifest("medical", content, 5), content=content, filename="x.csv"
    )
    assert push.state == "pending"
    push = ingest.push_ingest(push_id=push.pk)
    assert (push.state, push.accepted, push.rejected) == ("ingested", 3, 2)


@pytest.mark.parametrize("members_first", [True, False])
def test_rows_of_members_are_matched_as_they_are_stored(nhsa, push_rows, member, other_member, members_first):
    if not members_first:  # more members than rows: each chunk looks its own members up
        from tests.factories import MemberFactory

        MemberFactory.create_batch(10, union=member.union)
    rows = push_rows("medical", 3)
    rows[0]["id_number"] = member.id_number
    rows[2]["id_number"] = other_member.id_number.lower()
    push = send_json(nhsa, "medical", rows)
    matched = dict(PushRow.objects.filter(push=push).values_list("line", "member"))
    assert matched == {1: member.pk, 2: None, 3: other_member.pk}


def test_a_member_deleted_while_rows_are_stored_is_unmatched(nhsa, push_rows, member, monkeypatch):
    rows = push_rows("medical", 2)
    rows[0]["id_number"] = member.id_number
    gone = id_number_index(rows[1]["id_number"])
    monkeypatch.setattr(ingest_rows, "_all_members", lambda: {member.id_index: member.pk, gone: member.pk + 999})
    push = send_json(nhsa, "medical", rows)
    assert dict(PushRow.objects.filter(push=push).values_list("line", "member")) == {1: member.pk, 2: None}


# --- Bad rows -------------------------------------------------------------------------------


def test_it_rejects_each_bad_row_with_its_line_and_reason_and_keeps_the_good_ones(nhsa, push_rows):
    rows = push_rows("medical", 12)
    bad_check = rows[1]["id_number"][:17] + ("0" if rows[1]["id_number"][17] != "0" else "1")
    rows[1]["id_number"] = bad_check  # line 3
    rows[2]["total_cost"] = "-5.00"  # line 4
    rows[3]["reimbursed"] = "12.345"  # line 5
    rows[4]["out_of_pocket"] = ""  # line 6: a required amount
    rows[5]["source_key"] = rows[0]["source_key"]  # line 7: duplicate of line 2
    rows[6]["id_number"] = "33050219900307"  # line 8: too short
    rows[7]["total_cost"] = "一千"  # line 9
    push = send_file(nhsa, "medical", rows)
    assert errors_of(push) == [
        (3, "bad_id_number"),
        (4, "negative_amount"),
        (5, "bad_amount"),
        (6, "missing_field"),
        (7, "duplicate_in_batch"),
        (8, "bad_id_number"),
        (9, "bad_amount"),
    ]
    by_line = {e["line"]: e for e in push.errors}
    assert (by_line[3]["detail"], by_line[8]["detail"]) == ("id_check", "id_format")
    assert by_line[3]["field"] == "id_number" and by_line[3]["message"]
    assert by_line[6]["field"] == "out_of_pocket"
    assert "2" in by_line[7]["message"]  # first on line 2
    assert (push.accepted, push.rejected) == (5, 7)
    assert sorted(PushRow.objects.filter(push=push).values_list("line", flat=True)) == [2, 10, 11, 12, 13]


def test_it_rejects_unknown_grades_values_and_bad_dates(nhsa, push_rows):
    injury = push_rows("work_injury", 4)
    injury[0]["grade"] = "11"
    injury[1]["grade"] = "重度"
    injury[2]["injury_date"] = "2024-02-30"
    injury[3]["injury_date"] = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    push = send_json(nhsa, "work_injury", injury)
    assert errors_of(push) == [(1, "unknown_grade"), (2, "unknown_grade"), (3, "bad_date"), (4, "bad_date")]

    disability = push_rows("disability", 2)
    disability[0]["grade"] = 5
    disability[1]["type"] = "其他"
    push = send_json(nhsa, "disability", disability, batch_id="j2")
    assert errors_of(push) == [(1, "unknown_grade"), (2, "unknown_value")]

    low = push_rows("low_income", 3)
    low[0]["list"] = "特困"
    low[1]["status"] = "暂停"
    low[2].pop("start_date")
    push = send_json(nhsa, "low_income", low, batch_id="j3")
    assert errors_of(push) == [(1, "unknown_value"), (2, "unknown_value"), (3, "missing_field")]

    aid = push_rows("aid_given", 2)
    aid[0]["fund_line"] = "奖金"
    aid[1]["amount"] = -3000
    push = send_json(nhsa, "aid_given", aid, batch_id="j4")
    assert errors_of(push) == [(1, "unknown_value"), (2, "negative_amount")]


def test_a_missing_source_key_or_id_number_and_a_too_long_name_are_rejected(nhsa, push_rows):
    rows = push_rows("medical", 3)
    rows[0]["source_key"] = " "
    del rows[1]["id_number"]
    rows[2]["name"] = "张" * 51
    push = send_json(nhsa, "medical", rows)
    assert [(e["line"], e["reason"], e["field"]) for e in push.errors] == [
        (1, "missing_field", "source_key"),
        (2, "missing_field", "id_number"),
        (3, "too_long", "name"),
    ]
    assert push.accepted == 0


def test_the_id_validator_detail_names_the_problem(nhsa, push_rows):
    rows = push_rows("medical", 3)
    rows[0]["id_number"] = "990502199003071232"  # region
    rows[1]["id_number"] = "330502199013071232"  # birth date
    rows[2]["id_number"] = rows[2]["id_number"].lower()  # a lowercase x is fine
    push = send_json(nhsa, "medical", rows)
    assert [(e["line"], e.get("detail")) for e in push.errors] == [(1, "id_region"), (2, "id_birth_date")]
    assert push.accepted == 1


# --- Manifests -------------------------------------------------------------------------------


@pytest.mark.parametrize("send", ["json", "csv"])
def test_control_and_broken_characters_in_keys_and_text_are_rejected_rows(nhsa, push_rows, send):
    rows = push_rows("medical", 5)
    rows[0]["source_key"] = "YB\x00001"
    rows[1]["illness_category"] = "肝\x00衰竭"
    rows[2]["name"] = "张\x1b伟"
    rows[3]["illness_category"] = "肝衰竭\n（复发）\t住院"  # line breaks and tabs are fine in text
    if send == "json":
        rows[4]["name"] = "\ud800"  # a lone surrogate, valid in JSON
        push = send_json(nhsa, "medical", rows)
    else:
        push = send_file(nhsa, "medical", rows)
    first = 1 if send == "json" else 2  # a file's line 1 is its header
    expected = [(first, "bad_character", "source_key"), (first + 1, "bad_character", "illness_category")]
    expected.append((first + 2, "bad_character", "name"))
    if send == "json":
        expected.append((first + 4, "bad_character", "name"))
    assert [(e["line"], e["reason"], e["field"]) for e in push.errors] == expected
    assert push.state == "ingested" and push.accepted == 5 - len(expected)
    assert (
        PushRow.objects.get(push=push, source_key="medical-00003").payload["illness_category"]
        == "肝衰竭\n（复发）\t住院"
    )


def test_a_nul_in_a_source_key_of_a_queued_push_is_a_rejected_row(nhsa, push_rows, small_threshold):
    rows = push_rows("medical", 6)
    rows[1]["source_key"] = "YB\x00002"
    push = ingest.push_ingest(push_id=send_file(nhsa, "medical", rows).pk)
    assert (push.state, push.accepted) == ("ingested", 5)
    assert errors_of(push) == [(3, "bad_character")]


def test_a_file_whose_row_count_differs_is_refused_and_nothing_is_kept(nhsa, push_rows):
    rows = push_rows("medical", 3)
    content = csv_bytes(rows)
    with pytest.raises(ingest.ManifestMismatch) as caught:
        ingest.push_receive_file(
            agency=nhsa, manifest=file_manifest("medical", content, 4), content=content, filename="x.csv"
        )
    assert caught.value.code == "row_count_mismatch"
    assert caught.value.details == {"declared": 4, "received": 3}
    assert not DataPush.objects.exists() and not PushRow.objects.exists()
    assert AuditEntry.objects.filter(action="hardship.push.refused").count() == 1


def test_a_push_whose_sha256_differs_is_refused_and_nothing_is_kept(nhsa, push_rows):
    rows = push_rows("medical", 3)
    manifest = json_manifest("medical", rows)
    rows[1]["total_cost"] = "1.00"
    with pytest.raises(ingest.ManifestMismatch) as caught:
        ingest.push_receive_json(agency=nhsa, manifest=manifest, rows=rows)
    assert caught.value.code == "sha256_mismatch"
    content = csv_bytes(rows)
    with pytest.raises(ingest.ManifestMismatch):
        ingest.push_receive_file(
            agency=nhsa, manifest={**file_manifest("medical", content, 3), "sha256": "a" * 64}, content=content
        )
    assert not DataPush.objects.exists() and not PushRow.objects.exists()
    # The batch id stays free: the corrected push goes through.
    assert send_json(nhsa, "medical", rows).accepted == 3


def test_the_sha256_of_json_is_the_documented_canonical_form(push_rows):
    rows = [{"b": "二", "a": 1}, {"c": None}]
    expected = hashlib.sha256('{"a":1,"b":"二"}\n{"c":null}'.encode()).hexdigest()
    assert pushformats.rows_sha256([rows]) == (expected, 2)
    assert pushformats.rows_sha256([rows[:1], rows[1:]]) == (expected, 2)


@pytest.mark.parametrize(
    ("field", "value"),
    [("kind", "salary"), ("period", "2025-13"), ("period", "2025-Q5"), ("batch_id", ""), ("row_count", -1)],
)
def test_an_invalid_manifest_is_refused(nhsa, push_rows, field, value):
    rows = push_rows("medical", 1)
    with pytest.raises(ServiceError) as caught:
        ingest.push_receive_json(agency=nhsa, manifest={**json_manifest("medical", rows), field: value}, rows=rows)
    assert caught.value.code == "invalid_manifest"


def test_a_quarter_period_is_accepted(nhsa, push_rows):
    rows = push_rows("medical", 1)
    push = send_json(nhsa, "medical", rows, period="2025-q1")
    assert push.period == "2025-Q1" and PushRow.objects.get().period == "2025-Q1"


def test_a_file_missing_a_required_column_or_unreadable_is_refused(nhsa, push_rows):
    content = csv_bytes(push_rows("medical", 1)).replace("个人自付".encode(), b"remark")
    with pytest.raises(ServiceError) as caught:
        ingest.push_receive_file(agency=nhsa, manifest=file_manifest("medical", content, 1), content=content)
    assert caught.value.code == "missing_columns" and "个人自付" in caught.value.message
    content = b"\xd0\xcf\x11\xe0" + b"\x00" * 100
    with pytest.raises(ServiceError) as caught:
        ingest.push_receive_file(agency=nhsa, manifest=file_manifest("medical", content, 0), content=content)
    assert caught.value.code == "unreadable_file"
    assert not DataPush.objects.exists()


# --- Idempotence and corrections ---------------------------------------------------------------


def test_the_same_batch_again_changes_nothing_and_returns_the_first_answer(nhsa, push_rows):
    rows = push_rows("medical", 3)
    rows[1]["total_cost"] = "-1"
    first = send_file(nhsa, "medical", rows)
    answer = ingest.push_answer(first)
    again = send_file(nhsa, "medical", rows)
    assert again.pk == first.pk and again.created_now is False
    assert ingest.push_answer(again) == answer
    # Even with other content, the batch id identifies the batch.
    other = send_json(nhsa, "medical", push_rows("medical", 5), batch_id="b1")
    assert other.pk == first.pk
    assert PushRow.objects.count() == 2 and DataPush.objects.count() == 1
    assert AuditEntry.objects.filter(action="hardship.push.ingested").count() == 1


def test_a_corrected_row_replaces_the_old_one(nhsa, push_rows):
    first = send_json(nhsa, "medical", push_rows("medical", 3), batch_id="march-1")
    corrected = push_rows("medical", 1, start=1)
    corrected[0]["out_of_pocket"] = "160000.00"
    second = send_json(nhsa, "medical", corrected, batch_id="march-2")
    assert (second.accepted, second.replaced) == (1, 1)
    old = PushRow.objects.get(push=first, source_key="medical-00001")
    new = PushRow.objects.get(push=second, source_key="medical-00001")
    assert old.is_current is False and new.is_current is True
    assert new.payload["out_of_pocket"] == "160000.00"
    assert PushRow.objects.filter(is_current=True).count() == 3
    # Another period, or another agency, replaces nothing.
    april = send_json(nhsa, "medical", corrected, batch_id="april-1", period="2025-04")
    assert april.replaced == 0
    assert PushRow.objects.filter(is_current=True, source_key="medical-00001").count() == 2


def test_a_row_may_be_corrected_twice(nhsa, push_rows):
    for n in range(3):
        rows = push_rows("medical", 1)
        rows[0]["total_cost"] = f"{1000 + n}.00"
        send_json(nhsa, "medical", rows, batch_id=f"fix-{n}")
    current = PushRow.objects.get(is_current=True)
    assert current.payload["total_cost"] == "1002.00"
    assert PushRow.objects.filter(is_current=False).count() == 2


def test_a_correction_received_after_a_queued_push_stays_current_when_that_push_is_ingested(
    nhsa, push_rows, small_threshold
):
    older = send_file(nhsa, "medical", push_rows("medical", 6), batch_id="march-big")
    assert older.state == "pending"  # large: waits for its task (or the cycle)
    corrected = push_rows("medical", 1, start=2)
    corrected[0]["out_of_pocket"] = "1.00"
    correction = send_json(nhsa, "medical", corrected, batch_id="march-fix")
    assert (correction.state, correction.accepted, correction.replaced) == ("ingested", 1, 0)

    older = ingest.push_ingest(push_id=older.pk)
    assert (older.state, older.accepted, older.replaced) == ("ingested", 6, 0)
    current = PushRow.objects.get(is_current=True, source_key="medical-00002")
    assert current.push_id == correction.pk and current.payload["out_of_pocket"] == "1.00"
    assert not PushRow.objects.get(push=older, source_key="medical-00002").is_current
    assert PushRow.objects.filter(is_current=True).count() == 6
    assert set(PushRow.objects.filter(push=older, is_current=True).values_list("source_key", flat=True)) == {
        f"medical-{i:05d}" for i in (0, 1, 3, 4, 5)
    }
    # A later push still replaces both: the one received last is current.
    again = push_rows("medical", 1, start=2)
    later = send_json(nhsa, "medical", again, batch_id="march-fix-2")
    assert later.replaced == 1
    assert PushRow.objects.get(is_current=True, source_key="medical-00002").push_id == later.pk


# --- Pages -----------------------------------------------------------------------------------


def test_a_json_push_in_pages_is_ingested_when_its_last_page_arrives(
    nhsa, push_rows, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = str(tmp_path)
    rows = push_rows("medical", 7)
    rows[5]["total_cost"] = "bad"
    manifest = json_manifest("medical", rows, batch_id="paged")
    pages = [rows[0:3], rows[3:6], rows[6:7]]
    push = ingest.push_receive_json(agency=nhsa, manifest=manifest, rows=pages[2], page=3, pages=3)
    assert push.state == "receiving" and ingest.push_answer(push)["pages_received"] == [3]
    push = ingest.push_receive_json(agency=nhsa, manifest=manifest, rows=pages[0], page=1, pages=3)
    push = ingest.push_receive_json(agency=nhsa, manifest=manifest, rows=pages[0], page=1, pages=3)  # again
    assert push.state == "receiving" and not PushRow.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        push = ingest.push_receive_json(agency=nhsa, manifest=manifest, rows=pages[1], page=2, pages=3)
    assert (push.state, push.accepted, push.rejected, push.created_now) == ("ingested", 6, 1, True)
    assert errors_of(push) == [(6, "bad_amount")]  # the line counts over all pages
    assert sorted(PushRow.objects.values_list("line", flat=True)) == [1, 2, 3, 4, 5, 7]
    assert not list((tmp_path / "hardship" / "pushes" / "pages" / str(push.pk)).glob("*.bin"))
    again = ingest.push_receive_json(agency=nhsa, manifest=manifest, rows=pages[1], page=2, pages=3)
    assert again.created_now is False and ingest.push_answer(again) == ingest.push_answer(push)


def test_a_paged_push_that_differs_from_its_manifest_keeps_nothing(
    nhsa, push_rows, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = str(tmp_path)
    rows = push_rows("medical", 4)
    manifest = {**json_manifest("medical", rows, batch_id="paged"), "row_count": 5}
    ingest.push_receive_json(agency=nhsa, manifest=manifest, rows=rows[:2], page=1, pages=2)
    with pytest.raises(ingest.ManifestMismatch) as caught, django_capture_on_commit_callbacks(execute=True):
        ingest.push_receive_json(agency=nhsa, manifest=manifest, rows=rows[2:], page=2, pages=2)
    assert caught.value.code == "row_count_mismatch"
    assert not DataPush.objects.exists() and not PushRow.objects.exists()
    assert not list(tmp_path.rglob("*.bin"))


def test_a_page_with_another_manifest_is_refused(nhsa, push_rows, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    rows = push_rows("medical", 4)
    manifest = json_manifest("medical", rows, batch_id="paged")
    ingest.push_receive_json(agency=nhsa, manifest=manifest, rows=rows[:2], page=1, pages=2)
    with pytest.raises(ServiceError) as caught:
        ingest.push_receive_json(
            agency=nhsa, manifest={**manifest, "period": "2025-04"}, rows=rows[2:], page=2, pages=2
        )
    assert caught.value.code == "manifest_conflict"


# --- Large pushes, and a restarted ingestion ------------------------------------------------


@pytest.fixture
def small_threshold(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.HARDSHIP_PUSH_SYNC_MAX_ROWS = 4
    settings.HARDSHIP_INGEST_CHUNK_ROWS = 3
    return tmp_path


def test_a_large_push_is_stored_encrypted_and_ingested_later(
    nhsa, push_rows, small_threshold, django_capture_on_commit_callbacks
):
    rows = push_rows("medical", 10)
    rows[4]["total_cost"] = "-3"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        push = send_file(nhsa, "medical", rows, encoding="gbk")
    assert (push.state, push.accepted, push.created_now) == ("pending", 0, True)
    assert len(callbacks) == 1  # the Celery task, queued on commit
    assert not PushRow.objects.exists()
    stored = (small_threshold / push.file.name).read_bytes()
    assert stored.startswith(ingest.FILE_MAGIC)
    assert rows[0]["id_number"].encode() not in stored and "肝衰竭".encode("gbk") not in stored
    assert ingest.push_answer(push)["state"] == "pending"

    callbacks[0]()  # the task runs: push_ingest
    push.refresh_from_db()
    assert (push.state, push.accepted, push.rejected, push.lines_done) == ("ingested", 9, 1, 11)
    assert errors_of(push) == [(6, "negative_amount")]
    assert PushRow.objects.count() == 9
    assert PushRow.objects.get(line=2).payload["illness_category"] == "肝衰竭"
    assert ingest.push_answer(push)["accepted"] == 9
    assert ingest.push_ingest(push_id=push.pk).state == "ingested"  # again: nothing changes
    assert PushRow.objects.count() == 9


def test_a_large_json_push_in_pages_is_ingested_later(
    nhsa, push_rows, small_threshold, django_capture_on_commit_callbacks
):
    rows = push_rows("low_income", 6)
    manifest = json_manifest("low_income", rows, batch_id="big")
    ingest.push_receive_json(agency=nhsa, manifest=manifest, rows=rows[:3], page=1, pages=2)
    with django_capture_on_commit_callbacks(execute=True):
        push = ingest.push_receive_json(agency=nhsa, manifest=manifest, rows=rows[3:], page=2, pages=2)
    assert push.state == "pending" and push.created_now
    push.refresh_from_db()
    assert (push.state, push.accepted) == ("ingested", 6)


def test_ingestion_resumes_after_a_crash_without_duplicates_or_losses(nhsa, push_rows, small_threshold, monkeypatch):
    rows = push_rows("medical", 10)
    rows[1]["total_cost"] = "-3"  # line 3, in the first chunk
    rows[8]["total_cost"] = "x"  # line 10, in the third
    push = send_file(nhsa, "medical", rows)
    assert push.state == "pending"

    real_write = ingest_rows._write_rows
    calls = []

    def crash_on_second_chunk(push_, chunk, members, stale=()):
        calls.append(len(chunk))
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        real_write(push_, chunk, members, stale)

    monkeypatch.setattr(ingest_rows, "_write_rows", crash_on_second_chunk)
    with pytest.raises(RuntimeError):
        ingest.push_ingest(push_id=push.pk)
    push.refresh_from_db()
    assert (push.state, push.accepted, push.rejected, push.lines_done) == ("pending", 2, 1, 4)
    assert PushRow.objects.count() == 2

    monkeypatch.setattr(ingest_rows, "_write_rows", real_write)
    push = ingest.push_ingest(push_id=push.pk)
    assert (push.state, push.accepted, push.rejected) == ("ingested", 8, 2)
    assert errors_of(push) == [(3, "negative_amount"), (10, "bad_amount")]
    lines = list(PushRow.objects.order_by("line").values_list("line", flat=True))
    assert lines == [2, 4, 5, 6, 7, 8, 9, 11]


def test_a_duplicate_found_after_a_restart_is_still_a_duplicate(nhsa, push_rows, small_threshold, monkeypatch):
    rows = push_rows("medical", 6)
    rows[5]["source_key"] = rows[0]["source_key"]  # line 7 repeats line 2, in another chunk
    push = send_file(nhsa, "medical", rows)
    real_write = ingest_rows._write_rows
    calls = []

    def crash(push_, chunk, members, stale=()):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        real_write(push_, chunk, members, stale)

    monkeypatch.setattr(ingest_rows, "_write_rows", crash)
    with pytest.raises(RuntimeError):
        ingest.push_ingest(push_id=push.pk)
    monkeypatch.setattr(ingest_rows, "_write_rows", real_write)
    push = ingest.push_ingest(push_id=push.pk)
    assert errors_of(push) == [(7, "duplicate_in_batch")]
    assert push.accepted == 5


@pytest.mark.django_db(transaction=True)
def test_worker_processes_check_the_rows_of_a_large_push(
    nhsa, push_rows, small_threshold, member, monkeypatch, settings
):
    monkeypatch.setattr(ingest_receive, "_queue_ingest", lambda push: None)  # no task: this test ingests
    forks = []
    real_context = ingest_rows.billiard.get_context
    monkeypatch.setattr(
        ingest_rows.billiard, "get_context", lambda method: forks.append(method) or real_context(method)
    )
    rows = push_rows("medical", 11)
    rows[0]["id_number"] = member.id_number
    rows[7]["reimbursed"] = "-1"
    push = send_file(nhsa, "medical", rows)
    settings.HARDSHIP_INGEST_PROCESSES = 2
    push = ingest.push_ingest(push_id=push.pk)
    assert forks == ["fork"]
    assert (push.state, push.accepted, push.rejected) == ("ingested", 10, 1)
    assert errors_of(push) == [(9, "negative_amount")]
    assert PushRow.objects.get(line=2).member == member
    assert sorted(PushRow.objects.values_list("line", flat=True)) == [2, 3, 4, 5, 6, 7, 8, 10, 11, 12]


def test_a_stored_push_that_can_no_longer_be_decrypted_fails_with_its_reason(nhsa, push_rows, small_threshold):
    push = send_file(nhsa, "medical", push_rows("medical", 6))
    push.file.delete(save=False)
    push.file.save("broken.bin", io.BytesIO(b"not encrypted"), save=True)
    push = ingest.push_ingest(push_id=push.pk)
    assert push.state == "failed"
    assert ingest.push_answer(push)["error"]["code"] == "stored_file_unreadable"
    assert AuditEntry.objects.filter(action="hardship.push.failed", object_id=str(push.pk)).exists()
    assert ingest.push_ingest(push_id=push.pk).state == "failed"  # again: nothing changes


def test_a_stored_file_altered_in_a_later_segment_fails(nhsa, push_rows, small_threshold, monkeypatch):
    monkeypatch.setattr(ingest_storage, "SEGMENT_BYTES", 64)  # several segments
    push = send_file(nhsa, "medical", push_rows("medical", 6))
    path = small_threshold / push.file.name
    data = bytearray(path.read_bytes())
    data[-5] ^= 1  # in the last segment
    path.write_bytes(bytes(data))
    push = ingest.push_ingest(push_id=push.pk)
    assert (push.state, ingest.push_answer(push)["error"]["code"]) == ("failed", "stored_file_unreadable")


def test_a_push_whose_stored_file_is_missing_fails_and_its_answer_says_why(nhsa, nhsa_key, push_rows, small_threshold):
    from django.test import Client

    push = send_file(nhsa, "medical", push_rows("medical", 6))
    (small_threshold / push.file.name).unlink()
    push = ingest.push_ingest(push_id=push.pk)
    assert push.state == "failed"
    body = Client(HTTP_AUTHORIZATION=f"Bearer {nhsa_key}").get(f"/api/v1/hardship/pushes/{push.pk}").json()
    assert body["state"] == "failed" and body["error"]["code"] == "stored_file_missing"
    assert body["error"]["message"]


def test_a_paged_push_with_a_page_missing_from_storage_fails(nhsa, push_rows, small_threshold):
    rows = push_rows("low_income", 6)
    manifest = json_manifest("low_income", rows, batch_id="big")
    ingest.push_receive_json(agency=nhsa, manifest=manifest, rows=rows[:3], page=1, pages=2)
    push = ingest.push_receive_json(agency=nhsa, manifest=manifest, rows=rows[3:], page=2, pages=2)
    assert push.state == "pending"
    (small_threshold / ingest_storage.page_name(push.pk, 2)).unlink()
    push = ingest.push_ingest(push_id=push.pk)
    assert (push.state, ingest.push_answer(push)["error"]["code"]) == ("failed", "stored_file_missing")


def test_a_database_error_while_storing_rows_propagates_and_the_push_stays_pending(
    nhsa, push_rows, small_threshold, monkeypatch
):
    from django.db import DatabaseError

    push = send_file(nhsa, "medical", push_rows("medical", 6))

    def broken(*args, **kwargs):
        raise DatabaseError("connection lost")

    monkeypatch.setattr(ingest_rows, "_insert_rows", broken)
    with pytest.raises(DatabaseError):
        ingest.push_ingest(push_id=push.pk)
    push.refresh_from_db()
    assert push.state == "pending"  # retried (by Celery, or the next cycle)


def test_the_admin_can_upload_a_file_for_an_agency(nhsa, push_rows, staff):
    rows = push_rows("medical", 2)
    content = csv_bytes(rows)
    push = ingest.push_receive_file(
        agency=nhsa,
        manifest={**file_manifest("medical", content, 2), "agency": "someone-else"},
        content=content,
        filename="医保局3月.csv",
        actor=staff,
        source="admin",
    )
    assert (push.agency, push.source, push.created_by, push.accepted) == (nhsa, "admin", staff, 2)
    entry = AuditEntry.objects.get(action="hardship.push.received")
    assert entry.actor == staff and entry.new["batch_id"] == "b1"


# --- Privacy ---------------------------------------------------------------------------------


def _all_database_text() -> str:
    out = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - table names
            out.extend(str(value) for row in cursor.fetchall() for value in row)
    return "\n".join(out)


def test_id_numbers_are_stored_only_encrypted_and_never_logged(nhsa, push_rows, small_threshold, caplog):
    caplog.set_level("DEBUG")
    rows = push_rows("medical", 8)
    numbers = [r["id_number"] for r in rows]
    rows[3]["id_number"] = numbers[3][:17] + ("1" if numbers[3][17] != "1" else "2")  # rejected
    numbers[3] = rows[3]["id_number"]
    send_json(nhsa, "medical", rows[:4], batch_id="small")
    big = send_file(nhsa, "medical", rows[4:] + push_rows("medical", 2, start=20), batch_id="big")
    media = b"".join(p.read_bytes() for p in small_threshold.rglob("*") if p.is_file())
    ingest.push_ingest(push_id=big.pk)
    assert PushRow.objects.count() == 9

    text = _all_database_text()
    logs = "\n".join(f"{r.getMessage()} {r.args}" for r in caplog.records)
    for number in numbers:
        assert number not in text
        assert number not in logs
        assert number.encode() not in media
    stored = PushRow.objects.values_list("id_number", "payload").first()
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, payload FROM hardship_pushrow LIMIT 1")
        raw = cursor.fetchone()
    assert raw[0].startswith("a1:") and raw[1].startswith("a1:")
    assert stored[0] in numbers and "154184.67" not in raw[1]


def test_aes_gcm_tokens_roundtrip_rotate_and_detect_tampering(settings):
    from cryptography.fernet import Fernet

    from core import crypto

    token = crypto.aead_encrypt("330502199003071232")
    assert token.startswith("a1:") and crypto.decrypt(token) == "330502199003071232"
    assert crypto.aead_encrypt("x") != crypto.aead_encrypt("x")  # a fresh nonce every time
    fernet_token = crypto.encrypt("fernet")
    assert crypto.decrypt(fernet_token) == "fernet"  # both kinds read

    settings.PII_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *settings.PII_ENCRYPTION_KEYS]
    assert crypto.decrypt(token) == "330502199003071232"  # an old key still decrypts
    newer = crypto.aead_encrypt("y")
    assert newer[3:10] != token[3:10]  # another key id
    settings.PII_ENCRYPTION_KEYS = settings.PII_ENCRYPTION_KEYS[1:]
    with pytest.raises(ValueError, match="key"):
        crypto.decrypt(newer)  # its key is gone

    raw = bytearray(crypto.aead_encrypt_bytes(b"data", aad=b"one"))
    with pytest.raises(ValueError):
        crypto.aead_decrypt_bytes(bytes(raw), aad=b"two")
    raw[-1] ^= 1
    with pytest.raises(ValueError):
        crypto.aead_decrypt_bytes(bytes(raw), aad=b"one")


def test_the_fast_blind_index_equals_the_members_one():
    from core.crypto import blind_indexer

    index = blind_indexer(purpose="id_number")
    assert index("33050219900307123x") == id_number_index("33050219900307123X")


def test_each_row_payload_is_valid_json_with_string_amounts(push_rows):
    check = pushformats.row_checker("medical", today=dt.date(2025, 4, 1))
    cells = pushformats.json_row_cells("medical", {**push_rows("medical", 1)[0], "name": 'a"b\\c'})
    key, number, payload = check(cells)
    assert json.loads(payload)["name"] == 'a"b\\c'
    assert json.loads(payload)["total_cost"] == "439305.46"


@pytest.mark.django_db(transaction=True)
def test_concurrent_corrections_of_one_row_leave_exactly_one_current(uses_postgres, nhsa, push_rows):
    import threading

    from django.db import connections

    send_json(nhsa, "medical", push_rows("medical", 1), batch_id="first")
    barrier, results = threading.Barrier(4), []

    def correct(n):
        rows = push_rows("medical", 1)
        rows[0]["total_cost"] = f"{n}.00"
        barrier.wait()
        try:
            results.append(send_json(nhsa, "medical", rows, batch_id=f"fix-{n}").replaced)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=correct, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Whatever the order they were stored in, the correction received last is current.
    assert 1 <= sum(results) <= 4
    assert PushRow.objects.filter(is_current=True).count() == 1
    last = DataPush.objects.order_by("-received_at", "-pk").first()
    assert PushRow.objects.get(is_current=True).push == last
    assert PushRow.objects.count() == 5


def test_an_id_number_with_fullwidth_digits_is_stored_in_ascii_and_matched(nhsa, push_rows, member):
    rows = push_rows("medical", 1)
    rows[0]["id_number"] = member.id_number.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789X"})
    push = send_json(nhsa, "medical", rows)
    row = PushRow.objects.get(push=push)
    assert (row.id_number, row.member_id) == (member.id_number, member.pk)


def test_a_manifest_period_with_fullwidth_digits_is_read_in_ascii():
    manifest = {"kind": "medical", "period": "２０２５-０３", "batch_id": "b1", "row_count": 1, "sha256": "0" * 64}
    assert pushformats.manifest_clean(manifest)["period"] == "2025-03"
    with pytest.raises(ServiceError):
        pushformats.manifest_clean({**manifest, "period": "２０２５-１３"})


def test_xlsx_amounts_with_a_formulas_binary_noise_keep_their_cents(nhsa, push_rows, xlsx_pushed):
    rows = push_rows("medical", 1)
    rows[0].update(total_cost=0.1 + 0.2, reimbursed=0.1, out_of_pocket=154184.67000000004)
    content = xlsx_bytes(rows)
    push = xlsx_pushed(nhsa, file_manifest("medical", content, 1), content)
    assert push.rejected == 0
    payload = PushRow.objects.get(push=push).payload
    assert (payload["total_cost"], payload["out_of_pocket"]) == ("0.30", "154184.67")


@pytest.mark.django_db(transaction=True)
def test_a_copy_failure_is_a_django_database_error(uses_postgres, nhsa, push_rows, small_threshold, monkeypatch):
    """COPY bypasses Django's cursor wrapper: its errors are wrapped, so the cycle tells a database
    failure (re-raised, retried) from a bad push."""
    from django.db import DatabaseError

    monkeypatch.setattr(ingest_receive, "_queue_ingest", lambda push: None)
    push = send_file(nhsa, "medical", push_rows("medical", 6))
    monkeypatch.setattr(ingest_rows, "_copy_escape", lambda value: value + "\x00")  # PostgreSQL refuses NUL
    with pytest.raises(DatabaseError):
        ingest.push_ingest(push_id=push.pk)
    push.refresh_from_db()
    assert (push.state, push.lines_done) == ("pending", 0)
