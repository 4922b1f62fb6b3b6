"""The access rule of the hardship services, and the access log.

Hardship staff act only on the cases of their own union's subtree (`hardship.selectors`); every
opening, export or search of a case file is written to the access log, which nobody can change.
"""

from django.utils.translation import gettext as _

from core.errors import ErrorKind, ServiceError
from hardship.models import AccessLog, Case, CaseDocument
from hardship.selectors.access import case_visible, case_visible_to, document_visible, is_hardship_staff
from members.models import Union
from members.selectors import user_can_manage

# --- Access --------------------------------------------------------------------------------------


def forbidden_error() -> ServiceError:
    return ServiceError(
        "forbidden",
        _("You may only act on hardship cases of your own union and the unions under it."),
        kind=ErrorKind.FORBIDDEN,
    )


def require_case(actor, case: Case) -> None:
    if not case_visible_to(actor, case):
        raise forbidden_error()


def require_union(actor, union: Union) -> None:
    if not (is_hardship_staff(actor) and user_can_manage(actor, union)):
        raise forbidden_error()


def access_log(*, user, action: str, case: Case | None = None, detail: str = "") -> AccessLog:
    """Record that `user` opened, exported or searched (append-only; nobody can edit it)."""
    if action not in AccessLog.Action.values:
        raise ValueError(f"unknown access action {action!r}")
    return AccessLog.objects.create(user=user, action=action, case=case, detail=detail[:200])


def case_open_for_view(*, user, case_id: int) -> Case | None:
    """The case opened for `user` to read, recorded in the access log; None if they may not see it."""
    case = case_visible(user=user, case_id=case_id)
    if case is not None:
        access_log(user=user, action=AccessLog.Action.OPEN, case=case)
    return case


def document_open_for_view(*, user, document_id: int) -> CaseDocument | None:
    """A case document opened for `user`, recorded in the access log; None if they may not see its case."""
    doc = document_visible(user=user, document_id=document_id)
    if doc is not None:
        access_log(user=user, action=AccessLog.Action.OPEN, case=doc.case, detail=f"document {doc.pk}")
    return doc
