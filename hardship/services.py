"""Hardship services: case files (建档), assessment, documents, aid, warmth batches, referrals (转介).

Every function here is one unit of work: it checks the actor's access (hardship staff of the
case's union subtree, see `hardship.selectors`), validates, writes in one transaction with its
audit entry (`hardship.*` codes; never income, health or ID numbers in clear) and an event on the
case's timeline, and queues notifications to be sent once the transaction commits. Refusals are
`members.services.ServiceError(code, message)`.
"""

import datetime as dt
import uuid
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.errors import ErrorKind, ServiceError
from core.models import Agency
from core.services import audit_log, notification_send, recipients_language
from hardship import documents, exports, selectors
from hardship.models import (
    AccessLog,
    Aid,
    Candidate,
    Case,
    CaseDocument,
    CaseEvent,
    FundLine,
    HardshipSettings,
    LocalStandard,
    Referral,
    WarmthBatch,
    WarmthRosterEntry,
)
from hardship.periods import add_years, month_parse, period_of
from hardship.selectors import (
    can_change_hardship_settings,
    can_change_second_approval,
    candidates_visible_to,
    case_visible_to,
    district_of,
    is_hardship_staff,
)
from hardship.selectors import double_aid_check as _double_aid_check
from hardship.selectors.staff import case_staff_ids
from members.models import Member, Union
from members.selectors import user_can_manage

CENT = Decimal("0.01")
MAX_MONEY = Decimal("9999999999.99")

# --- Access --------------------------------------------------------------------------------------


def _forbidden() -> ServiceError:
    return ServiceError(
        "forbidden",
        _("You may only act on hardship cases of your own union and the unions under it."),
        kind=ErrorKind.FORBIDDEN,
    )


def _require_case(actor, case: Case) -> None:
    if not case_visible_to(actor, case):
        raise _forbidden()


def _require_union(actor, union: Union) -> None:
    if not (is_hardship_staff(actor) and user_can_manage(actor, union)):
        raise _forbidden()


def access_log(*, user, action: str, case: Case | None = None, detail: str = "") -> AccessLog:
    """Record that `user` opened, exported or searched (append-only; nobody can edit it)."""
    if action not in AccessLog.Action.values:
        raise ValueError(f"unknown access action {action!r}")
    return AccessLog.objects.create(user=user, action=action, case=case, detail=detail[:200])


def case_open_for_view(*, user, case_id: int) -> Case | None:
    """The case opened for `user` to read, recorded in the access log; None if they may not see it."""
    case = selectors.case_visible(user=user, case_id=case_id)
    if case is not None:
        access_log(user=user, action=AccessLog.Action.OPEN, case=case)
    return case


def document_open_for_view(*, user, document_id: int) -> CaseDocument | None:
    """A case document opened for `user`, recorded in the access log; None if they may not see its case."""
    doc = selectors.document_visible(user=user, document_id=document_id)
    if doc is not None:
        access_log(user=user, action=AccessLog.Action.OPEN, case=doc.case, detail=f"document {doc.pk}")
    return doc


def _event(case: Case, kind: str, *, actor=None, text: str = "", data: dict | None = None) -> CaseEvent:
    actor_user = actor if getattr(actor, "is_authenticated", False) and getattr(actor, "pk", None) else None
    return CaseEvent.objects.create(case=case, kind=kind, text=str(text)[:500], data=data or {}, actor=actor_user)


def _case_link(case: Case) -> str:
    return f"/admin/hardship/case/{case.pk}/change/"


# --- Values ---------------------------------------------------------------------------------------


