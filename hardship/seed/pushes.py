"""Sending a push as an agency does (JSON, one page), through the real ingestion path."""

from core.models import Agency
from hardship.ingest.receive import push_receive_json
from hardship.pushformats import rows_sha256
from hardship.seed.setup import D


def push_rows(*, agency: Agency, kind: str, period: str, batch_id: str, rows: list[dict]):
    """Send one push as an agency does (JSON, one page) through `hardship.ingest.push_receive_json`."""
    sha256, count = rows_sha256([rows])
    manifest = {"kind": kind, "period": period, "batch_id": batch_id, "row_count": count, "sha256": sha256}
    # The demo's batches are small on purpose and sent for past months: not held for review.
    return push_receive_json(agency=agency, manifest=manifest, rows=rows, hold_unusual=False)


def row(id_number: str, source_key: str, **payload) -> dict:
    return {"id_number": id_number, "source_key": source_key, **payload}


def money(value) -> str:
    return f"{D(value).quantize(D('0.01'))}"
