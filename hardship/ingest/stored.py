"""Ingesting a push stored for later (the Celery task, and the monthly cycle's ingest step):
restartable after the last committed chunk; a push whose stored content is gone fails."""

import hashlib
import logging
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

from django.db import connection, transaction
from django.utils.translation import gettext as _

from core.errors import ServiceError
from core.services import audit_log
from hardship.ingest.limits import max_rows, sync_max_rows, too_many_rows_error
from hardship.ingest.reading import count_rows, file_records, json_records
from hardship.ingest.rows import ingest_records, push_finish
from hardship.ingest.storage import SegmentStream, decrypted_segments, page_rows, push_key, stored_missing_error
from hardship.models import DataPush, PushRow

log = logging.getLogger(__name__)


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


@contextmanager
def _stored_file(push: DataPush) -> Iterator[BinaryIO]:
    """The stored file of a push, decrypted as a stream: a CSV segment by segment, a workbook
    (whose zip directory is at its end) into a temporary file, never into memory."""
    if not push.file:
        raise stored_missing_error()
    try:
        fh = push.file.open("rb")
    except FileNotFoundError:
        log.error("hardship push %s: its file %s is missing from storage", push.pk, push.file.name)
        raise stored_missing_error() from None
    with fh:
        segments = decrypted_segments(fh, push_key(push.agency_id, push.batch_id))
        if push.encoding != "xlsx":
            yield SegmentStream(segments)
            return
        with tempfile.TemporaryFile() as out:
            for segment in segments:
                out.write(segment)
            out.seek(0)
            yield out


def _check_stored_file(push: DataPush) -> None:
    """Before its first row is stored: the file's data rows counted (the request did not, for a
    workbook or a large CSV) against the manifest and the limit; its header checked."""
    with _stored_file(push) as stream:
        count = count_rows(stream, push.encoding, push.kind, limit=max_rows())
    if count > max_rows():
        raise too_many_rows_error()
    if count != push.row_count:
        raise ServiceError(
            "row_count_mismatch",
            _("The manifest declares %(declared)d rows but the content has %(received)d. Nothing was kept.")
            % {"declared": push.row_count, "received": count},
        )


def _stored_records(push: DataPush) -> Iterator[tuple[int, list[Any]]]:
    if push.source == DataPush.Source.API_JSON:
        yield from json_records(push.kind, (page_rows(push, p) for p in range(1, push.pages + 1)))
        return
    with _stored_file(push) as stream:
        yield from file_records(stream, push.encoding, push.kind)


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
            if push.source != DataPush.Source.API_JSON and push.lines_done == 0:
                _check_stored_file(push)
            ingest_records(push, _stored_records(push), tick)
        except ServiceError as exc:  # unreadable, not as declared, or its stored content gone: permanent
            return _fail(push, exc)
        push = push_finish(push)
    _analyze_after(push)
    return push


def _fail(push: DataPush, exc: ServiceError) -> DataPush:
    """Mark the push `failed` with the reason, which its answer shows (to the agency and to
    staff); audited. Rows it stored before failing are deleted: a failed push feeds nothing."""
    with transaction.atomic():
        changed = DataPush.objects.filter(pk=push.pk, state=DataPush.State.PENDING).update(
            state=DataPush.State.FAILED, response={"error": {"code": exc.code, "message": exc.message}}
        )
        push.refresh_from_db()
        if changed:
            PushRow.objects.filter(push_id=push.pk).delete()
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