def _money(value, *, field: str, allow_zero: bool = False) -> Decimal:
    """A CNY amount as an exact Decimal with at most two decimals (floats are read via str)."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError, TypeError):
        raise ServiceError("bad_amount", _("%(field)s is not an amount of money.") % {"field": field}) from None
    if not amount.is_finite() or amount != amount.quantize(CENT) or abs(amount) > MAX_MONEY:
        raise ServiceError("bad_amount", _("%(field)s is not an amount of money.") % {"field": field})
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ServiceError("bad_amount", _("%(field)s must be more than zero.") % {"field": field})
    return amount.quantize(CENT)


# --- The ACFTU category ---------------------------------------------------------------------------


def category_for(
    *,
    annual_income: Decimal,
    medical: Decimal,
    schooling: Decimal,
    household_size: int,
    monthly_standard: Decimal,
    sudden_accident: bool,
) -> str:
    """The hardship category under the ACFTU rules (全总困难职工认定).

    Per-capita monthly income = (annual income − (medical + schooling)) / 12 / household size.
    - 深度困难 `deep`: per-capita monthly income below the local minimum living standard;
    - 相对困难 `relative`: not deep, and below twice the standard;
    - 意外致困 `accident`: neither, but a sudden accident or a major illness;
    - `none` otherwise.
    Precedence: deep > relative > accident > none (an accident does not lower an income-based
    category). "Below" is strict: exactly at the standard is not below it.

    Exact arithmetic: instead of dividing (which does not terminate for /12/3), the comparison
    `net / (12 × size) < standard` is made as `net < standard × 12 × size`, all in Decimal.
    """
    if household_size < 1:
        raise ValueError("household size is at least 1")
    income, medical, schooling, standard = (
        Decimal(str(v)) for v in (annual_income, medical, schooling, monthly_standard)
    )
    net = income - (medical + schooling)
    months = 12 * household_size
    if net < standard * months:
        return Case.Category.DEEP
    if net < 2 * standard * months:
        return Case.Category.RELATIVE
    if sudden_accident:
        return Case.Category.ACCIDENT
    return Case.Category.NONE


def per_capita_monthly(*, annual_income, medical, schooling, household_size: int) -> Decimal:
    """For display only, rounded to the cent (categories compare exactly, see `category_for`)."""
    net = Decimal(str(annual_income)) - Decimal(str(medical)) - Decimal(str(schooling))
    return (net / (12 * household_size)).quantize(CENT, rounding=ROUND_HALF_UP)


def local_standard_for(union: Union, year: int) -> LocalStandard:
    """The standard of the district/county union above `union` for `year`, or a ServiceError."""
    district = district_of(union)
    standard = LocalStandard.objects.filter(union=district, year=year).first() if district else None
    if standard is None:
        raise ServiceError(
            "no_local_standard",
            _(
                "No local minimum living standard is set for %(union)s in %(year)d. "
                "Set it in the admin under Hardship › Local minimum living standards."
            )
            % {"union": district.name if district else union.name, "year": year},
        )
    return standard


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
IN_HARDSHIP = (Case.Category.DEEP, Case.Category.RELATIVE, Case.Category.ACCIDENT)


def needs_decision(case: Case) -> bool:
    """A filed case whose category is no longer hardship (re-assessed or overridden as `none`).
    Until staff decide, no aid is entered or approved under it (`not_in_hardship`). Staff either
    close it — exit (脱困) or resolve (解困) it, giving a reason — or, when the household is still in
    hardship, assess it again or override the category with a reason."""
    return case.state in FILED_STATES and case.category not in IN_HARDSHIP


def _no_aid_not_in_hardship() -> ServiceError:
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
        event = _event(case, "evidence", actor=actor, text=_("New screening evidence"), data=data)
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
    _require_union(actor, head.union)
    if candidate is not None:
        if candidate.member_id != head.pk:
            raise ServiceError("wrong_candidate", _("This candidate is not the head of household."))
        if not candidates_visible_to(actor).filter(pk=candidate.pk).exists():
            raise _forbidden()
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
                _event(existing, "note", actor=actor, text=note)
            return existing
        case.case_no = case_number(case)
        case.save(update_fields=["case_no"])
        data = {"candidate": candidate.pk} if candidate is not None else {}
        _event(case, "opened", actor=actor, text=note, data=data)
        if candidate is not None:
            _event(case, "evidence", actor=actor, text=_("Screening evidence"), data=_evidence_data(candidate))
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
        raise _forbidden()
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


def _lock(case: Case) -> Case:
    return Case.objects.select_for_update().get(pk=case.pk)


def _transition(case: Case, to_state: str, actor, note: str = "") -> Case:
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
        raise _no_aid_not_in_hardship()
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
    _event(case, "state", actor=actor, text=note, data=data)
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
        _event(case, "aid_rejected", actor=actor, text=_("The case was closed."), data=data)
        audit_log(action="hardship.aid.rejected", obj=aid, actor=actor, old={"state": "pending"}, new=data)


def case_transition(*, case: Case, to_state: str, actor, note: str = "") -> Case:
    """Move a case along `ALLOWED_TRANSITIONS`. Filing needs an assessment showing hardship and
    sets `filed_at` and the yearly review a year later; closing sets `closed_at` and rejects the
    case's aid still waiting for approval. Closing a filed case assessed as not in hardship
    (`needs_decision`) needs a reason in `note`; such a case cannot move to `receiving_aid`."""
    _require_case(actor, case)
    with transaction.atomic():
        return _transition(_lock(case), to_state, actor, note)


def case_assess(
    *,
    case: Case,
    actor,
    household_size: int,
    annual_income,
    medical_expenditure,
    schooling_expenditure,
    sudden_accident: bool,
    health_notes: str = "",
    year: int | None = None,
) -> Case:
    """Record the household's assessment (figures encrypted at rest) and compute its category with
    `category_for` against the local standard of the case's district/county for `year` (default:
    this year). A contacted case moves to `assessing`. A new assessment replaces any earlier one,
    including a category override (which must then be given again).

    A filed case assessed as not in hardship stays filed (staff decide, see `needs_decision`), but
    from then on no aid can be entered or approved under it; its aid waiting for approval stays
    waiting, to be rejected or approved once the case is in hardship again."""
    _require_case(actor, case)
    try:
        size = int(household_size)
    except (TypeError, ValueError):
        size = 0
    if size < 1 or size > 50:
        raise ServiceError("bad_household_size", _("A household has at least one person."))
    income = _money(annual_income, field=_("Household income"), allow_zero=True)
    medical = _money(medical_expenditure, field=_("Medical expenditure"), allow_zero=True)
    schooling = _money(schooling_expenditure, field=_("Schooling expenditure"), allow_zero=True)
    year = year or timezone.localdate().year
    with transaction.atomic():
        case = _lock(case)
        if case.state not in (S.CONTACTED, S.ASSESSING, *FILED_STATES):
            raise ServiceError("bad_state", _("Only a contacted or open filed case can be assessed."))
        standard = local_standard_for(case.union, year)
        computed = category_for(
            annual_income=income,
            medical=medical,
            schooling=schooling,
            household_size=size,
            monthly_standard=standard.monthly_amount,
            sudden_accident=bool(sudden_accident),
        )
        old = {"category": case.category, "computed_category": case.computed_category}
        case.household_size = size
        case.annual_income = str(income)
        case.medical_expenditure = str(medical)
        case.schooling_expenditure = str(schooling)
        case.sudden_accident = bool(sudden_accident)
        case.health_notes = health_notes or ""
        case.computed_category = computed
        case.category = computed
        case.category_override_reason = ""
        case.save(
            update_fields=[
                "household_size",
                "annual_income",
                "medical_expenditure",
                "schooling_expenditure",
                "sudden_accident",
                "health_notes",
                "computed_category",
                "category",
                "category_override_reason",
            ]
        )
        new = {"category": computed, "standard_year": year, "standard": str(standard.monthly_amount)}
        _event(case, "assessment", actor=actor, text=str(Case.Category(computed).label), data=new)
        audit_log(action="hardship.case.assessed", obj=case, actor=actor, old=old, new=new)
        if case.state == S.CONTACTED:
            _transition(case, S.ASSESSING, actor)
        _note_not_in_hardship(case, actor)
    return case


def _note_not_in_hardship(case: Case, actor) -> None:
    """On the timeline: a filed case that is no longer in hardship waits for staff to decide."""
    if needs_decision(case):
        _event(
            case,
            "not_in_hardship",
            actor=actor,
            text=_("Not in hardship: no aid until staff close the case or assess or override it again."),
            data={"category": case.category},
        )


def case_override_category(*, case: Case, actor, category: str, reason: str) -> Case:
    """Staff set another category than the computed one, with a reason; the computed one stays."""
    _require_case(actor, case)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("reason_required", _("Give a reason for overriding the category."))
    if category not in Case.Category.values:
        raise ServiceError("bad_category", _("Choose one of the hardship categories."))
    with transaction.atomic():
        case = _lock(case)
        if not case.computed_category:
            raise ServiceError("not_assessed", _("Assess the household before overriding its category."))
        if not case.is_open:
            raise ServiceError("bad_state", _("This case is closed."))
        old = {"category": case.category}
        case.category = category
        case.category_override_reason = reason[:300]
        case.save(update_fields=["category", "category_override_reason"])
        new = {"category": category, "computed_category": case.computed_category}
        _event(case, "category_override", actor=actor, text=reason, data=new)
        # The reason may describe health or income: it stays on the case, not in the audit log.
        audit_log(action="hardship.case.category_overridden", obj=case, actor=actor, old=old, new=new)
        _note_not_in_hardship(case, actor)
    return case


def case_review(*, case: Case, actor, note: str, still_in_hardship: bool) -> Case:
    """The yearly review of a filed case. Still in hardship: the next review is due a year after
    the later of the due date and today (an early review does not shorten the year, a late one
    does not leave the case overdue). No longer in hardship: the case exits (脱困). A case assessed
    as not in hardship cannot be reviewed as still in hardship (`not_in_hardship`): assess it again
    or override its category first."""
    _require_case(actor, case)
    with transaction.atomic():
        case = _lock(case)
        if case.state not in FILED_STATES:
            raise ServiceError("not_filed", _("Only a filed case has a yearly review."))
        if still_in_hardship and needs_decision(case):
            raise ServiceError(
                "not_in_hardship",
                _(
                    "The latest assessment found this household not in hardship: "
                    "assess it again or override the category before confirming it is still in hardship."
                ),
            )
        old_due = case.review_due
        today = timezone.localdate()
        data = {"still_in_hardship": bool(still_in_hardship), "review_due": old_due.isoformat() if old_due else None}
        if still_in_hardship:
            case.review_due = add_years(max(old_due or today, today))
            case.save(update_fields=["review_due"])
            data["next_review_due"] = case.review_due.isoformat()
        _event(case, "review", actor=actor, text=note, data=data)
        audit_log(action="hardship.case.reviewed", obj=case, actor=actor, old={"review_due": old_due}, new=data)
        if not still_in_hardship:
            _transition(case, S.EXITED, actor, note)
    return case


# --- Settings ----------------------------------------------------------------------------------


def settings_change(*, actor, second_approval_above=None, document_max_bytes=None) -> HardshipSettings:
    """Change the city-wide settings row. Only city-level staff with `change_hardshipsettings` may
    change it at all, and the second-approval threshold also needs `change_second_approval`
    (`hardship.selectors.can_change_second_approval`). `None` leaves a setting as it is. Every
    change is audited (`hardship.settings.changed`) with the old and the new values."""
    if not can_change_hardship_settings(actor):
        raise ServiceError(
            "forbidden", _("Only city-level hardship staff may change the hardship settings."), kind=ErrorKind.FORBIDDEN
        )
    wanted: dict = {}
    if second_approval_above is not None:
        wanted["second_approval_above"] = _money(
            second_approval_above, field=_("Second-approval threshold"), allow_zero=True
        )
    if document_max_bytes is not None:
        try:
            size = int(document_max_bytes)
        except (TypeError, ValueError):
            size = 0
        if size < 1:
            raise ServiceError("bad_size", _("The largest document must be at least one byte."))
        wanted["document_max_bytes"] = size
    with transaction.atomic():
        row = HardshipSettings.objects.select_for_update().get(pk=HardshipSettings.get().pk)
        changed = [name for name, value in wanted.items() if getattr(row, name) != value]
        if "second_approval_above" in changed and not can_change_second_approval(actor):
            raise ServiceError(
                "forbidden",
                _("Only city-level staff with the permission to do so may change the second-approval threshold."),
                kind=ErrorKind.FORBIDDEN,
            )
        if not changed:
            return row
        old = {name: str(getattr(row, name)) for name in changed}
        for name in changed:
            setattr(row, name, wanted[name])
        row.save(update_fields=changed)
        audit_log(
            action="hardship.settings.changed",
            obj=row,
            actor=actor,
            old=old,
            new={name: str(getattr(row, name)) for name in changed},
        )
    return row


# --- Documents ---------------------------------------------------------------------------------


def document_attach(*, case: Case, actor, upload, title: str) -> CaseDocument:
    """Attach a JPEG, PNG or PDF (checked by content, size-limited); images lose their EXIF data."""
    _require_case(actor, case)
    title = (title or "").strip()
    if not title:
        raise ServiceError("title_required", _("Give the document a title."))
    try:
        clean = documents.clean(documents.read_limited(upload, HardshipSettings.get().document_max_bytes))
    except documents.DocumentRejected as exc:
        raise ServiceError(exc.code, exc.message) from None
    doc = CaseDocument(
        case=case,
        title=title[:100],
        content_type=clean.content_type,
        size=len(clean.content),
        uploaded_by=actor,
    )
    # A random name: the uploaded file name may itself be personal data.
    doc.file.save(f"{uuid.uuid4().hex}.{clean.extension}", ContentFile(clean.content), save=False)
    try:
        with transaction.atomic():
            doc.save()
            _event(case, "document", actor=actor, text=doc.title, data={"document": doc.pk})
            audit_log(
                action="hardship.document.attached",
                obj=doc,
                actor=actor,
                new={"case": case.pk, "content_type": doc.content_type, "size": doc.size},
            )
    except Exception:
        doc.file.delete(save=False)
        raise
    return doc


# --- Aid -------------------------------------------------------------------------------------


def double_aid_check(*, member: Member, fund_line: str, purpose: str, period: str, exclude_aid=None) -> list[dict]:
    """See `hardship.selectors.double_aid_check`."""
    return _double_aid_check(
        member=member, fund_line=fund_line, purpose=purpose, period=period, exclude_aid=exclude_aid
    )


def _unacknowledged(found: list[dict]) -> ServiceError:
    return ServiceError(
        "double_aid_unacknowledged",
        _(
            "This person received %(count)d other aid for the same purpose in this period. "
            "Look at the double-aid check and confirm you have seen it."
        )
        % {"count": len(found)},
    )


def case_month_aid_total(*, case: Case, period: str) -> Decimal:
    """The case's aid in the month `period` that counts against the second-approval threshold:
    waiting for approval, approved or paid (rejected aid does not count), any fund line."""
    total = (
        Aid.objects.filter(case=case, period=period)
        .exclude(state=Aid.State.REJECTED)
        .aggregate(total=Sum("amount"))["total"]
    )
    return total or Decimal("0")


def aid_create(
    *,
    case: Case,
    actor,
    fund_line: str,
    amount,
    purpose: str,
    paid_on: dt.date,
    double_aid_acknowledged: bool = False,
) -> Aid:
    """Enter aid under a filed case whose category is hardship (`not_in_hardship` otherwise, see
    `needs_decision`).

    Maker–checker: the threshold (`HardshipSettings.second_approval_above`) applies to the case's
    aid in the month of `paid_on`, not to each aid alone — see `case_month_aid_total`. When the
    case's aid of that month that is waiting for approval, approved or paid (any fund line or
    purpose), plus this amount, is above the threshold, the aid waits for a second staff member
    (`aid_approve`); so 4 × 5,000 in one month against a 10,000 threshold needs a checker from the
    third. At or below it the aid is approved at once, the maker recorded — and then, like an
    approver, the maker must acknowledge what the double-aid check finds. The case's row is locked
    first, so two aids entered at once are counted one after the other."""
    _require_case(actor, case)
    if fund_line not in FundLine.values:
        raise ServiceError("bad_fund_line", _("Choose a fund line."))
    amount = _money(amount, field=_("Amount"))
    purpose = (purpose or "").strip()
    if not purpose:
        raise ServiceError("purpose_required", _("Give the purpose of the aid."))
    if not isinstance(paid_on, dt.date):
        raise ServiceError("bad_date", _("Give the date of the aid."))
    period = period_of(paid_on)
    with transaction.atomic():
        case = _lock(case)
        if case.state not in FILED_STATES:
            raise ServiceError("case_not_filed", _("Aid can only be given under a filed case."))
        if needs_decision(case):
            raise _no_aid_not_in_hardship()
        month_total = case_month_aid_total(case=case, period=period) + amount
        needs_checker = month_total > HardshipSettings.get().second_approval_above
        found = []
        if not needs_checker:
            found = _double_aid_check(member=case.head, fund_line=fund_line, purpose=purpose, period=period)
            if found and not double_aid_acknowledged:
                raise _unacknowledged(found)
        now = timezone.now()
        aid = Aid.objects.create(
            case=case,
            member=case.head,
            union=case.union,
            fund_line=fund_line,
            amount=amount,
            purpose=purpose[:200],
            paid_on=paid_on,
            period=period,
            state=Aid.State.PENDING_APPROVAL if needs_checker else Aid.State.APPROVED,
            maker=actor,
            approved_at=None if needs_checker else now,
        )
        data = {
            "aid": aid.pk,
            "fund_line": fund_line,
            "amount": str(amount),
            "period": period,
            "state": aid.state,
            "double_aid_found": len(found),
            "month_total": str(month_total),
        }
        _event(case, "aid", actor=actor, text=aid.purpose, data=data)
        audit_log(action="hardship.aid.created", obj=aid, actor=actor, new=data)
        if needs_checker:
            with recipients_language():
                notification_send(
                    recipient_ids=case_staff_ids(case, exclude=[actor]),
                    kind="hardship.aid.pending",
                    title=_("Aid waiting for your approval"),
                    body=_("%(amount)s CNY of aid under case %(case)s needs a second approver.")
                    % {"amount": amount, "case": case.case_no},
                    link=_case_link(case),
                    dedupe_key=f"hardship-aid-pending-{aid.pk}",
                )
        else:
            audit_log(action="hardship.aid.approved", obj=aid, actor=actor, new={"state": "approved", "by": "maker"})
            if case.state == S.FILED:
                _transition(case, S.RECEIVING_AID, actor)
    return aid


def aid_approve(*, aid: Aid, actor, double_aid_acknowledged: bool = False) -> Aid:
    """The second approval (maker–checker): by staff who can see the case and did not enter the
    aid, while the case is still filed (`case_not_filed` otherwise; closing a case rejects its
    pending aid) and in hardship (`not_in_hardship` otherwise, see `needs_decision`). When the
    double-aid check finds anything, `double_aid_acknowledged` must be True.
    The case moves to `receiving_aid` with its first approved aid."""
    if aid.batch_id:
        raise ServiceError("batch_aid", _("Aid of a warmth batch is approved with its batch."))
    if aid.case_id is None:
        raise _forbidden()
    _require_case(actor, aid.case)
    with transaction.atomic():
        case = _lock(aid.case)  # the case first, then its aid: the order closing a case takes them in
        aid = Aid.objects.select_for_update().get(pk=aid.pk)
        if aid.state != Aid.State.PENDING_APPROVAL:
            raise ServiceError("not_pending", _("This aid has already been decided."), kind=ErrorKind.CONFLICT)
        if aid.maker_id == getattr(actor, "pk", None):
            raise ServiceError("maker_cannot_approve", _("Aid must be approved by someone other than its maker."))
        if case.state not in FILED_STATES:
            raise ServiceError("case_not_filed", _("This case is no longer filed: its aid cannot be approved."))
        if needs_decision(case):
            raise _no_aid_not_in_hardship()
        found = _double_aid_check(
            member=aid.member, fund_line=aid.fund_line, purpose=aid.purpose, period=aid.period, exclude_aid=aid
        )
        if found and not double_aid_acknowledged:
            raise _unacknowledged(found)
        aid.state = Aid.State.APPROVED
        aid.approver = actor
        aid.approved_at = timezone.now()
        aid.save(update_fields=["state", "approver", "approved_at"])
        data = {"aid": aid.pk, "amount": str(aid.amount), "fund_line": aid.fund_line, "double_aid_found": len(found)}
        _event(case, "aid_approved", actor=actor, text=aid.purpose, data=data)
        audit_log(action="hardship.aid.approved", obj=aid, actor=actor, old={"state": "pending"}, new=data)
        if case.state == S.FILED:
            _transition(case, S.RECEIVING_AID, actor)
        with recipients_language():
            notification_send(
                recipient_ids=[aid.maker_id],
                kind="hardship.aid.approved",
                title=_("Aid approved"),
                body=_("%(amount)s CNY of aid under case %(case)s was approved.")
                % {"amount": aid.amount, "case": case.case_no},
                link=_case_link(case),
                dedupe_key=f"hardship-aid-approved-{aid.pk}",
            )
    return aid


def aid_reject(*, aid: Aid, actor, reason: str) -> Aid:
    """Refuse pending aid, with a reason (the maker may also withdraw their own)."""
    if aid.batch_id or aid.case_id is None:
        raise ServiceError("batch_aid", _("Aid of a warmth batch is approved with its batch."))
    _require_case(actor, aid.case)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("reason_required", _("Give a reason for rejecting the aid."))
    with transaction.atomic():
        case = _lock(aid.case)  # the case first, then its aid (see `aid_approve`)
        aid = Aid.objects.select_for_update().get(pk=aid.pk)
        if aid.state != Aid.State.PENDING_APPROVAL:
            raise ServiceError("not_pending", _("This aid has already been decided."), kind=ErrorKind.CONFLICT)
        aid.state = Aid.State.REJECTED
        aid.save(update_fields=["state"])
        data = {"aid": aid.pk, "amount": str(aid.amount)}
        _event(case, "aid_rejected", actor=actor, text=reason, data=data)
        audit_log(action="hardship.aid.rejected", obj=aid, actor=actor, old={"state": "pending"}, new=data)
    return aid


# --- Warmth batches (常态化送温暖) --------------------------------------------------------------------


def warmth_batch_create(*, union: Union, period: str, amount_per_person, actor, name: str) -> WarmthBatch:
    """A batch payment of `amount_per_person` to every active warmth-roster entry of the union's
    subtree for the period's year (active members only), one aid row per member, waiting for a
    second staff member's approval (`warmth_batch_approve`). The aid is dated the period's first day.

    A member is paid warmth aid once per period: when anyone on the roster already has warmth aid
    for the period (waiting for approval, approved or paid; from another batch, e.g. of the same or
    an overlapping union, or under a case), the batch is refused (`already_paid`, with how many).
    The roster rows are locked first, so two batches drawn up at once are checked one after the other."""
    _require_union(actor, union)
    month = month_parse(period)
    amount = _money(amount_per_person, field=_("Amount per person"))
    name = (name or "").strip()
    if not name:
        raise ServiceError("name_required", _("Give the batch a name."))
    with transaction.atomic():
        roster = WarmthRosterEntry.objects.filter(
            is_active=True,
            year=month.year,
            union__path__startswith=union.path,
            member__status=Member.Status.ACTIVE,
        )
        # Lock the roster rows in primary-key order: an overlapping batch drawn up at the same time
        # waits here, then sees this batch's aid.
        list(roster.select_for_update(of=("self",)).order_by("pk").values_list("pk", flat=True))
        entries = list(roster.order_by("member_id").values_list("member_id", "union_id"))
        if not entries:
            raise ServiceError("empty_roster", _("The warmth roster of this union has nobody for that year."))
        already = (
            Aid.objects.filter(fund_line=FundLine.WARMTH, period=period, member__in=roster.values("member_id"))
            .exclude(state=Aid.State.REJECTED)
            .values("member_id")
            .distinct()
            .count()
        )
        if already:
            raise ServiceError(
                "already_paid",
                ngettext(
                    "%(count)d person on this roster already has warmth aid for %(period)s (waiting for "
                    "approval, approved or paid). Nobody is paid twice for a period: no batch was drawn up.",
                    "%(count)d people on this roster already have warmth aid for %(period)s (waiting for "
                    "approval, approved or paid). Nobody is paid twice for a period: no batch was drawn up.",
                    already,
                )
                % {"count": already, "period": period},
            )
        batch = WarmthBatch.objects.create(
            name=name[:100],
            union=union,
            period=period,
            recipients=len(entries),
            total=amount * len(entries),
            created_by=actor,
        )
        Aid.objects.bulk_create(
            [
                Aid(
                    member_id=member_id,
                    union_id=union_id,
                    batch=batch,
                    fund_line=FundLine.WARMTH,
                    amount=amount,
                    purpose=batch.name,
                    paid_on=month,
                    period=period,
                    state=Aid.State.PENDING_APPROVAL,
                    maker=actor,
                )
                for member_id, union_id in entries
            ],
            batch_size=500,
        )
        audit_log(
            action="hardship.warmth_batch.created",
            obj=batch,
            actor=actor,
            new={"period": period, "recipients": batch.recipients, "amount": str(amount), "total": str(batch.total)},
        )
    return batch


def warmth_batch_approve(*, batch: WarmthBatch, actor) -> WarmthBatch:
    """Approve a draft batch and its aid: by staff of the union's scope other than its creator."""
    _require_union(actor, batch.union)
    with transaction.atomic():
        batch = WarmthBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.state != WarmthBatch.State.DRAFT:
            raise ServiceError("not_pending", _("This batch has already been approved."), kind=ErrorKind.CONFLICT)
        if batch.created_by_id == getattr(actor, "pk", None):
            raise ServiceError("maker_cannot_approve", _("A batch must be approved by someone other than its maker."))
        now = timezone.now()
        approved = Aid.objects.filter(batch=batch, state=Aid.State.PENDING_APPROVAL).update(
            state=Aid.State.APPROVED, approver=actor, approved_at=now
        )
        batch.state = WarmthBatch.State.APPROVED
        batch.approved_by = actor
        batch.save(update_fields=["state", "approved_by"])
        audit_log(
            action="hardship.warmth_batch.approved",
            obj=batch,
            actor=actor,
            old={"state": "draft"},
            new={"state": "approved", "aid_approved": approved, "total": str(batch.total)},
        )
        if batch.created_by_id:
            with recipients_language():
                notification_send(
                    recipient_ids=[batch.created_by_id],
                    kind="hardship.warmth_batch.approved",
                    title=_("Warmth batch approved"),
                    body=_("%(name)s: %(count)d recipients, %(total)s CNY.")
                    % {"name": batch.name, "count": batch.recipients, "total": batch.total},
                    link=f"/admin/hardship/warmthbatch/{batch.pk}/change/",
                    dedupe_key=f"hardship-warmth-approved-{batch.pk}",
                )
    return batch


