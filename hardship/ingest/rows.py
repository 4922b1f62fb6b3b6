"""Checking and writing a push's rows, chunk by chunk: each chunk commits its rows (COPY on
PostgreSQL), its rejected rows, its counts and the resume marker together; a row replaces the
current row of the same source key from a push received earlier. Finishing a push records its
answer."""

import datetime as dt
import hashlib
import io
import logging
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator
from typing import Any

import billiard
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.crypto import aead_encryptor, blind_indexer
from core.models import Agency
from core.services import audit_log
from hardship import pushformats
from hardship.ingest.answers import push_answer
from hardship.ingest.limits import chunk_rows
from hardship.ingest.storage import pages_delete
from hardship.models import DataPush, PushRow
from hardship.pushformats import RowRejected
from members.models import Member

log = logging.getLogger(__name__)


ROW_COLUMNS = (
    "push_id", "agency_id", "kind", "period", "line", "source_key", "id_number", "id_index", "payload", "member_id"
)  # fmt: skip


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


def ingest_records(push: DataPush, records: Iterable[tuple[int, list]], tick: Callable[[], None] | None = None) -> None:
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


def actor_label(agency: Agency, actor) -> str:
    return "" if actor is not None and getattr(actor, "is_authenticated", False) else f"agency:{agency.code}"


def push_finish(push: DataPush) -> DataPush:
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
            actor_label=actor_label(push.agency, push.created_by),
            new={"accepted": push.accepted, "rejected": push.rejected, "replaced": push.replaced},
        )
        if push.source == DataPush.Source.API_JSON:
            push_id, pages = push.pk, push.pages
            transaction.on_commit(lambda: pages_delete(push_id, pages))
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
