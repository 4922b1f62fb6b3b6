"""Referrals (转介): a case handed to a partner agency for one of its benefits, and the
agency's answer."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ErrorKind, ServiceError
from core.models import Agency
from core.parsing import money_parse
from core.services import audit_log, notification_send, recipients_language
from hardship.models import Case, Referral
from hardship.selectors.staff import case_staff_ids
from hardship.services.access import require_case
from hardship.services.cases import CLOSED_STATES, S, case_event, case_link, case_lock

# --- Referrals (转介) ------------------------------------------------------------------------------


def referral_send(*, case: Case, agency: Agency, benefit: str, actor, note: str = "") -> Referral:
    """Hand an open case to an agency for one of its benefits; one unanswered referral per benefit."""
    require_case(actor, case)
    if benefit not in Referral.Benefit.values:
        raise ServiceError("bad_benefit", _("Choose a benefit."))
    if not agency.is_active:
        raise ServiceError("agency_inactive", _("This agency is not active."))
    with transaction.atomic():
        case = case_lock(case)
        if case.state in CLOSED_STATES or case.state == S.CANDIDATE:
            raise ServiceError("bad_state", _("Only a case in progress can be referred."))
        if Referral.objects.filter(case=case, agency=agency, benefit=benefit, state=Referral.State.SENT).exists():
            raise ServiceError("already_referred", _("This case is already waiting for this agency's answer."))
        referral = Referral.objects.create(
            case=case, agency=agency, benefit=benefit, note=(note or "")[:300], sent_by=actor
        )
        data = {"referral": referral.pk, "agency": agency.code, "benefit": benefit}
        case_event(case, "referral_sent", actor=actor, text=referral.note, data=data)
        audit_log(action="hardship.referral.sent", obj=referral, actor=actor, new=data)
    return referral


def referral_withdraw(*, referral: Referral, actor, reason: str) -> Referral:
    """Take back a referral still waiting for the agency's answer (sent to the wrong agency or for
    the wrong benefit, or no longer wanted), with a reason: it leaves the agency's waiting list,
    the agency can no longer answer it, and the corrected referral can be sent. The reason goes on
    the case's timeline (encrypted), the audit entry has the state change."""
    require_case(actor, referral.case)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError("reason_required", _("Give the reason for withdrawing the referral."))
    with transaction.atomic():
        case_lock(referral.case)
        ref = Referral.objects.select_for_update().select_related("agency").get(pk=referral.pk)
        if ref.state != Referral.State.SENT:
            raise ServiceError(
                "already_answered", _("This referral has already been answered or withdrawn."), kind=ErrorKind.CONFLICT
            )
        ref.state = Referral.State.WITHDRAWN
        ref.answered_at = timezone.now()
        ref.save(update_fields=["state", "answered_at"])
        data = {"referral": ref.pk, "agency": ref.agency.code, "benefit": ref.benefit}
        case_event(referral.case, "referral_withdrawn", actor=actor, text=reason[:300], data=data)
        audit_log(action="hardship.referral.withdrawn", obj=ref, actor=actor, old={"state": "sent"}, new=data)
    return ref


def referral_answer(*, referral: Referral, agency: Agency, granted: bool, amount=None, note: str = "") -> Referral:
    """The agency's answer, once: granted with an amount (0 for a status without cash, e.g. 低保)
    or refused without one. It goes on the case's timeline and to the case's staff."""
    if referral.agency_id != agency.pk:
        raise ServiceError("not_found", _("No such referral."), kind=ErrorKind.NOT_FOUND)
    if granted:
        if amount is None or amount == "":
            raise ServiceError("amount_required", _("A granted benefit needs an amount (0 for a status)."))
        amount = money_parse(amount, allow_zero=True, label=_("Amount"))
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
        case_event(case, "referral_answered", text=ref.outcome_note, data=data)
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
                link=case_link(case),
                dedupe_key=f"hardship-referral-answered-{ref.pk}",
            )
    return ref
