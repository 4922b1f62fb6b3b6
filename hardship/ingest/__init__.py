"""Agency data in (数据推送): receive a push, check its manifest, store its rows chunk by chunk.

A push arrives as JSON (one page, or several pages of one batch), as a CSV or XLSX file through
the API, or as a file staff upload in the admin. Its manifest (kind, period, batch id, row count,
SHA-256) is checked first: a push whose row count or SHA-256 differs is refused whole and
nothing of it is kept. Then every row is checked (`hardship.pushformats`): good rows are kept,
each rejected row is reported by its line and reason.

- Idempotent: the same batch (agency, batch id) sent again changes nothing and gets the first
  answer back. A row with the same agency, kind, period and source key as a current row of an
  earlier push replaces it (the old row is kept, `is_current=False`), in the same transaction
  as the insert, under a lock per (agency, kind, period): the partial unique constraint holds.
  "Earlier" is by receipt, not by ingestion: a large push ingested after the correction that
  was sent after it keeps its row for that key as not current.
- Large pushes (more than `HARDSHIP_PUSH_SYNC_MAX_ROWS` rows), every XLSX file and CSV files over
  `HARDSHIP_PUSH_SYNC_MAX_BYTES` are stored encrypted and answered `pending`; `push_ingest` (a
  Celery task queued on commit, and the monthly cycle's ingest step) counts a stored file's rows
  against its manifest, then stores them. The request checks a workbook's shape only (bounded
  time, `core.xlsx.xlsx_check_shape`); any failure to read it fails the push, never the request.
- Unusual pushes (a handful of rows, a period long closed, many pushes of one period) are held for
  city staff, not ingested until released (`holds`).
- Restartable: rows are stored in chunks of `HARDSHIP_INGEST_CHUNK_ROWS`, each chunk committed
  with its errors, its counts and the resume marker `DataPush.lines_done`. A worker killed in the
  middle and run again goes on after the last committed chunk: no duplicate, nothing lost.
- Fast: files are streamed (never a whole file's rows in memory); rows are checked in Python
  (optionally in `HARDSHIP_INGEST_PROCESSES` processes) and written with PostgreSQL's COPY.
- Private: ID numbers are stored only as an AES-GCM token and the keyed blind index, files and
  pages waiting for ingestion only encrypted; no ID number is ever logged.

- `receive`: receiving a push and checking its manifest; `reading`: reading its content;
- `rows`: checking and writing its rows chunk by chunk; `storage`: the encrypted storage of what
  waits; `stored`: ingesting a stored push; `answers`: what an agency reads of its pushes;
- `limits`: how much a push may hold; `holds`: holding unusual pushes, releasing and rejecting them.
"""

from hardship.ingest.answers import push_answer, push_of_agency, pushes_of_agency
from hardship.ingest.holds import push_reject, push_release
from hardship.ingest.limits import (
    MAX_PAGES,
    PAGE_MAX_ROWS,
    chunk_rows,
    max_file_bytes,
    max_rows,
    sync_max_bytes,
    sync_max_rows,
)
from hardship.ingest.reading import detect_format
from hardship.ingest.receive import ManifestMismatch, push_receive_file, push_receive_json, push_upload
from hardship.ingest.rows import NULL, ROW_COLUMNS
from hardship.ingest.storage import FILE_MAGIC, SEGMENT_BYTES
from hardship.ingest.stored import push_ingest

__all__ = [
    "FILE_MAGIC",
    "MAX_PAGES",
    "ManifestMismatch",
    "NULL",
    "PAGE_MAX_ROWS",
    "ROW_COLUMNS",
    "SEGMENT_BYTES",
    "chunk_rows",
    "detect_format",
    "max_file_bytes",
    "max_rows",
    "push_answer",
    "push_ingest",
    "push_of_agency",
    "push_receive_file",
    "push_receive_json",
    "push_reject",
    "push_release",
    "push_upload",
    "pushes_of_agency",
    "sync_max_bytes",
    "sync_max_rows",
]
