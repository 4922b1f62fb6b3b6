"""Case files (建档): opening one (directly or from a screening candidate), dismissing a
candidate, the states a case goes through, and its timeline.

A case changes state only along `ALLOWED_TRANSITIONS`; each change is an event on the case's
timeline and an audit entry. A closed case pays nothing more: its aid waiting for approval is
rejected. A filed case assessed as not in hardship waits for staff to decide (`needs_decision`).
"""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ServiceError
from core.services import audit_log
from hardship.models import Aid, Candidate, Case, CaseEvent
from hardship.periods import add_years
from hardship.selectors.access import candidates_visible_to
from hardship.services.access import forbidden_error, require_case, require_union
from members.models import Member


def case_event(case: Case, kind: str, *, actor=None, text: str = "", data: dict | None = None) -> CaseEvent:
    actor_user = actor if getattr(actor, "is_authenticated", False) and getattr(actor, "pk", None) else None
    return CaseEvent.objects.create(case=case, kind=kind, text=str(text)[:500], data=data or {}, actor=actor_user)


def case_link(case: Case) -> str:
    return f"/admin/hardship/case/{case.pk}/change/"


# --- Case files --------------------------------------------------------------------------------

S = Case.State
# The only state changes allowed; anything else is refused with `bad_transition`.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.CANDIDATE: frozenset({S.CONTACTED, S.WITHDRAWN}),
    S.CONTACTED: frozenset({S.ASSESSING, S.WITHDRAWN}),
    S.ASSESSING: frozenset({S.CONTACTED, S.FILED, S.WITHDRAWN}),
    S.FILED: frozenset({S.RECEIVING_AID, S.EXITED, S.RESOLVED, S.WITHDRAWN}),
    S.RECEIVING_AID: frozenset({S.EXITED, S.RESOLVED, S.WITHDRAWN}),
    S.EXITED: frozenset(),
    S.RESOLVED: frozenset(),
    S.WITHDRAWN: frozenset(),
}
CLOSED_STATES = (S.EXITED, S.RESOLVED, S.WITHDRAWN)
FILED_STATES = (S.FILED, S.RECEIVING_AID)
# The categories that are hardship: a filed case with another category (`none`, after a new
# assessment or an override) gets no aid until it is in one of these again, see `needs_decision`.
IN_HARDSHIP = Case.IN_HARDSHIP_CATEGORIES


def needs_decision(case: Case) -> bool:
    """A filed case whose category is no longer hardship (re-assessed or overridden as `none`).
    Until staff decide, no aid is entered or approved under it (`not_in_hardship`). Staff either
    close it — exit (脱困) or resolve (解困) it, giving a reason — or, when the household is still in
    hardship, assess it again or override the category with a reason."""
    return case.state in FILED_STATES and case.category not in IN_HARDSHIP


def not_in_hardship_error() -> ServiceError:
    return ServiceError(
        "not_in_hardship",
        _(
            "The latest assessment found this household not in hardship: no aid can be entered or approved. "
            "Exit or resolve the case with a reason, or assess it again or override the category with a reason."
        ),
    )


def case_number(case: Case) -> str:
    """KN + the year opened + the row id: KN2025-000123."""
    return f"KN{timezone.localtime(case.opened_at).year:04d}-{case.pk:06d}"


def _evidence_data(evidence) -> dict:
    """What of screening evidence goes on the (unencrypted) timeline: references, not figures."""
    if isinstance(evidence, Candidate):
        return {
            "candidate": evidence.pk,
            "rule": evidence.rule_id,
            "rule_name": str(evidence.rule),
            "period": evidence.period,
            "evidence_key": evidence.evidence_key,
            "rows": list((evidence.evidence or {}).get("rows", []))[:500],
        }
    keep = ("candidate", "rule", "rule_name", "rule_kind", "period", "evidence_key", "rows")
    data = {k: evidence[k] for k in keep if k in (evidence or {})}
    if "rows" in data:
        data["rows"] = list(data["rows"])[:500]
    if "rule" in data and hasattr(data["rule"], "pk"):
        data["rule_name"] = str(data["rule"])
        data["rule"] = data["rule"].pk
    return data


