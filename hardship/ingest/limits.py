"""How much a push may hold, and how its ingestion is cut up (from the settings)."""

from django.conf import settings
from django.utils.translation import gettext as _

from core.errors import ServiceError

PAGE_MAX_ROWS = 5_000  # rows in one JSON request
MAX_PAGES = 10_000


def sync_max_rows() -> int:
    """Pushes up to this many rows are ingested within the request; larger ones are queued."""
    return int(getattr(settings, "HARDSHIP_PUSH_SYNC_MAX_ROWS", 20_000))


def chunk_rows() -> int:
    return max(1, int(getattr(settings, "HARDSHIP_INGEST_CHUNK_ROWS", 50_000)))


def max_file_bytes() -> int:
    return int(getattr(settings, "HARDSHIP_PUSH_MAX_BYTES", 512 * 1024 * 1024))


def sync_max_bytes() -> int:
    """A CSV file up to this size has its rows counted in the request (bounded: a few MB of text);
    a larger one, and every XLSX file, is counted and read by the worker."""
    return int(getattr(settings, "HARDSHIP_PUSH_SYNC_MAX_BYTES", 8 * 1024 * 1024))


def max_rows() -> int:
    """The most rows one push may hold (declared in its manifest, and counted by the worker)."""
    return int(getattr(settings, "HARDSHIP_PUSH_MAX_ROWS", 2_000_000))


def too_many_rows_error() -> ServiceError:
    return ServiceError(
        "too_many_rows",
        _("A push holds at most %(max)d rows: split it into several batches.") % {"max": max_rows()},
    )
