"""Receiving a push (JSON pages, a file through the API, or a file staff upload): the manifest
is checked against the content, then the push is ingested now, or stored encrypted and queued."""

import datetime as dt
import logging

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core.errors import ErrorKind, ServiceError
from core.models import Agency
from core.services import audit_log
from hardship import pushformats
from hardship.ingest.holds import hold_reasons, push_hold
from hardship.ingest.limits import (
    MAX_PAGES,
    PAGE_MAX_ROWS,
    max_file_bytes,
    max_rows,
    sync_max_bytes,
    sync_max_rows,
    too_many_rows_error,
)
from hardship.ingest.reading import binary_stream, detect_format, file_records, json_records, stream_sha256, stream_size
from hardship.ingest.rows import actor_label, ingest_records, push_finish
from hardship.ingest.storage import encrypt_file, page_rows, page_store, pages_delete, pages_received, push_key
from hardship.models import DataPush
from hardship.selectors.access import agencies_uploadable_by
from hardship.tasks import ingest_push

log = logging.getLogger(__name__)


class ManifestMismatch(ServiceError):
    """The content does not match its manifest: the push is refused whole, nothing is kept."""

    def __init__(self, code: str, message: str, *, declared, received):
        super().__init__(code, message, declared=declared, received=received)


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
        actor_label=actor_label(agency, actor),
        new={
            "batch_id": manifest["batch_id"],
            "kind": manifest["kind"],
            "period": manifest["period"],
            "code": exc.code,
        },
    )
    log.info("hardship push refused for %s batch %s: %s", agency.code, manifest["batch_id"], exc.code)
    return exc


def _manifest_clean(manifest: dict) -> dict:
    """The manifest checked (`pushformats.manifest_clean`), and its row count within the limit."""
    manifest = pushformats.manifest_clean(manifest)
    if manifest["row_count"] > max_rows():
        raise too_many_rows_error()
    return manifest


def _hold_reasons(agency: Agency, manifest: dict, today: dt.date | None, exclude: int | None = None) -> list[str]:
    return hold_reasons(
        agency_id=agency.pk,
        kind=manifest["kind"],
        period=manifest["period"],
        row_count=manifest["row_count"],
        today=today,
        exclude=exclude,
    )


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
        actor_label=actor_label(agency, actor),
        new={**{k: manifest[k] for k in ("kind", "period", "batch_id", "row_count")}, "source": source},
    )
    push.created_now = True
    return push


def _queue_ingest(push: DataPush) -> None:
    push_id = push.pk
    transaction.on_commit(lambda: ingest_push.delay(push_id))