def case_note_evidence(*, case: Case, candidate_or_evidence, actor=None) -> CaseEvent | None:
    """Add new screening evidence to an open case's timeline (used when screening hits a member
    who already has one). Idempotent per `evidence_key`: the same evidence noted again adds nothing."""
    data = _evidence_data(candidate_or_evidence)
    with transaction.atomic():
        key = data.get("evidence_key")
        if key and case.events.filter(kind="evidence", data__evidence_key=key).exists():
            return None
        event = case_event(case, "evidence", actor=actor, text=_("New screening evidence"), data=data)
        audit_log(
            action="hardship.case.evidence_noted",
            obj=case,
            actor=actor,
            new={k: v for k, v in data.items() if k != "rows"},
        )
    return event


def _confirm_candidate(candidate: Candidate, actor, note: str) -> None:
    candidate.state = Candidate.State.CONFIRMED
    candidate.decided_at = timezone.now()
    candidate.decided_by = actor
    if note:
        candidate.note = note[:300]
    candidate.save(update_fields=["state", "decided_at", "decided_by", "note"])
    audit_log(
        action="hardship.candidate.confirmed",
        obj=candidate,
        actor=actor,
        old={"state": "open"},
        new={"state": "confirmed"},
    )


def case_open(*, head: Member, actor, candidate: Candidate | None = None, note: str = "") -> Case:
    """Open a case file for a household headed by `head`, directly or from a screening candidate
    (which is confirmed). A head with an open case already keeps it: the candidate's evidence is
    noted on that case's timeline and that case is returned."""
    require_union(actor, head.union)
    if candidate is not None:
        if candidate.member_id != head.pk:
            raise ServiceError("wrong_candidate", _("This candidate is not the head of household."))
        if not candidates_visible_to(actor).filter(pk=candidate.pk).exists():
            raise forbidden_error()
    with transaction.atomic():
        if candidate is not None:
            candidate = Candidate.objects.select_for_update().select_related("rule").get(pk=candidate.pk)
            if candidate.state != Candidate.State.OPEN:
                raise ServiceError("candidate_decided", _("This candidate has already been decided."))
        existing = Case.objects.filter(head=head, state__in=Case.OPEN_STATES).first()
        if existing is None:
            try:
                with transaction.atomic():
                    case = Case.objects.create(head=head, union=head.union, created_by=actor)
            except IntegrityError:  # opened at the same moment by someone else
                existing = Case.objects.get(head=head, state__in=Case.OPEN_STATES)
        if existing is not None:
            if candidate is not None:
                case_note_evidence(case=existing, candidate_or_evidence=candidate, actor=actor)
                _confirm_candidate(candidate, actor, note)
            elif note:
                case_event(existing, "note", actor=actor, text=note)
            return existing
        case.case_no = case_number(case)
        case.save(update_fields=["case_no"])
        data = {"candidate": candidate.pk} if candidate is not None else {}
        case_event(case, "opened", actor=actor, text=note, data=data)
        if candidate is not None:
            case_event(case, "evidence", actor=actor, text=_("Screening evidence"), data=_evidence_data(candidate))
            _confirm_candidate(candidate, actor, note)
        audit_log(
            action="hardship.case.opened",
            obj=case,
            actor=actor,
            new={"case_no": case.case_no, "head": head.member_no, "union": case.union_id, **data},
        )
    return case