def warmth_batch_export_xlsx(*, batch: WarmthBatch, actor) -> bytes:
    """The batch's recipients as XLSX (masked names and ID numbers, a total row); logged as an export."""
    _require_union(actor, batch.union)
    content = exports.warmth_batch_workbook(batch)
    with transaction.atomic():
        access_log(user=actor, action=AccessLog.Action.EXPORT, detail=f"warmth batch {batch.pk}")
        audit_log(action="hardship.warmth_batch.exported", obj=batch, actor=actor, new={"recipients": batch.recipients})
    return content


# --- Referrals (转介) ------------------------------------------------------------------------------


def referral_send(*, case: Case, agency: Agency, benefit: str, actor, note: str = "") -> Referral:
    """Hand an open case to an agency for one of its benefits; one unanswered referral per benefit."""
    _require_case(actor, case)
    if benefit not in Referral.Benefit.values:
        raise ServiceError("bad_benefit", _("Choose a benefit."))
    if not agency.is_active:
        raise ServiceError("agency_inactive", _("This agency is not active."))
    with transaction.atomic():
        case = _lock(case)
        if case.state in CLOSED_STATES or case.state == S.CANDIDATE:
            raise ServiceError("bad_state", _("Only a case in progress can be referred."))
        if Referral.objects.filter(case=case, agency=agency, benefit=benefit, state=Referral.State.SENT).exists():
            raise ServiceError("already_referred", _("This case is already waiting for this agency's answer."))
        referral = Referral.objects.create(
            case=case, agency=agency, benefit=benefit, note=(note or "")[:300], sent_by=actor
        )
        data = {"referral": referral.pk, "agency": agency.code, "benefit": benefit}
        _event(case, "referral_sent", actor=actor, text=referral.note, data=data)
        audit_log(action="hardship.referral.sent", obj=referral, actor=actor, new=data)
    return referral


