"""Hostile and malformed workbooks pushed through the API: the request checks only size and shape,
in bounded time whatever the file claims; the worker reads the rows; every failure is a structured
400 or a failed push with `unreadable_file` that the agency reads, never a server error."""

import hashlib
import io
import random
import re
import time
import zipfile
from itertools import islice
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import Workbook

from core.xlsx import XlsxUnreadable, xlsx_rows
from hardship.models import DataPush, PushRow

URL = "/api/v1/hardship/pushes"
SHEET = "xl/worksheets/sheet1.xml"
STRINGS = "xl/sharedStrings.xml"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def workbook(rows: list[dict]) -> bytes:
    """The rows as a workbook whose texts are shared strings, as Excel and WPS write them
    (openpyxl writes inline strings)."""
    wb = Workbook()
    ws = wb.active
    ws.append(list(rows[0]))
    for row in rows:
        ws.append(list(row.values()))
    out = io.BytesIO()
    wb.save(out)
    strings: list[bytes] = []

    def shared(match) -> bytes:
        strings.append(match.group(2))
        return match.group(1) + b' t="s"><v>' + str(len(strings) - 1).encode() + b"</v></c>"

    sheet = zipfile.ZipFile(io.BytesIO(out.getvalue())).read(SHEET)
    sheet = re.sub(rb'(<c r="[A-Z]+\d+")(?: [^>]*)? t="inlineStr"><is><t>(.*?)</t></is></c>', shared, sheet)
    sheet = re.sub(rb'(<c r="[A-Z]+\d+") t="inlineStr"><is><t>(.*?)</t></is></c>', shared, sheet)
    sst = b"".join(
        [
            b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        ]
        + [b"<si><t>" + text + b"</t></si>" for text in strings]
        + [b"</sst>"]
    )
    override = (
        b'<Override PartName="/xl/sharedStrings.xml" '
        b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
    )
    return rezip(
        out.getvalue(),
        replace={SHEET: sheet, "[Content_Types].xml": lambda xml: xml.replace(b"</Types>", override)},
        add={STRINGS: sst},
    )


def rezip(content: bytes, *, replace: dict | None = None, drop=(), add: dict | None = None) -> bytes:
    """The workbook with parts replaced (bytes, or a function of the old bytes), dropped or added."""
    replace, add = replace or {}, add or {}
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename in drop:
                continue
            data = src.read(info)
            new = replace.get(info.filename, data)
            dst.writestr(info.filename, new(data) if callable(new) else new)
        for name, data in add.items():
            dst.writestr(name, data)
    return out.getvalue()


def push(client: Client, content: bytes, rows: int, batch_id="x1"):
    data = {
        "kind": "medical",
        "period": "2025-03",
        "batch_id": batch_id,
        "row_count": rows,
        "sha256": hashlib.sha256(content).hexdigest(),
        "file": SimpleUploadedFile("三月.xlsx", content),
    }
    return client.post(URL, data)


def push_and_ingest(client, content, rows, capture):
    """POST the file, then run the worker's ingestion queued on commit; (POST answer, push state)."""
    with capture(execute=True):
        response = push(client, content, rows)
    if response.status_code != 202:
        return response, None
    return response, client.get(response["Location"]).json()


@pytest.fixture
def client(nhsa_key):
    return Client(HTTP_AUTHORIZATION=f"Bearer {nhsa_key}")


