"""A genuine 300,000-row XLSX push, and a 1.6 KB workbook claiming A1:XFD1048576: the request checks
only size, SHA-256 and shape (bounded time), the worker reads the rows.

    DEBUG=1 .venv/bin/python bench/xlsx_push.py [--rows 300000] [--database-url sqlite:////tmp/x.sqlite3]

1. The workbook is written once (deterministic; kept in var/bench/): medical rows with Chinese
   headers, valid ID numbers, amounts as numbers.
2. Floors: reading the file's bytes, hashing them, and opening its zip directory (`zipfile.ZipFile`).
3. The request's work: `hardship.ingest.push_receive_file` (size, SHA-256, shape, encrypted store),
   with the ingestion queued instead of run.
4. The worker's work: `hardship.ingest.push_ingest` (count against the manifest, then read and
   store every row), with the peak resident memory of the process.
5. The same for a tiny workbook whose <dimension> claims the whole sheet.

The database defaults to a fresh SQLite file in var/bench/ (migrated); see bench/README.md for figures.
"""

import argparse
import datetime as dt
import hashlib
import io
import os
import random
import re
import resource
import sys
import time
import zipfile
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VAR = ROOT / "var" / "bench"
HEADER = ["记录编号", "身份证号", "姓名", "医疗总费用", "医保报销", "个人自付", "疾病类别"]


def write_workbook(path: Path, rows: int) -> None:
    from openpyxl import Workbook

    from members.idgen import make_id_number

    rng = random.Random(300)
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER)
    for i in range(rows):
        total = round(rng.uniform(1_000, 500_000), 2)
        paid = round(total * rng.uniform(0.3, 0.9), 2)
        sheet.append(
            [f"YB-2025-03-{i:07d}", make_id_number(rng), "张伟", total, paid, round(total - paid, 2), "肝衰竭"]
        )
    book.save(path)


def bomb() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(HEADER)
    book.active.append(["k1", "330502199003071232", "周建新", 100, 50, 50, ""])
    out = io.BytesIO()
    book.save(out)
    src, dst = zipfile.ZipFile(io.BytesIO(out.getvalue())), io.BytesIO()
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="A1:XFD1048576"', data)
            z.writestr(info.filename, data)
    return dst.getvalue()


def timed(run):
    start = time.perf_counter()
    result = run()
    return result, time.perf_counter() - start


def push(content: bytes, rows: int, batch_id: str):
    """(push, seconds in the request, seconds in the worker)."""
    from core.models import Agency
    from hardship import ingest

    agency, _ = Agency.objects.get_or_create(code="bench-nhsa", defaults={"name": "医保局 (bench)"})
    manifest = {
        "kind": "medical", "period": "2025-03", "batch_id": batch_id, "row_count": rows,
        "sha256": hashlib.sha256(content).hexdigest(),
    }  # fmt: skip
    with mock.patch("hardship.ingest.receive._queue_ingest"):
        received, request = timed(
            lambda: ingest.push_receive_file(
                agency=agency, manifest=manifest, content=content, filename="x.xlsx", today=dt.date(2025, 4, 2)
            )
        )
    done, worker = timed(lambda: ingest.push_ingest(push_id=received.pk))
    return received, done, request, worker


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    VAR.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DEBUG", "1")
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{VAR / 'xlsx_push.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "unionportal.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.MEDIA_ROOT = str(VAR / "media")
    settings.HARDSHIP_PUSH_MAX_ROWS = max(settings.HARDSHIP_PUSH_MAX_ROWS, args.rows)
    if "sqlite" in os.environ["DATABASE_URL"]:
        (VAR / "xlsx_push.sqlite3").unlink(missing_ok=True)
    call_command("migrate", verbosity=0)

    path = VAR / f"medical-{args.rows}.xlsx"
    if not path.exists():
        _none, seconds = timed(lambda: write_workbook(path, args.rows))
        print(f"wrote {path.name} in {seconds:.1f} s")
    content, read = timed(path.read_bytes)
    _digest, hashing = timed(lambda: hashlib.sha256(content).hexdigest())
    _zip, opening = timed(lambda: zipfile.ZipFile(io.BytesIO(content)).infolist())
    sheet = next(i for i in zipfile.ZipFile(io.BytesIO(content)).infolist() if i.filename.startswith("xl/worksheets/"))
    print(f"\nworkbook: {args.rows:,} rows, {len(content) / 1e6:.1f} MB ({sheet.file_size / 1e6:.0f} MB of sheet XML)")
    print(
        f"floor: read the file {read * 1000:.0f} ms, SHA-256 {hashing * 1000:.0f} ms, open its zip {opening * 1000:.1f} ms"
    )

    received, done, request, worker = push(content, args.rows, f"bench-xlsx-{time.time_ns()}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n{'':32}{'request':>10}{'worker':>10}  state     accepted  rejected")
    print(
        f"{'300,000-row workbook' if args.rows == 300_000 else f'{args.rows:,}-row workbook':32}"
        f"{request:>9.2f}s{worker:>9.1f}s  {received.state}→{done.state}  {done.accepted:>8,}  {done.rejected:>8,}"
    )
    tiny = bomb()
    settings.HARDSHIP_PUSH_HOLD_MIN_ROWS = 0  # one row would be held for review: let it go to the worker
    small, small_done, small_request, small_worker = push(tiny, 1, f"bench-bomb-{time.time_ns()}")
    print(
        f"{f'{len(tiny):,} B, A1:XFD1048576':32}{small_request:>9.3f}s{small_worker:>9.3f}s  "
        f"{small.state}→{small_done.state}  {small_done.accepted:>8,}  {small_done.rejected:>8,}"
    )
    print(f"\nworker rows/s: {done.accepted / worker:,.0f}; peak RSS of this process: {rss:.0f} MB")


if __name__ == "__main__":
    main()
