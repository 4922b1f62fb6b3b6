"""What an agency reads of its pushes: its own pushes, and the answer to each (state, figures,
each rejected row's line and reason)."""

from django.conf import settings
from django.db.models import QuerySet

from core.models import Agency
from hardship.ingest.storage import pages_received
from hardship.models import DataPush


def pushes_of_agency(agency: Agency) -> QuerySet[DataPush]:
    """The agency's own pushes, newest first (another agency's are never visible)."""
    return DataPush.objects.filter(agency=agency).select_related("agency").defer("errors", "response")


def push_of_agency(agency: Agency, pk: int) -> DataPush | None:
    return DataPush.objects.filter(agency=agency, pk=pk).select_related("agency").first()


def push_answer(push: DataPush) -> dict:
    """The answer to a push: its state and figures, and each rejected row's line and reason.

    Once ingested, this is the first answer, stored: a repeated delivery gets it unchanged. It
    lists the first HARDSHIP_PUSH_ANSWER_MAX_ERRORS rejected rows (a million-row push of bad rows
    must not answer a 100 MB body) and says how many more there are (`errors_omitted`).
    """
    if push.response and push.state in (DataPush.State.INGESTED, DataPush.State.FAILED) and "id" in push.response:
        return push.response
    max_errors = int(getattr(settings, "HARDSHIP_PUSH_ANSWER_MAX_ERRORS", 1_000))
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
        "errors": list(push.errors[:max_errors]),
        "received_at": push.received_at.isoformat(),
        "ingested_at": push.ingested_at.isoformat() if push.ingested_at else None,
    }
    if len(push.errors) > max_errors:  # a bounded answer: the rest are counted in `rejected`
        answer["errors_omitted"] = len(push.errors) - max_errors
    if push.source == DataPush.Source.API_JSON:
        answer["pages"] = push.pages
        if push.state == DataPush.State.RECEIVING:
            answer["pages_received"] = pages_received(push)
    if push.state == DataPush.State.FAILED and push.response.get("error"):
        answer["error"] = push.response["error"]
    return answer
