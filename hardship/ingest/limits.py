"""How much a push may hold, and how its ingestion is cut up (from the settings)."""

from django.conf import settings

PAGE_MAX_ROWS = 5_000  # rows in one JSON request
MAX_PAGES = 10_000


def sync_max_rows() -> int:
    """Pushes up to this many rows are ingested within the request; larger ones are queued."""
    return int(getattr(settings, "HARDSHIP_PUSH_SYNC_MAX_ROWS", 20_000))


def chunk_rows() -> int:
    return max(1, int(getattr(settings, "HARDSHIP_INGEST_CHUNK_ROWS", 50_000)))


def max_file_bytes() -> int:
    return int(getattr(settings, "HARDSHIP_PUSH_MAX_BYTES", 512 * 1024 * 1024))