def test_it_ignores_an_oversized_dimension_and_reads_only_the_rows_there_are(push_rows):
    content = rezip(
        workbook(push_rows("medical", 2)),
        replace={SHEET: lambda xml: re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="A1:XFD1048576"', xml)},
    )
    assert b"XFD1048576" in zipfile.ZipFile(io.BytesIO(content)).read(SHEET)
    # Trusting the dimension, openpyxl pads every row to 16,384 cells and the sheet to 1,048,576 rows.
    rows = list(islice(xlsx_rows(io.BytesIO(content)), 100))
    assert len(rows) == 3 and max(len(cells) for _line, cells in rows) == 7


def test_an_oversized_dimension_is_answered_fast_and_ingested_by_the_worker(
    client, push_rows, django_capture_on_commit_callbacks
):
    content = rezip(
        workbook(push_rows("medical", 2)),
        replace={SHEET: lambda xml: re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="A1:XFD1048576"', xml)},
    )
    started = time.monotonic()
    response, state = push_and_ingest(client, content, 2, django_capture_on_commit_callbacks)
    assert time.monotonic() - started < 10
    assert response.status_code == 202 and response.json()["state"] == "pending"
    assert (state["state"], state["accepted"]) == ("ingested", 2)


def test_the_request_does_not_read_the_workbooks_rows(client, push_rows, django_capture_on_commit_callbacks):
    content = workbook(push_rows("medical", 150))
    with mock.patch("core.xlsx.load_workbook", side_effect=AssertionError("read in the request")):
        with django_capture_on_commit_callbacks(execute=False) as queued:
            response = push(client, content, 150)
    assert response.status_code == 202 and response.json()["state"] == "pending", response.content
    for callback in queued:
        callback()
    assert client.get(response["Location"]).json()["accepted"] == 150


def test_the_worker_refuses_more_rows_than_the_limit(client, push_rows, settings, django_capture_on_commit_callbacks):
    settings.HARDSHIP_PUSH_MAX_ROWS = 5
    content = workbook(push_rows("medical", 8))
    _response, state = push_and_ingest(client, content, 3, django_capture_on_commit_callbacks)
    assert (state["state"], state["error"]["code"]) == ("failed", "too_many_rows")
    assert not PushRow.objects.exists()
    assert push(client, content, 8, batch_id="x2").json()["error"]["code"] == "too_many_rows"


def test_a_row_count_differing_from_the_manifest_fails_the_push_and_keeps_nothing(
    client, push_rows, django_capture_on_commit_callbacks
):
    _response, state = push_and_ingest(client, workbook(push_rows("medical", 4)), 3, django_capture_on_commit_callbacks)
    assert (state["state"], state["error"]["code"]) == ("failed", "row_count_mismatch")
    assert "3" in state["error"]["message"] and not PushRow.objects.exists()


BROKEN = {
    "bad_shared_string_index": {SHEET: lambda xml: re.sub(rb'(t="s"><v>)\d+(</v>)', rb"\g<1>99999\g<2>", xml, count=3)},
    "broken_xml": {SHEET: lambda xml: xml[: len(xml) * 2 // 3]},
    "non_numeric_number": {SHEET: lambda xml: xml.replace(b"<v>439305.46</v>", b"<v>4393O5.46</v>", 1)},
    "broken_shared_strings": {STRINGS: lambda xml: xml[: len(xml) // 2]},
}


@pytest.mark.parametrize("damage", BROKEN.values(), ids=BROKEN.keys())
def test_a_malformed_workbook_fails_its_push_with_unreadable_file(
    client, push_rows, damage, django_capture_on_commit_callbacks
):
    rows = push_rows("medical", 2)
    for row in rows:
        row["total_cost"] = 439305.46  # a number cell, so that a non-numeric value can be planted
    content = rezip(workbook(rows), replace=damage)
    response, state = push_and_ingest(client, content, 2, django_capture_on_commit_callbacks)
    if response.status_code == 400:  # refused on its shape in the request
        assert response.json()["error"]["code"] == "unreadable_file"
        return
    assert response.status_code == 202, response.content
    assert state["state"] == "failed" and state["error"]["code"] == "unreadable_file", state
    assert "XLSX" in state["error"]["message"] and not PushRow.objects.exists()


def test_a_huge_shared_strings_part_is_refused_in_the_request(client, push_rows, settings):
    settings.XLSX_MAX_PART_BYTES = 1 << 20
    huge = b"".join(
        [b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">']
        + [b"<si><t>" + f"{i:08d}".encode() * 64 + b"</t></si>" for i in range(4_000)]
        + [b"</sst>"]
    )
    content = rezip(workbook(push_rows("medical", 2)), replace={STRINGS: huge})
    response = push(client, content, 2)
    assert response.status_code == 400 and response.json()["error"]["code"] == "unreadable_file"


def test_a_huge_shared_string_within_the_limits_is_no_server_error(
    client, push_rows, django_capture_on_commit_callbacks
):
    rng = random.Random(7)  # 12 MB of random Chinese characters (no zip bomb), in one shared string
    big = "".join(chr(rng.randrange(0x4E00, 0x9FA5)) for _ in range(4 << 20)).encode()
    content = rezip(
        workbook(push_rows("medical", 2)),
        replace={STRINGS: lambda xml: xml.replace("张伟".encode(), big, 1)},
    )
    response, state = push_and_ingest(client, content, 2, django_capture_on_commit_callbacks)
    assert response.status_code == 202, response.content
    # lxml refuses a text node this large (failed, unreadable), or the name is too long (a rejected row)
    assert state["state"] == "failed" and state["error"]["code"] == "unreadable_file" or state["rejected"] >= 1


def test_a_zip_bomb_is_refused_in_the_request_on_its_compression_ratio(client, push_rows):
    content = rezip(workbook(push_rows("medical", 2)), add={"xl/media/padding.bin": b"\0" * (32 << 20)})
    assert len(content) < 200_000
    response = push(client, content, 2)
    assert response.status_code == 400 and response.json()["error"]["code"] == "unreadable_file"
    assert not DataPush.objects.exists()


def test_a_zip_without_a_workbook_or_with_too_many_parts_is_refused(client, push_rows, settings):
    content = workbook(push_rows("medical", 2))
    assert push(client, rezip(content, drop={"xl/workbook.xml"}), 2).json()["error"]["code"] == "unreadable_file"
    settings.XLSX_MAX_ENTRIES = 20
    many = rezip(content, add={f"xl/media/{i}.png": b"x" for i in range(30)})
    assert push(client, many, 2, batch_id="x2").json()["error"]["code"] == "unreadable_file"


def test_the_shape_check_reads_no_part(push_rows):
    content = workbook(push_rows("medical", 2))
    with mock.patch.object(zipfile.ZipFile, "open", side_effect=AssertionError("a part was read")):
        from core.xlsx import xlsx_check_shape

        xlsx_check_shape(io.BytesIO(content))
    with pytest.raises(XlsxUnreadable):
        xlsx_check_shape(io.BytesIO(b"PK\x03\x04" + b"\0" * 100))


def test_a_large_csv_is_not_counted_in_the_request_and_the_worker_checks_its_count(
    client, push_rows, settings, django_capture_on_commit_callbacks
):
    settings.HARDSHIP_PUSH_SYNC_MAX_BYTES = 100
    rows = push_rows("medical", 3)
    lines = ["记录编号,身份证号,医疗总费用,医保报销,个人自付"] + [
        f"{r['source_key']},{r['id_number']},{r['total_cost']},{r['reimbursed']},{r['out_of_pocket']}" for r in rows
    ]
    content = "\r\n".join(lines).encode()
    assert len(content) > 100
    data = {
        "kind": "medical", "period": "2025-03", "batch_id": "csv-1", "row_count": 2,
        "sha256": hashlib.sha256(content).hexdigest(), "file": SimpleUploadedFile("m.csv", content),
    }  # fmt: skip
    with mock.patch("hardship.ingest.reading._count", side_effect=AssertionError("counted in the request")):
        with django_capture_on_commit_callbacks(execute=False) as queued:
            response = client.post(URL, data)
    assert response.status_code == 202 and response.json()["state"] == "pending", response.content
    for callback in queued:
        callback()
    state = client.get(response["Location"]).json()
    assert (state["state"], state["error"]["code"]) == ("failed", "row_count_mismatch")


def test_the_admin_upload_counts_a_workbook_without_trusting_it(push_rows):
    from core.errors import ServiceError
    from hardship.admin.pushes import count_data_rows

    content = rezip(
        workbook(push_rows("medical", 2)),
        replace={SHEET: lambda xml: re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="A1:XFD1048576"', xml)},
    )
    assert count_data_rows(content, "medical") == 2
    with pytest.raises(ServiceError) as err:
        count_data_rows(rezip(content, replace={SHEET: lambda xml: xml[:-200]}), "medical")
    assert err.value.code == "unreadable_file"


def test_the_answer_lists_a_bounded_number_of_rejected_rows(client, push_rows, settings):
    import json

    from hardship import pushformats

    settings.HARDSHIP_PUSH_ANSWER_MAX_ERRORS = 2
    rows = push_rows("medical", 5)
    for row in rows:
        row["total_cost"] = "-1"
    sha, count = pushformats.rows_sha256([rows])
    manifest = {"kind": "medical", "period": "2025-03", "batch_id": "bad-1", "row_count": count, "sha256": sha}
    body = client.post(URL, json.dumps({"manifest": manifest, "rows": rows}), content_type="application/json").json()
    assert (body["rejected"], len(body["errors"]), body["errors_omitted"]) == (5, 2, 3)
    assert client.get(f"{URL}/{body['id']}").json()["errors_omitted"] == 3