def candidate_dismiss(*, candidate: Candidate, actor, note: str) -> Candidate:
    """Dismiss a candidate with a reason; the same evidence will not raise it again."""
    if not candidates_visible_to(actor).filter(pk=candidate.pk).exists():
        raise forbidden_error()
    note = (note or "").strip()
    if not note:
        raise ServiceError("reason_required", _("Give a reason for dismissing the candidate."))
    with transaction.atomic():
        cand = Candidate.objects.select_for_update().get(pk=candidate.pk)
        if cand.state != Candidate.State.OPEN:
            raise ServiceError("candidate_decided", _("This candidate has already been decided."))
        cand.state = Candidate.State.DISMISSED
        cand.decided_at = timezone.now()
        cand.decided_by = actor
        cand.note = note[:300]
        cand.save(update_fields=["state", "decided_at", "decided_by", "note"])
        audit_log(
            action="hardship.candidate.dismissed",
            obj=cand,
            actor=actor,
            old={"state": "open"},
            new={"state": "dismissed"},
        )
    return cand


def case_lock(case: Case) -> Case:
    return Case.objects.select_for_update().get(pk=case.pk)


def locked_case_transition(case: Case, to_state: str, actor, note: str = "") -> Case:
    """Change the state of a locked case (inside the caller's transaction)."""
    old = case.state
    if to_state not in ALLOWED_TRANSITIONS.get(old, frozenset()):
        raise ServiceError(
            "bad_transition",
            _("A case cannot go from “%(old)s” to “%(new)s”.")
            % {"old": S(old).label, "new": S(to_state).label if to_state in S.values else to_state},
        )
    if to_state == S.FILED:
        if not case.category:
            raise ServiceError("not_assessed", _("Assess the household before filing the case."))
        if case.category == Case.Category.NONE:
            raise ServiceError(
                "not_in_hardship",
                _("The assessment found no hardship: override the category with a reason, or withdraw the case."),
            )
    if to_state == S.RECEIVING_AID and case.category not in IN_HARDSHIP:
        raise not_in_hardship_error()
    if to_state in CLOSED_STATES and needs_decision(case) and not (note or "").strip():
        # The household was found no longer in hardship: closing the file is a decision on record.
        raise ServiceError(
            "reason_required",
            _("This case was assessed as not in hardship: give the reason for closing it."),
        )
    fields = ["state"]
    case.state = to_state
    now = timezone.now()
    if to_state == S.FILED:
        case.filed_at = now
        case.review_due = add_years(timezone.localdate(now))
        fields += ["filed_at", "review_due"]
    if to_state in CLOSED_STATES:
        case.closed_at = now
        fields.append("closed_at")
    case.save(update_fields=fields)
    data = {"from": old, "to": to_state}
    if to_state == S.FILED:
        data["review_due"] = case.review_due.isoformat()
    case_event(case, "state", actor=actor, text=note, data=data)
    audit_log(action=f"hardship.case.{to_state}", obj=case, actor=actor, old={"state": old}, new=data)
    if to_state in CLOSED_STATES:
        _reject_pending_aid(case, actor)
    return case


def _reject_pending_aid(case: Case, actor) -> None:
    """A closed case pays nothing more: its aid still waiting for approval is rejected (the case is
    locked by the caller; aid rows are locked after it, in primary-key order, as `aid_approve` does)."""
    for aid in Aid.objects.select_for_update().filter(case=case, state=Aid.State.PENDING_APPROVAL).order_by("pk"):
        aid.state = Aid.State.REJECTED
        aid.save(update_fields=["state"])
        data = {"aid": aid.pk, "amount": str(aid.amount), "reason": "case_closed"}
        case_event(case, "aid_rejected", actor=actor, text=_("The case was closed."), data=data)
        audit_log(action="hardship.aid.rejected", obj=aid, actor=actor, old={"state": "pending"}, new=data)


def case_transition(*, case: Case, to_state: str, actor, note: str = "") -> Case:
    """Move a case along `ALLOWED_TRANSITIONS`. Filing needs an assessment showing hardship and
    sets `filed_at` and the yearly review a year later; closing sets `closed_at` and rejects the
    case's aid still waiting for approval. Closing a filed case assessed as not in hardship
    (`needs_decision`) needs a reason in `note`; such a case cannot move to `receiving_aid`."""
    require_case(actor, case)
    with transaction.atomic():
        return locked_case_transition(case_lock(case), to_state, actor, note)
