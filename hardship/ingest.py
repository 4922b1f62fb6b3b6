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
- Large pushes (more than `HARDSHIP_PUSH_SYNC_MAX_ROWS` rows) are stored encrypted and answered
  `pending`; `push_ingest` (a Celery task queued on commit, and the monthly cycle's ingest step)
  stores their rows.
- Restartable: rows are stored in chunks of `HARDSHIP_INGEST_CHUNK_ROWS`, each chunk committed
  with its errors, its counts and the resume marker `DataPush.lines_done`. A worker killed in the
  middle and run again goes on after the last committed chunk: no duplicate, nothing lost.
- Fast: files are streamed (never a whole file's rows in memory); rows are checked in Python
  (optionally in `HARDSHIP_INGEST_PROCESSES` processes) and written with PostgreSQL's COPY.
- Private: ID numbers are stored only as an AES-GCM token and the keyed blind index, files and
  pages waiting for ingestion only encrypted; no ID number is ever logged.
"""

import csv
import datetime as dt
import hashlib
import io
import json
import logging
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import billiard
from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.crypto import aead_decrypt_bytes, aead_encrypt_bytes, aead_encryptor, blind_indexer
from core.errors import ErrorKind, ServiceError
from core.models import Agency
from core.services import audit_log
from hardship import pushformats
from hardship.models import DataPush, PushRow
from hardship.pushformats import RowRejected
from members.models import Member
from members.services.import_files import xlsx_records

log = logging.getLogger(__name__)

PAGE_MAX_ROWS = 5_000  # rows in one JSON request
MAX_PAGES = 10_000
SEGMENT_BYTES = 1 << 20  # stored files are encrypted in segments of 1 MiB
FILE_MAGIC = b"UPPUSH1\n"
ROW_COLUMNS = (
    "push_id", "agency_id", "kind", "period", "line", "source_key", "id_number", "id_index", "payload", "member_id"
)  # fmt: skip


def sync_max_rows() -> int:
    """Pushes up to this many rows are ingested within the request; larger ones are queued."""
    return int(getattr(settings, "HARDSHIP_PUSH_SYNC_MAX_ROWS", 20_000))


def chunk_rows() -> int:
    return max(1, int(getattr(settings, "HARDSHIP_INGEST_CHUNK_ROWS", 50_000)))


def max_file_bytes() -> int:
    return int(getattr(settings, "HARDSHIP_PUSH_MAX_BYTES", 512 * 1024 * 1024))


class ManifestMismatch(ServiceError):
    """The content does not match its manifest: the push is refused whole, nothing is kept."""

    def __init__(self, code: str, message: str, *, declared, received):
        super().__init__(code, message, declared=declared, received=received)


# --- Reading ----------------------------------------------------------------------------------


def _unreadable() -> ServiceError:
    return ServiceError("unreadable_file", _("Could not read the file: save it as CSV (UTF-8 or GBK) or as XLSX."))


def _binary(content) -> BinaryIO:
    if isinstance(content, bytes | bytearray | memoryview):
        return io.BytesIO(content)
    if isinstance(content, Path):
        return content.open("rb")
    if hasattr(content, "open") and getattr(content, "closed", False):
        content.open("rb")
    content.seek(0)
    return content


def _size(stream: BinaryIO) -> int:
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


def _sha256(stream: BinaryIO) -> str:
    digest = hashlib.sha256()
    stream.seek(0)
    while block := stream.read(SEGMENT_BYTES):
        digest.update(block)
    stream.seek(0)
    return digest.hexdigest()


class _Unclosable(io.RawIOBase):
    """A raw view of a binary stream that a TextIOWrapper may close without closing the stream."""

    def __init__(self, stream: BinaryIO):
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _csv_records(stream: BinaryIO, encoding: str) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) of every non-blank record, header first (line 1), decoded as a stream."""
    stream.seek(0)
    text = io.TextIOWrapper(io.BufferedReader(_Unclosable(stream), 1 << 16), encoding=encoding, newline="")
    try:
        for line, cells in enumerate(csv.reader(text), start=1):
            if line == 1 or any(cells):
                yield line, cells
    except csv.Error:
        raise _unreadable() from None


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    try:
        for line, cells in xlsx_records(data):
            if line == 1 or any(c not in ("", None) for c in cells):
                yield line, cells
    except ServiceError:
        raise _unreadable() from None


def detect_format(stream: BinaryIO, kind: str) -> tuple[str, int]:
    """The file's format ("xlsx" or the CSV's encoding) and its data rows; checks the header.

    GBK files are read as GB18030, its superset.
    """
    stream.seek(0)
    head = stream.read(4)
    stream.seek(0)
    if head.startswith(b"PK\x03\x04"):
        return "xlsx", _count(_xlsx_rows(stream.read()), kind)
    if head.startswith(b"\xd0\xcf\x11\xe0"):  # a legacy .xls workbook
        raise _unreadable()
    for encoding in ("utf-8-sig",) if head.startswith(b"\xef\xbb\xbf") else ("utf-8", "gb18030"):
        try:
            return encoding, _count(_csv_records(stream, encoding), kind)
        except UnicodeDecodeError:
            continue
    raise _unreadable()


def _count(records: Iterable[tuple[int, list]], kind: str) -> int:
    records = iter(records)
    first = next(records, None)
    if first is None:
        raise ServiceError("empty_file", _("The file is empty."))
    pushformats.layout_for_header(kind, first[1])
    return sum(1 for _ in records)


def _file_records(stream: BinaryIO, fmt: str, kind: str) -> Iterator[tuple[int, list[Any]]]:
    """(line, cells in the kind's column order) of every data row of a file.

    A short row (a trailing optional column left off, a truncated line, a total at the bottom)
    has its missing cells empty, so the usual checks reject it (`missing_field`) or accept it;
    cells beyond the header's columns are ignored, like columns the header does not name.
    """
    if fmt == "xlsx":
        stream.seek(0)
        rows = _xlsx_rows(stream.read())
    else:
        rows = _csv_records(stream, fmt)
    first = next(rows, None)
    if first is None:
        raise ServiceError("empty_file", _("The file is empty."))
    layout = pushformats.layout_for_header(kind, first[1])
    width = len(layout)
    if layout == list(range(width)):
        for line, cells in rows:
            if len(cells) < width:
                cells = [*cells, *([None] * (width - len(cells)))]
            yield line, cells
        return
    for line, cells in rows:
        n = len(cells)
        yield line, [cells[i] if i is not None and i < n else None for i in layout]


def _json_records(kind: str, pages: Iterable[list]) -> Iterator[tuple[int, list[Any]]]:
    line = 0
    for rows in pages:
        for row in rows:
            line += 1
            yield line, pushformats.json_row_cells(kind, row)


# --- Encrypted storage of what waits for ingestion --------------------------------------------


def _aad(push_key: str, part: str) -> bytes:
    return f"hardship.push:{push_key}:{part}".encode()


def _push_key(agency_id: int, batch_id: str) -> str:
    return f"{agency_id}:{batch_id}"


def _encrypt_file(stream: BinaryIO, push_key: str) -> File:
    """The file encrypted in AES-GCM segments: magic, segment count, then (length, segment)…

    Each segment's associated data names the push, its index and the count, so segments cannot
    be swapped, reordered or cut off unnoticed.
    """
    import tempfile

    count = max(1, -(-_size(stream) // SEGMENT_BYTES))
    out = tempfile.TemporaryFile()
    out.write(FILE_MAGIC + count.to_bytes(4, "big"))
    for index in range(count):
        blob = aead_encrypt_bytes(stream.read(SEGMENT_BYTES), aad=_aad(push_key, f"{index}/{count}"))
        out.write(len(blob).to_bytes(4, "big") + blob)
    out.seek(0)
    return File(out, name="push.bin")


def _stored_missing() -> ServiceError:
    return ServiceError(
        "stored_file_missing",
        _(
            "The stored content of this push is missing, so it could not be ingested: send it again with a new batch id."
        ),
    )


def _stored_unreadable() -> ServiceError:
    return ServiceError(
        "stored_file_unreadable",
        _(
            "The stored content of this push could not be decrypted, so it could not be ingested: send it again with a new batch id."
        ),
    )


def _decrypted_segments(fileobj: BinaryIO, push_key: str) -> Iterator[bytes]:
    """The file's segments, decrypted; ServiceError `stored_file_unreadable` when it is not an
    encrypted push file, was cut off or altered, or its key is gone."""
    head = fileobj.read(len(FILE_MAGIC) + 4)
    if not head.startswith(FILE_MAGIC):
        log.error("hardship stored push file %s is not an encrypted push file", push_key)
        raise _stored_unreadable()
    count = int.from_bytes(head[len(FILE_MAGIC) :], "big")
    for index in range(count):
        size = int.from_bytes(fileobj.read(4), "big")
        try:
            yield aead_decrypt_bytes(fileobj.read(size), aad=_aad(push_key, f"{index}/{count}"))
        except ValueError as exc:
            log.error("hardship stored push file %s, segment %d: %s", push_key, index, exc)
            raise _stored_unreadable() from None
    if fileobj.read(1):
        log.error("hardship stored push file %s has data after its last segment", push_key)
        raise _stored_unreadable()


class _SegmentStream(io.RawIOBase):
    """A readable binary stream over decrypted segments (a whole file is never in memory)."""

    def __init__(self, segments: Iterator[bytes]):
        self._segments, self._buffer = segments, b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer) -> int:
        while not self._buffer:
            self._buffer = next(self._segments, b"")
            if not self._buffer:
                return 0
        n = min(len(buffer), len(self._buffer))
        buffer[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n

    def seek(self, offset, whence=io.SEEK_SET):  # only the rewind of a fresh stream, as _csv_records does
        if offset == 0 and whence == io.SEEK_SET and not self._buffer:
            return 0
        raise io.UnsupportedOperation("seek")


def _page_name(push_id: int, page: int) -> str:
    return f"hardship/pushes/pages/{push_id}/{page:05d}.bin"


def _page_store(push: DataPush, page: int, rows: list) -> None:
    name = _page_name(push.pk, page)
    # surrogatepass: a lone surrogate (valid JSON) is kept for the row check to reject, not a crash
    data = json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
    blob = aead_encrypt_bytes(data, aad=_aad(_push_key(push.agency_id, push.batch_id), f"page {page}"))
    if default_storage.exists(name):
        default_storage.delete(name)
    default_storage.save(name, ContentFile(blob))


def _page_rows(push: DataPush, page: int) -> list:
    """A stored page's rows; ServiceError `stored_file_missing` or `stored_file_unreadable`."""
    try:
        with default_storage.open(_page_name(push.pk, page), "rb") as fh:
            blob = fh.read()
    except FileNotFoundError:
        log.error("hardship push %s: page %d is missing from storage", push.pk, page)
        raise _stored_missing() from None
    try:
        data = aead_decrypt_bytes(blob, aad=_aad(_push_key(push.agency_id, push.batch_id), f"page {page}"))
        return json.loads(data.decode("utf-8", "surrogatepass"))
    except ValueError as exc:
        log.error("hardship push %s: page %d cannot be read: %s", push.pk, page, exc)
        raise _stored_unreadable() from None


def _pages_received(push: DataPush) -> list[int]:
    return [p for p in range(1, push.pages + 1) if default_storage.exists(_page_name(push.pk, p))]


def _pages_delete(push_id: int, pages: int) -> None:
    for page in range(1, pages + 1):
        name = _page_name(push_id, page)
        if default_storage.exists(name):
            default_storage.delete(name)


# --- Checking and writing rows ----------------------------------------------------------------

_WORKER_CACHE: dict = {}


def _prepare_chunk(kind: str, today: dt.date, chunk: list[tuple[int, list[Any]]]) -> tuple[list[tuple], list[dict]]:
    """Check a chunk of rows: (line, source_key, id token, id index, payload token) for the good
    ones, an error for each bad one. Pure: it runs in worker processes too."""
    key = (kind, today)
    tools = _WORKER_CACHE.get(key)
    if tools is None:
        _WORKER_CACHE.clear()
        tools = _WORKER_CACHE[key] = (
            pushformats.row_checker(kind, today=today),
            aead_encryptor(),
            blind_indexer(purpose="id_number"),
        )
    check, encrypt, index = tools
    rows, errors = [], []
    append = rows.append
    for line, cells in chunk:
        try:
            source_key, number, payload = check(cells)
        except RowRejected as exc:
            errors.append(exc.as_error(line))
            continue
        append((line, source_key, encrypt(number), index(number), encrypt(payload)))
    return rows, errors


def _processes() -> int:
    """Worker processes for checking and encrypting rows (billiard, Celery's multiprocessing,
    which may fork from a Celery worker's own child). Small pushes, checked inside the request's
    transaction, are checked in-process."""
    wanted = int(getattr(settings, "HARDSHIP_INGEST_PROCESSES", 1))
    return 1 if wanted <= 1 or connection.in_atomic_block else wanted


def _chunks(records: Iterable[tuple[int, list]], size: int, after: int) -> Iterator[list[tuple[int, list]]]:
    chunk: list = []
    for record in records:
        if record[0] <= after:
            continue
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _prepared(kind: str, today: dt.date, chunks: Iterator[list]) -> Iterator[tuple[int, list, list]]:
    """(last line, rows, errors) of each chunk, in order; checked in a pool when configured."""
    processes = _processes()
    if processes == 1:
        for chunk in chunks:
            yield (chunk[-1][0], *_prepare_chunk(kind, today, chunk))
        return
    with billiard.get_context("fork").Pool(processes) as pool:
        pending: deque = deque()
        for chunk in chunks:
            pending.append((chunk[-1][0], pool.apply_async(_prepare_chunk, (kind, today, chunk))))
            if len(pending) > processes:  # bounded: a few chunks in flight, never the whole file
                last, result = pending.popleft()
                yield (last, *result.get())
        while pending:
            last, result = pending.popleft()
            yield (last, *result.get())


NULL = "\\N"  # NULL in COPY's text format


def _copy_escape(value: str) -> str:
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


class _Members:
    """Members' ids by blind index, to match rows as they are stored.

    For a push with many rows for its number of members, all members' indexes are read once
    (680,000 members: about 1 s and 130 MB); otherwise each chunk looks its own up.
    """

    def __init__(self, push: DataPush):
        self.push, self.all, self.decided = push, None, False

    def __call__(self, indexes: list[str]) -> dict[str, int]:
        if not self.decided:  # on the first chunk, after the worker processes have started
            self.decided = True
            if self.push.row_count * 4 > Member.objects.count():
                self.all = _all_members()
        return self.all if self.all is not None else _members_by_index(indexes)


def _all_members() -> dict[str, int]:
    out: dict[str, int] = {}
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id_index, id FROM {connection.ops.quote_name(Member._meta.db_table)}")  # noqa: S608
        while batch := cursor.fetchmany(50_000):
            out.update(batch)
    return out


def _members_by_index(indexes: list[str]) -> dict[str, int]:
    """Members' ids by blind index, for the rows of one chunk (a unique index lookup each)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id_index, id FROM {connection.ops.quote_name(Member._meta.db_table)} "  # noqa: S608
                "WHERE id_index = ANY(%s)",
                [indexes],
            )
            return dict(cursor.fetchall())
    size = min(5_000, (connection.features.max_query_params or 5_000) - 10)
    out: dict[str, int] = {}
    for i in range(0, len(indexes), size):
        out.update(Member.objects.filter(id_index__in=indexes[i : i + size]).values_list("id_index", "pk"))
    return out


def _write_rows(
    push: DataPush, rows: list[tuple], members: Callable[[list[str]], dict[str, int]], stale: Collection[str] = ()
) -> None:
    """Insert the rows (already encrypted), matched to members by the blind index as they go in
    (the monthly cycle's `match_rows` then only looks for people who joined since): COPY on
    PostgreSQL, executemany elsewhere. Rows whose source key is in `stale` (a push received
    later has the current row) are stored `is_current=False`."""
    if not rows:
        return
    members = members(list({row[3] for row in rows}))
    if stale:
        _insert_rows(push, [row for row in rows if row[1] not in stale], members, current=True)
        _insert_rows(push, [row for row in rows if row[1] in stale], members, current=False)
    else:
        _insert_rows(push, rows, members, current=True)


def _insert_rows(push: DataPush, rows: list[tuple], members: dict[str, int], *, current: bool) -> None:
    if not rows:
        return
    qn = connection.ops.quote_name
    table = qn(PushRow._meta.db_table)
    names = ", ".join(qn(c) for c in (*ROW_COLUMNS, "is_current", "created_at"))
    now = timezone.now()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            head = f"{push.pk}\t{push.agency_id}\t{push.kind}\t{push.period}\t"
            tail = f"\t{'t' if current else 'f'}\t{now.isoformat()}\n"
            member_of = members.get
            buffer = io.BytesIO(
                "".join(
                    f"{head}{line}\t{_copy_escape(key)}\t{token}\t{index}\t{payload}\t{member_of(index, NULL)}{tail}"
                    for line, key, token, index, payload in rows
                ).encode()
            )
            with connection.wrap_database_errors:  # a DatabaseError, as the cycle expects, not psycopg2's own
                cursor.copy_expert(f"COPY {table} ({names}) FROM STDIN", buffer)
        else:
            when = connection.ops.adapt_datetimefield_value(now)
            marks = ", ".join(["%s"] * (len(ROW_COLUMNS) + 2))
            cursor.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({marks})",  # noqa: S608 - names, not input
                [
                    (push.pk, push.agency_id, push.kind, push.period, *row, members.get(row[3]), current, when)
                    for row in rows
                ],
            )


def _lock_period(push: DataPush) -> None:
    """Serialise writers of one (agency, kind, period) until the transaction ends (PostgreSQL)."""
    if connection.vendor != "postgresql":
        return  # SQLite runs one writing transaction at a time
    digest = hashlib.sha256(f"hardship.pushrow:{push.agency_id}:{push.kind}:{push.period}".encode()).digest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest[:8], "big", signed=True)])
        if not connection.savepoint_ids:  # the outermost transaction
            # A chunk of a stored push, in its own transaction: its commit need not wait for the
            # WAL to reach the disk. A crash may lose the last chunks whole (rows, counts and
            # resume marker together), and the rerun stores them again; the push only becomes
            # `ingested` in a normal, durable commit.
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _supersede(push: DataPush, keys: list[str]) -> tuple[int, set[str]]:
    """Settle which row is current for each of these source keys: the row of the push received
    last (`received_at`, then id), whatever the order the pushes are ingested in. Current rows of
    pushes received before this one are marked replaced; keys whose current row belongs to a push
    received after this one are returned, for this push's rows to be stored not current.
    Returns (rows replaced, those keys).

    Called under `_lock_period`: any other push that stored rows for this agency, kind and
    period has committed its DataPush by then, so when there is none, nothing can be replaced
    (and the million-row first push of a month skips the lookups).
    """
    others = DataPush.objects.filter(agency_id=push.agency_id, kind=push.kind, period=push.period).exclude(pk=push.pk)
    if not keys or not others.exists():
        return 0, set()
    later = list(
        others.filter(
            Q(received_at__gt=push.received_at) | Q(received_at=push.received_at, pk__gt=push.pk)
        ).values_list("pk", flat=True)
    )
    current = PushRow.objects.filter(agency_id=push.agency_id, kind=push.kind, period=push.period, is_current=True)
    size = max(100, min(5_000, (connection.features.max_query_params or 5_000) - 10 - len(later)))
    stale: set[str] = set()
    if later:
        for i in range(0, len(keys), size):
            stale.update(
                current.filter(push_id__in=later, source_key__in=keys[i : i + size]).values_list(
                    "source_key", flat=True
                )
            )
    earlier = current.exclude(push_id__in=[push.pk, *later])
    replaced = sum(
        earlier.filter(source_key__in=keys[i : i + size]).update(is_current=False) for i in range(0, len(keys), size)
    )
    return replaced, stale


def _store_chunk(
    push: DataPush, last_line: int, rows: list[tuple], errors: list[dict], seen: dict, members: _Members
) -> bool:
    """Commit one chunk: its rows, errors, counts and the resume marker. False if already stored."""
    message = _("This source key appears more than once in the push (first on line %(line)d).")
    keep = []
    for row in rows:
        first = seen.get(row[1])
        if first is None:
            seen[row[1]] = row[0]
            keep.append(row)
        else:
            errors.append(
                {
                    "line": row[0],
                    "reason": "duplicate_in_batch",
                    "field": "source_key",
                    "message": message % {"line": first},
                }
            )
    errors.sort(key=lambda e: e["line"])
    with transaction.atomic():
        locked = DataPush.objects.select_for_update().only("lines_done", "errors").get(pk=push.pk)
        if locked.lines_done >= last_line:
            return False  # another run stored this chunk meanwhile
        _lock_period(push)
        replaced, stale = _supersede(push, [row[1] for row in keep])
        _write_rows(push, keep, members, stale)
        DataPush.objects.filter(pk=push.pk).update(
            accepted=F("accepted") + len(keep),
            rejected=F("rejected") + len(errors),
            replaced=F("replaced") + replaced,
            errors=locked.errors + errors,
            lines_done=last_line,
        )
    return True


def _ingest_records(
    push: DataPush, records: Iterable[tuple[int, list]], tick: Callable[[], None] | None = None
) -> None:
    """Store the records chunk by chunk; `tick` is called after each chunk (the monthly cycle's
    heartbeat, so that a long push does not make its claim look stale)."""
    seen = dict(PushRow.objects.filter(push=push).values_list("source_key", "line"))
    today = timezone.localdate()
    chunks = _chunks(records, chunk_rows(), push.lines_done)
    members = _Members(push)  # after the worker processes start (they don't need it)
    for last_line, rows, errors in _prepared(push.kind, today, chunks):
        if not _store_chunk(push, last_line, rows, errors, seen, members):
            seen = dict(PushRow.objects.filter(push=push).values_list("source_key", "line"))
        if tick is not None:
            tick()


def _finish(push: DataPush) -> DataPush:
    with transaction.atomic():
        push = DataPush.objects.select_for_update().select_related("agency").get(pk=push.pk)
        if push.state == DataPush.State.INGESTED:
            return push
        # A member deleted while the rows were stored (there is no foreign-key check): unmatch.
        PushRow.objects.filter(push_id=push.pk, member_id__isnull=False).exclude(
            Exists(Member.objects.filter(pk=OuterRef("member_id")))
        ).update(member=None)
        push.state = DataPush.State.INGESTED
        push.ingested_at = timezone.now()
        push.response = {}
        push.response = push_answer(push)
        push.save(update_fields=["state", "ingested_at", "response"])
        audit_log(
            action="hardship.push.ingested",
            obj=push,
            actor=push.created_by,
            actor_label=_actor_label(push.agency, push.created_by),
            new={"accepted": push.accepted, "rejected": push.rejected, "replaced": push.replaced},
        )
        if push.source == DataPush.Source.API_JSON:
            push_id, pages = push.pk, push.pages
            transaction.on_commit(lambda: _pages_delete(push_id, pages))
    log.info(
        "hardship push %s (%s %s) ingested: %d accepted, %d rejected, %d replaced",
        push.pk,
        push.kind,
        push.period,
        push.accepted,
        push.rejected,
        push.replaced,
    )
    return push


# --- Receiving --------------------------------------------------------------------------------


def _actor_label(agency: Agency, actor) -> str:
    return "" if actor is not None and getattr(actor, "is_authenticated", False) else f"agency:{agency.code}"


def _repeat(agency: Agency, batch_id: str) -> DataPush | None:
    push = DataPush.objects.select_related("agency").filter(agency=agency, batch_id=batch_id).first()
    if push is not None:
        push.created_now = False
    return push


def _refuse(agency: Agency, manifest: dict, exc: ServiceError, actor=None) -> ServiceError:
    """Record a refused push in the audit log (nothing else is kept) and return the error."""
    audit_log(
        action="hardship.push.refused",
        obj=agency,
        actor=actor,
        actor_label=_actor_label(agency, actor),
        new={
            "batch_id": manifest["batch_id"],
            "kind": manifest["kind"],
            "period": manifest["period"],
            "code": exc.code,
        },
    )
    log.info("hardship push refused for %s batch %s: %s", agency.code, manifest["batch_id"], exc.code)
    return exc


def _check_count(manifest: dict, count: int) -> None:
    if count != manifest["row_count"]:
        raise ManifestMismatch(
            "row_count_mismatch",
            _("The manifest declares %(declared)d rows but the content has %(received)d. Nothing was kept.")
            % {"declared": manifest["row_count"], "received": count},
            declared=manifest["row_count"],
            received=count,
        )


def _check_sha(manifest: dict, sha256: str) -> None:
    if sha256 != manifest["sha256"]:
        raise ManifestMismatch(
            "sha256_mismatch",
            _("The SHA-256 of the content differs from the manifest's. Nothing was kept."),
            declared=manifest["sha256"],
            received=sha256,
        )


def _new_push(*, agency, manifest, source, actor, state, encoding="", pages=1) -> DataPush | None:
    """Create the push; None when the batch exists already (a concurrent delivery won)."""
    try:
        with transaction.atomic():
            push = DataPush.objects.create(
                agency=agency,
                kind=manifest["kind"],
                period=manifest["period"],
                batch_id=manifest["batch_id"],
                row_count=manifest["row_count"],
                sha256=manifest["sha256"],
                source=source,
                encoding=encoding,
                state=state,
                pages=pages,
                created_by=actor if actor is not None and getattr(actor, "is_authenticated", False) else None,
            )
    except IntegrityError:
        return None
    audit_log(
        action="hardship.push.received",
        obj=push,
        actor=push.created_by,
        actor_label=_actor_label(agency, actor),
        new={**{k: manifest[k] for k in ("kind", "period", "batch_id", "row_count")}, "source": source},
    )
    push.created_now = True
    return push


def _queue_ingest(push: DataPush) -> None:
    from hardship.tasks import ingest_push

    push_id = push.pk
    transaction.on_commit(lambda: ingest_push.delay(push_id))


def push_receive_file(
    *, agency: Agency, manifest: dict, content, filename: str = "", actor=None, source: str = DataPush.Source.API_FILE
) -> DataPush:
    """Receive a CSV or XLSX push (bytes, a file object or a Path): check the manifest against
    the file (SHA-256 of its bytes, count of its data rows), then ingest it now, or store it
    encrypted and queue it when it has more than `HARDSHIP_PUSH_SYNC_MAX_ROWS` rows.

    The same batch again returns the first push unchanged (`push.created_now` is False).
    Raises ServiceError (a ManifestMismatch when the content differs from the manifest).
    """
    manifest = pushformats.manifest_clean(manifest)
    if (push := _repeat(agency, manifest["batch_id"])) is not None:
        return push
    stream = _binary(content)
    if _size(stream) > max_file_bytes():
        raise ServiceError(
            "file_too_large",
            _("The file is larger than %(mb)d MB: split it into several batches.")
            % {"mb": max_file_bytes() // (1024 * 1024)},
            kind=ErrorKind.TOO_LARGE,
        )
    try:
        _check_sha(manifest, _sha256(stream))
        fmt, count = detect_format(stream, manifest["kind"])
        _check_count(manifest, count)
    except ServiceError as exc:
        raise _refuse(agency, manifest, exc, actor) from None

    if count > sync_max_rows():
        with transaction.atomic():
            push = _new_push(
                agency=agency, manifest=manifest, source=source, actor=actor, state=DataPush.State.PENDING, encoding=fmt
            )
            if push is None:
                return _repeat(agency, manifest["batch_id"])
            push.file.save(f"{push.pk}.bin", _encrypt_file(stream, _push_key(agency.pk, push.batch_id)), save=False)
            push.save(update_fields=["file"])
            _queue_ingest(push)
        log.info("hardship push %s (%d rows) stored for ingestion", push.pk, count)
        return push

    with transaction.atomic():
        push = _new_push(
            agency=agency, manifest=manifest, source=source, actor=actor, state=DataPush.State.PENDING, encoding=fmt
        )
        if push is None:
            return _repeat(agency, manifest["batch_id"])
        _ingest_records(push, _file_records(stream, fmt, push.kind))
        push = _finish(push)
    push.created_now = True
    return push


def push_upload(*, actor, agency: Agency, manifest: dict, content, filename: str = "") -> DataPush:
    """Staff upload a file on an agency's behalf (the admin's upload page): only for an agency
    `hardship.selectors.agencies_uploadable_by(actor)` lists, i.e. by city-level staff with
    `hardship.upload_agency_data`. A refusal is audited (`hardship.push.upload_refused`, with the
    agency and the batch); an accepted file goes on as `push_receive_file` with source `admin`
    and the uploader recorded as `created_by` (audited as `hardship.push.received`)."""
    from hardship.selectors import agencies_uploadable_by

    if not agencies_uploadable_by(actor).filter(pk=agency.pk).exists():
        audit_log(
            action="hardship.push.upload_refused",
            obj=agency,
            actor=actor if getattr(actor, "is_authenticated", False) else None,
            new={
                "agency": agency.code,
                "batch_id": str(manifest.get("batch_id", ""))[:64],
                "kind": str(manifest.get("kind", ""))[:20],
                "period": str(manifest.get("period", ""))[:7],
                "code": "forbidden",
            },
        )
        raise ServiceError(
            "forbidden",
            _("Only city-level staff with the permission to do so may upload data on an agency's behalf."),
            kind=ErrorKind.FORBIDDEN,
        )
    return push_receive_file(
        agency=agency, manifest=manifest, content=content, filename=filename, actor=actor, source=DataPush.Source.ADMIN
    )


def push_receive_json(*, agency: Agency, manifest: dict, rows: list[dict], page: int = 1, pages: int = 1) -> DataPush:
    """Receive one page of a JSON push. A push in several pages is kept (encrypted) page by page
    in state `receiving` until its last page arrives, in any order; then its row count and SHA-256
    are checked over all pages, and it is ingested now or queued (see `push_receive_file`).

    The same batch again returns the first push unchanged (`push.created_now` is False).
    """
    manifest = pushformats.manifest_clean(manifest)
    if not isinstance(rows, list) or len(rows) > PAGE_MAX_ROWS:
        raise ServiceError(
            "page_too_large", _("Send at most %(max)d rows in one request: use pages.") % {"max": PAGE_MAX_ROWS}
        )
    if not (isinstance(pages, int) and isinstance(page, int) and 1 <= page <= pages <= MAX_PAGES):
        raise ServiceError("invalid_page", _("The page must be between 1 and the number of pages."))
    if pages == 1:
        if (push := _repeat(agency, manifest["batch_id"])) is not None:
            return push
        try:
            sha256, count = pushformats.rows_sha256([rows])
            _check_count(manifest, count)
            _check_sha(manifest, sha256)
        except ServiceError as exc:
            raise _refuse(agency, manifest, exc) from None
        if count <= sync_max_rows():
            with transaction.atomic():
                push = _new_push(
                    agency=agency,
                    manifest=manifest,
                    source=DataPush.Source.API_JSON,
                    actor=None,
                    state=DataPush.State.PENDING,
                    encoding="json",
                )
                if push is None:
                    return _repeat(agency, manifest["batch_id"])
                _ingest_records(push, _json_records(push.kind, [rows]))
                push = _finish(push)
            push.created_now = True
            return push
    refused = None
    with transaction.atomic():
        push = _new_push(
            agency=agency,
            manifest=manifest,
            source=DataPush.Source.API_JSON,
            actor=None,
            state=DataPush.State.RECEIVING,
            encoding="json",
            pages=pages,
        )
        if push is None:
            push = (
                DataPush.objects.select_for_update()
                .select_related("agency")
                .get(agency=agency, batch_id=manifest["batch_id"])
            )
            push.created_now = False
            if push.state != DataPush.State.RECEIVING:
                return push
            declared = {k: getattr(push, k) for k in ("kind", "period", "row_count", "sha256", "pages")}
            if declared != {**{k: manifest[k] for k in ("kind", "period", "row_count", "sha256")}, "pages": pages}:
                raise ServiceError(
                    "manifest_conflict",
                    _("This batch id is being received with another manifest: send every page with the same one."),
                    kind=ErrorKind.CONFLICT,
                )
        _page_store(push, page, rows)
        if len(_pages_received(push)) < push.pages:
            return push
        sha256, count = pushformats.rows_sha256(_page_rows(push, p) for p in range(1, push.pages + 1))
        try:
            _check_count(manifest, count)
            _check_sha(manifest, sha256)
        except ServiceError as exc:
            refused = exc
            push_id, pages_ = push.pk, push.pages
            push.delete()
            transaction.on_commit(lambda: _pages_delete(push_id, pages_))
        else:
            push.state = DataPush.State.PENDING
            push.save(update_fields=["state"])
            if count > sync_max_rows():
                _queue_ingest(push)
                push.created_now = True
                return push
            _ingest_records(push, _json_records(push.kind, (_page_rows(push, p) for p in range(1, push.pages + 1))))
            push = _finish(push)
            push.created_now = True
            return push
    raise _refuse(agency, manifest, refused) from None


# --- Ingesting a stored push -----------------------------------------------------------------


@contextmanager
def _ingest_claim(push_id: int, wait: Callable[[], None] | None = None) -> Iterator[bool]:
    """A session lock on PostgreSQL so two workers don't ingest one push at once (a killed
    worker's lock goes with its connection). Correctness never depends on it: each chunk checks
    the resume marker under a row lock.

    With `wait`, a push another worker holds is waited for: `wait()` is called (it sleeps, keeps
    the caller's claims alive, and raises to give up) until the lock is free, i.e. until the
    other worker finished the push or died (then this one takes it over)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield True
        return
    key = int.from_bytes(hashlib.sha256(f"hardship.push.ingest:{push_id}".encode()).digest()[:8], "big", signed=True)

    def try_lock() -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            return cursor.fetchone()[0]

    got = try_lock()
    while not got and wait is not None:
        wait()
        got = try_lock()
    try:
        yield got
    finally:
        if got:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def _stored_records(push: DataPush) -> Iterator[tuple[int, list[Any]]]:
    if push.source == DataPush.Source.API_JSON:
        yield from _json_records(push.kind, (_page_rows(push, p) for p in range(1, push.pages + 1)))
        return
    if not push.file:
        raise _stored_missing()
    try:
        fh = push.file.open("rb")
    except FileNotFoundError:
        log.error("hardship push %s: its file %s is missing from storage", push.pk, push.file.name)
        raise _stored_missing() from None
    with fh:
        segments = _decrypted_segments(fh, _push_key(push.agency_id, push.batch_id))
        if push.encoding == "xlsx":
            yield from _file_records(io.BytesIO(b"".join(segments)), "xlsx", push.kind)
        else:
            yield from _file_records(_SegmentStream(segments), push.encoding, push.kind)


def push_ingest(
    *, push_id: int, wait: Callable[[], None] | None = None, tick: Callable[[], None] | None = None
) -> DataPush:
    """Store the rows of a pending push, chunk by chunk, going on after the last stored chunk.

    Idempotent: a push that is not pending is returned unchanged; run again after a crash, it
    stores each line once. A push whose stored file cannot be read any more becomes `failed`.

    A push another worker is ingesting is returned still pending, unless `wait` is given: then
    it is waited for (see `_ingest_claim`) and taken over if that worker died. `tick` is called
    after each chunk stored.
    """
    push = DataPush.objects.select_related("agency").get(pk=push_id)
    if push.state != DataPush.State.PENDING:
        return push
    with _ingest_claim(push.pk, wait) as claimed:
        if not claimed:
            log.info("hardship push %s is being ingested by another worker", push.pk)
            return push
        push.refresh_from_db()
        if push.state != DataPush.State.PENDING:
            return push
        try:
            _ingest_records(push, _stored_records(push), tick)
        except ServiceError as exc:  # the stored content is missing or no longer reads: permanent
            return _fail(push, exc)
        push = _finish(push)
    _analyze_after(push)
    return push


def _fail(push: DataPush, exc: ServiceError) -> DataPush:
    """Mark the push `failed` with the reason, which its answer shows (to the agency and to
    staff); audited."""
    with transaction.atomic():
        changed = DataPush.objects.filter(pk=push.pk, state=DataPush.State.PENDING).update(
            state=DataPush.State.FAILED, response={"error": {"code": exc.code, "message": exc.message}}
        )
        push.refresh_from_db()
        if changed:
            audit_log(
                action="hardship.push.failed",
                obj=push,
                actor=None,
                actor_label="system",
                new={"code": exc.code, "lines_done": push.lines_done, "accepted": push.accepted},
            )
    log.warning("hardship push %s failed: %s", push.pk, exc.code)
    return push


def _analyze_after(push: DataPush) -> None:
    """Fresh planner statistics after a large push, before the cycle's match and screen steps
    query the rows (autovacuum would get there later, if it is on at all)."""
    if connection.vendor == "postgresql" and push.accepted > sync_max_rows() and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(PushRow._meta.db_table)}")


# --- Reading pushes ----------------------------------------------------------------------------


def pushes_of_agency(agency: Agency) -> QuerySet[DataPush]:
    """The agency's own pushes, newest first (another agency's are never visible)."""
    return DataPush.objects.filter(agency=agency).select_related("agency").defer("errors", "response")


def push_of_agency(agency: Agency, pk: int) -> DataPush | None:
    return DataPush.objects.filter(agency=agency, pk=pk).select_related("agency").first()


def push_answer(push: DataPush) -> dict:
    """The answer to a push: its state and figures, and each rejected row's line and reason.

    Once ingested, this is the first answer, stored: a repeated delivery gets it unchanged.
    """
    if push.response and push.state in (DataPush.State.INGESTED, DataPush.State.FAILED) and "id" in push.response:
        return push.response
    answer = {
        "id": push.pk,
        "agency": push.agency.code,
        "kind": push.kind,
        "period": push.period,
        "batch_id": push.batch_id,
        "row_count": push.row_count,
        "state": push.state,
        "accepted": push.accepted,
        "rejected": push.rejected,
        "replaced": push.replaced,
        "errors": list(push.errors),
        "received_at": push.received_at.isoformat(),
        "ingested_at": push.ingested_at.isoformat() if push.ingested_at else None,
    }
    if push.source == DataPush.Source.API_JSON:
        answer["pages"] = push.pages
        if push.state == DataPush.State.RECEIVING:
            answer["pages_received"] = _pages_received(push)
    if push.state == DataPush.State.FAILED and push.response.get("error"):
        answer["error"] = push.response["error"]
    return answer
