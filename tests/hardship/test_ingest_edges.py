"""Pushes in, at the edges of the format: manifests that are not what they claim, JSON rows with
numbers where text is expected, grades and choices left empty, files that cannot be read."""

import io

import pytest

from core.errors import ErrorKind, ServiceError
from core.models import AuditEntry
from hardship import ingest
from hardship.models import DataPush, PushRow
from tests.hardship.test_ingest import csv_bytes, errors_of, file_manifest, json_manifest, send_json


def refused(call, **kwargs) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        call(**kwargs)
    return caught.value


# --- Manifests and pages ---------------------------------------------------------------------


def test_it_refuses_a_manifest_that_is_not_an_object(nhsa, push_rows):
    rows = push_rows("medical", 1)
    error = refused(ingest.push_receive_json, agency=nhsa, manifest=["medical", "2025-03"], rows=rows)
    assert (error.code, error.message) == ("invalid_manifest", "清单须为 JSON 对象。")
    assert not DataPush.objects.exists()


@pytest.mark.parametrize("count", ["three", None, "1.0"])
def test_it_refuses_a_row_count_that_is_not_a_whole_number(nhsa, push_rows, count):
    rows = push_rows("medical", 1)
    manifest = {**json_manifest("medical", rows), "row_count": count}
    error = refused(ingest.push_receive_json, agency=nhsa, manifest=manifest, rows=rows)
    assert error.code == "invalid_manifest" and "行数" in error.message
    assert not DataPush.objects.exists()


def test_it_refuses_a_sha256_that_is_not_64_hexadecimal_characters(nhsa, push_rows):
    rows = push_rows("medical", 1)
    manifest = {**json_manifest("medical", rows), "sha256": "abc123"}
    error = refused(ingest.push_receive_json, agency=nhsa, manifest=manifest, rows=rows)
    assert error.code == "invalid_manifest" and "SHA-256" in error.message
    assert not DataPush.objects.exists()


def test_it_refuses_a_page_that_is_not_a_list_of_rows(nhsa, push_rows):
    rows = push_rows("medical", 1)
    error = refused(ingest.push_receive_json, agency=nhsa, manifest=json_manifest("medical", rows), rows={"0": rows[0]})
    assert error.code == "page_too_large" and "5000" in error.message
    assert not DataPush.objects.exists()


def test_it_refuses_more_rows_in_one_request_than_a_page_holds(nhsa, push_rows, monkeypatch):
    from hardship.ingest import receive

    monkeypatch.setattr(receive, "PAGE_MAX_ROWS", 2)
    rows = push_rows("medical", 3)
    error = refused(ingest.push_receive_json, agency=nhsa, manifest=json_manifest("medical", rows), rows=rows)
    assert error.code == "page_too_large"
    assert not DataPush.objects.exists()


@pytest.mark.parametrize(("page", "pages"), [(3, 2), (0, 1), ("1", 1), (1, 10_001)])
def test_it_refuses_a_page_number_outside_the_push(nhsa, push_rows, page, pages):
    rows = push_rows("medical", 1)
    manifest = json_manifest("medical", rows)
    error = refused(ingest.push_receive_json, agency=nhsa, manifest=manifest, rows=rows, page=page, pages=pages)
    assert (error.code, error.message) == ("invalid_page", "页码须在 1 到总页数之间。")
    assert not DataPush.objects.exists()


# --- JSON rows that are not plain text --------------------------------------------------------


def test_a_json_row_that_is_not_an_object_is_rejected_and_the_others_kept(nhsa, push_rows):
    rows = push_rows("medical", 2)
    rows.insert(1, ["medical-x", push_rows.numbers[5]])
    push = send_json(nhsa, "medical", rows)
    assert (push.state, push.accepted, push.rejected) == ("ingested", 2, 1)
    assert errors_of(push) == [(2, "missing_field")]
    assert push.errors[0]["field"] == "source_key"


def test_numbers_in_a_json_row_are_read_as_their_text(nhsa, push_rows):
    rows = push_rows("work_injury", 2)
    rows[0].update(source_key=12.0, grade=4.0)  # a whole float: "12" and grade 4
    rows[1].update(source_key=12345, grade=3)  # an integer key: "12345"
    push = send_json(nhsa, "work_injury", rows)
    assert (push.accepted, push.rejected) == (2, 0)
    stored = {r.source_key: r.payload["grade"] for r in PushRow.objects.filter(push=push)}
    assert stored == {"12": 4, "12345": 3}


def test_a_json_row_naming_a_field_twice_keeps_its_first_spelling(nhsa, push_rows):
    rows = push_rows("work_injury", 1)
    rows[0] = {"grade": 2, **rows[0], "伤残等级": 9}
    rows[0]["grade"] = 2
    push = send_json(nhsa, "work_injury", rows)
    assert push.accepted == 1
    assert PushRow.objects.get(push=push).payload["grade"] == 2