def referral_answer(*, referral: Referral, agency: Agency, granted: bool, amount=None, note: str = "") -> Referral:
    """The agency's answer, once: granted with an amount (0 for a status without cash, e.g. 低保)
    or refused without one. It goes on the case's timeline and to the case's staff."""
    if referral.agency_id != agency.pk:
        raise ServiceError("not_found", _("No such referral."), kind=ErrorKind.NOT_FOUND)
    if granted:
        if amount is None or amount == "":
            raise ServiceError("amount_required", _("A granted benefit needs an amount (0 for a status)."))
        amount = _money(amount, field=_("Amount"), allow_zero=True)
    elif amount not in (None, ""):
        raise ServiceError("amount_not_allowed", _("A refused referral has no amount."))
    else:
        amount = None
    with transaction.atomic():
        ref = Referral.objects.select_for_update().select_related("case").get(pk=referral.pk)
        if ref.state != Referral.State.SENT:
            raise ServiceError(
                "already_answered", _("This referral has already been answered."), kind=ErrorKind.CONFLICT
            )
        ref.state = Referral.State.GRANTED if granted else Referral.State.REFUSED
        ref.amount = amount
        ref.outcome_note = (note or "")[:300]
        ref.answered_at = timezone.now()
        ref.save(update_fields=["state", "amount", "outcome_note", "answered_at"])
        data = {
            "referral": ref.pk,
            "agency": agency.code,
            "benefit": ref.benefit,
            "granted": bool(granted),
            "amount": str(amount) if amount is not None else None,
        }
        case = ref.case
        _event(case, "referral_answered", text=ref.outcome_note, data=data)
        audit_log(
            action="hardship.referral.answered", obj=ref, actor_label=str(agency), old={"state": "sent"}, new=data
        )
        with recipients_language():
            params = {"agency": agency.name, "benefit": ref.get_benefit_display(), "case": case.case_no}
            if granted:
                body = _("%(agency)s granted %(benefit)s for case %(case)s.") % params
            else:
                body = _("%(agency)s refused %(benefit)s for case %(case)s.") % params
            recipients = case_staff_ids(case)
            if ref.sent_by_id and ref.sent_by_id not in recipients:
                recipients.append(ref.sent_by_id)
            notification_send(
                recipient_ids=recipients,
                kind="hardship.referral.answered",
                title=_("A referral was answered"),
                body=body,
                link=_case_link(case),
                dedupe_key=f"hardship-referral-answered-{ref.pk}",
            )
    return ref
