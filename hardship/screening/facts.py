"""Evidence identity (see `hardship.screening`): what a pushed row states, the key of a hit's
evidence, and streaming the rows screening reads."""

import hashlib
from collections.abc import Callable, Iterable, Iterator

from hardship.models import PushKind

CHUNK = 5_000  # rows fetched per round trip while streaming
ID_BATCH = 1_000  # ids per IN (...) list
Tick = Callable[[], None] | None


def fact_key(fact: str) -> str:
    return hashlib.sha256(fact.encode()).hexdigest()[:20]


def row_fact(kind: str, agency_id: int, period: str, source_key: str, payload: dict) -> str:
    """What a row states, independent of which monthly push carried it (see the module doc)."""
    if kind == PushKind.LOW_INCOME:
        return f"low_income/{agency_id}/{payload.get('list', '')}/{payload.get('start_date', '')}"
    if kind == PushKind.WORK_INJURY:
        return f"work_injury/{agency_id}/{payload.get('grade', '')}/{payload.get('injury_date', '')}"
    if kind == PushKind.DISABILITY:
        return f"disability/{agency_id}/{payload.get('type', '')}/{payload.get('grade', '')}"
    return f"{kind}/{agency_id}/{period}/{source_key}"


def evidence_key(rule_id: int, fact_keys: Iterable[str]) -> str:
    return hashlib.sha256(f"{rule_id}|{'|'.join(sorted(set(fact_keys)))}".encode()).hexdigest()


def stream_rows(qs, fields: tuple[str, ...], tick: Tick) -> Iterator[tuple]:
    """Stream `fields` of `qs` in chunks (a server-side cursor on PostgreSQL), ticking per chunk."""
    for i, rec in enumerate(qs.order_by().values_list(*fields).iterator(chunk_size=CHUNK)):
        if tick and i % CHUNK == 0:
            tick()
        yield rec


def id_batches(ids: list[int], size: int = ID_BATCH) -> Iterator[list[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]