def test_a_true_or_false_grade_is_rejected_as_an_unknown_grade(nhsa, push_rows):
    rows = push_rows("work_injury", 1)
    rows[0]["grade"] = True
    push = send_json(nhsa, "work_injury", rows)
    assert (push.accepted, push.rejected) == (0, 1)
    assert errors_of(push) == [(1, "unknown_grade")]
    assert not PushRow.objects.exists()


def test_an_empty_required_grade_is_rejected_as_missing(nhsa, push_rows):
    rows = push_rows("disability", 1)
    rows[0]["grade"] = ""
    push = send_json(nhsa, "disability", rows)
    assert errors_of(push) == [(1, "missing_field")] and push.errors[0]["field"] == "grade"
    assert not PushRow.objects.exists()


def test_a_source_key_over_64_characters_is_rejected(nhsa, push_rows):
    rows = push_rows("medical", 2)
    rows[1]["source_key"] = "k" * 65
    push = send_json(nhsa, "medical", rows)
    assert (push.accepted, push.rejected) == (1, 1)
    assert errors_of(push) == [(2, "too_long")] and push.errors[0]["field"] == "source_key"
    assert "64" in push.errors[0]["message"]


def test_an_empty_fund_line_is_other_and_an_empty_required_choice_is_missing(nhsa, push_rows):
    aid = push_rows("aid_given", 1)
    aid[0]["fund_line"] = ""
    push = send_json(nhsa, "aid_given", aid)
    assert push.accepted == 1 and PushRow.objects.get(push=push).payload["fund_line"] == "other"

    low = push_rows("low_income", 1)
    low[0]["list"] = ""
    push = send_json(nhsa, "low_income", low, batch_id="j2")
    assert errors_of(push) == [(1, "missing_field")] and push.errors[0]["field"] == "list"


# --- Files ---------------------------------------------------------------------------------------


def test_it_refuses_a_file_larger_than_the_limit_and_keeps_nothing(nhsa, push_rows, settings):
    content = csv_bytes(push_rows("medical", 2))
    settings.HARDSHIP_PUSH_MAX_BYTES = len(content) - 1
    error = refused(
        ingest.push_receive_file, agency=nhsa, manifest=file_manifest("medical", content, 2), content=content
    )
    assert (error.code, error.kind) == ("file_too_large", ErrorKind.TOO_LARGE)
    assert not DataPush.objects.exists()


def test_a_file_push_may_be_given_as_a_path(nhsa, push_rows, tmp_path):
    content = csv_bytes(push_rows("medical", 2))
    path = tmp_path / "push.csv"
    path.write_bytes(content)
    push = ingest.push_receive_file(agency=nhsa, manifest=file_manifest("medical", content, 2), content=path)
    assert (push.state, push.accepted) == ("ingested", 2)


@pytest.mark.parametrize(
    "content",
    [
        b"",  # empty
        b"\xff\xff\xfe\n\x80\x80\n",  # neither UTF-8 nor GB18030
        b"PK\x03\x04 not a workbook",  # claims to be XLSX
    ],
    ids=["empty", "undecodable", "broken-xlsx"],
)
def test_it_refuses_a_file_it_cannot_read_and_audits_the_refusal(nhsa, content):
    error = refused(
        ingest.push_receive_file, agency=nhsa, manifest=file_manifest("medical", content, 0), content=content
    )
    assert error.code in ("unreadable_file", "empty_file")
    assert not DataPush.objects.exists()
    assert AuditEntry.objects.filter(action="hardship.push.refused", new__code=error.code).count() == 1


def test_an_empty_file_is_refused_as_empty(nhsa):
    error = refused(ingest.push_receive_file, agency=nhsa, manifest=file_manifest("medical", b"", 0), content=b"")
    assert (error.code, error.message) == ("empty_file", "文件为空。")


def test_it_refuses_a_csv_with_a_field_longer_than_a_csv_reader_takes(nhsa, push_rows):
    rows = push_rows("medical", 1)
    rows[0]["illness_category"] = "肝" * 140_000
    content = csv_bytes(rows)
    error = refused(
        ingest.push_receive_file, agency=nhsa, manifest=file_manifest("medical", content, 1), content=content
    )
    assert error.code == "unreadable_file"
    assert not DataPush.objects.exists()


def test_blank_rows_of_a_workbook_are_not_counted_or_stored(nhsa, push_rows, xlsx_pushed):
    from openpyxl import Workbook

    rows = push_rows("medical", 2)
    wb = Workbook()
    ws = wb.active
    ws.append(list(rows[0]))
    ws.append(list(rows[0].values()))
    ws.append([None] * len(rows[0]))
    ws.append([""] * len(rows[0]))
    ws.append(list(rows[1].values()))
    out = io.BytesIO()
    wb.save(out)
    content = out.getvalue()
    push = xlsx_pushed(nhsa, file_manifest("medical", content, 2), content)
    assert (push.state, push.accepted, push.rejected) == ("ingested", 2, 0)
    assert sorted(PushRow.objects.values_list("source_key", flat=True)) == ["medical-00000", "medical-00001"]