def push_receive_file(
    *,
    agency: Agency,
    manifest: dict,
    content,
    filename: str = "",
    actor=None,
    source: str = DataPush.Source.API_FILE,
    today: dt.date | None = None,
) -> DataPush:
    """Receive a CSV or XLSX push (bytes, a file object or a Path): check the manifest against
    the file (SHA-256 of its bytes, count of its data rows), then ingest it now, or store it
    encrypted and queue it when it has more than `HARDSHIP_PUSH_SYNC_MAX_ROWS` rows. An XLSX file,
    and a CSV file over `HARDSHIP_PUSH_SYNC_MAX_BYTES`, is checked only for its size, SHA-256 and
    shape (its header, for a CSV) here, then stored and queued: the worker counts its rows against
    the manifest and reads them, and any problem marks the push failed with its code. An unusual
    push is stored and held (`hardship.ingest.holds`); `today` is the day it counts as received.

    The same batch again returns the first push unchanged (`push.created_now` is False).
    Raises ServiceError (a ManifestMismatch when the content differs from the manifest).
    """
    manifest = _manifest_clean(manifest)
    if (push := _repeat(agency, manifest["batch_id"])) is not None:
        return push
    stream = binary_stream(content)
    size = stream_size(stream)
    if size > max_file_bytes():
        raise ServiceError(
            "file_too_large",
            _("The file is larger than %(mb)d MB: split it into several batches.")
            % {"mb": max_file_bytes() // (1024 * 1024)},
            kind=ErrorKind.TOO_LARGE,
        )
    try:
        _check_sha(manifest, stream_sha256(stream))
        # An XLSX file has only its shape checked here, and a large CSV only its header: the
        # worker counts and reads their rows (bounded time in the request, whatever the file says).
        fmt, count = detect_format(stream, manifest["kind"], count=size <= sync_max_bytes())
        if count is not None:
            _check_count(manifest, count)
    except ServiceError as exc:
        raise _refuse(agency, manifest, exc, actor) from None
    held = [] if source == DataPush.Source.ADMIN else _hold_reasons(agency, manifest, today)

    if held or count is None or count > sync_max_rows():
        with transaction.atomic():
            push = _new_push(
                agency=agency, manifest=manifest, source=source, actor=actor, state=DataPush.State.PENDING, encoding=fmt
            )
            if push is None:
                return _repeat(agency, manifest["batch_id"])
            push.file.save(f"{push.pk}.bin", encrypt_file(stream, push_key(agency.pk, push.batch_id)), save=False)
            push.save(update_fields=["file"])
            if held:
                push_hold(push, held)
            else:
                _queue_ingest(push)
        log.info("hardship push %s (%s) stored for ingestion", push.pk, fmt)
        return push

    with transaction.atomic():
        push = _new_push(
            agency=agency, manifest=manifest, source=source, actor=actor, state=DataPush.State.PENDING, encoding=fmt
        )
        if push is None:
            return _repeat(agency, manifest["batch_id"])
        ingest_records(push, file_records(stream, fmt, push.kind))
        push = push_finish(push)
    push.created_now = True
    return push


def push_upload(*, actor, agency: Agency, manifest: dict, content, filename: str = "") -> DataPush:
    """Staff upload a file on an agency's behalf (the admin's upload page): only for an agency
    `hardship.selectors.agencies_uploadable_by(actor)` lists, i.e. by city-level staff with
    `hardship.upload_agency_data`. A refusal is audited (`hardship.push.upload_refused`, with the
    agency and the batch); an accepted file goes on as `push_receive_file` with source `admin`
    and the uploader recorded as `created_by` (audited as `hardship.push.received`)."""
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


def push_receive_json(
    *,
    agency: Agency,
    manifest: dict,
    rows: list[dict],
    page: int = 1,
    pages: int = 1,
    today: dt.date | None = None,
    hold_unusual: bool = True,
) -> DataPush:
    """Receive one page of a JSON push. A push in several pages is kept (encrypted) page by page
    in state `receiving` until its last page arrives, in any order; then its row count and SHA-256
    are checked over all pages, and it is ingested now or queued (see `push_receive_file`), or
    held when unusual (`hardship.ingest.holds`; a one-page push is then stored as a page). Only
    the demo's seed passes `hold_unusual=False` (its agencies' batches are small on purpose).

    The same batch again returns the first push unchanged (`push.created_now` is False).

    One function: a page is received under the lock of its push's row (a concurrent page waits),
    and the last page's arrival, its checks over every page and the ingestion or the queueing all
    happen in that one transaction; the single-page fast path shares its checks.
    """
    manifest = _manifest_clean(manifest)
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
        held = _hold_reasons(agency, manifest, today) if hold_unusual else []
        if held:
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
                page_store(push, 1, rows)
                return push_hold(push, held)
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
                ingest_records(push, json_records(push.kind, [rows]))
                push = push_finish(push)
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
        page_store(push, page, rows)
        if len(pages_received(push)) < push.pages:
            return push
        sha256, count = pushformats.rows_sha256(page_rows(push, p) for p in range(1, push.pages + 1))
        try:
            _check_count(manifest, count)
            _check_sha(manifest, sha256)
        except ServiceError as exc:
            refused = exc
            push_id, pages_ = push.pk, push.pages
            push.delete()
            transaction.on_commit(lambda: pages_delete(push_id, pages_))
        else:
            push.state = DataPush.State.PENDING
            push.save(update_fields=["state"])
            if hold_unusual and (held := _hold_reasons(agency, manifest, today, exclude=push.pk)):
                push = push_hold(push, held)
                push.created_now = True
                return push
            if count > sync_max_rows():
                _queue_ingest(push)
                push.created_now = True
                return push
            ingest_records(push, json_records(push.kind, (page_rows(push, p) for p in range(1, push.pages + 1))))
            push = push_finish(push)
            push.created_now = True
            return push
    raise _refuse(agency, manifest, refused) from None
