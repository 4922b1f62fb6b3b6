"""A member's rights over their data (PIPL arts. 44–47): optional consents given and withdrawn, and
requests to correct their details, answered by their union's staff."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ServiceError
from core.services import audit_log, notification_send, recipients_language
from members.models import REQUIRED_CONSENTS, Consent, ConsentPurpose, CorrectionRequest, Member, User
from members.selectors import union_staff_ids
from members.services.scope import require_scope


def _optional_purpose(purpose: str) -> ConsentPurpose:
    if purpose not in ConsentPurpose.values:
        raise ServiceError("unknown_purpose", _("There is no such consent."))
    if purpose in REQUIRED_CONSENTS:
        raise ServiceError(
            "consent_required",
            _(
                "This consent is needed to keep your membership: the union cannot register you without it. "
                "To withdraw it, leave the union."
            ),
        )
    return ConsentPurpose(purpose)


def consent_set(*, member: Member, purpose: str, given: bool, actor: User) -> Consent:
    """Give or withdraw an optional consent; takes effect at once (e.g. no campaign SMS once withdrawn)."""
    purpose = _optional_purpose(purpose)
    now = timezone.now()
    with transaction.atomic():
        consent = Consent.objects.select_for_update().filter(member=member, purpose=purpose).first()
        if given:
            if consent is not None and consent.is_given:
                return consent
            if consent is None:
                consent = Consent(member=member, purpose=purpose)
            old = {"withdrawn_at": consent.withdrawn_at} if consent.pk else {}
            consent.given_at, consent.withdrawn_at = now, None
            consent.privacy_version = settings.PRIVACY_POLICY_VERSION
            consent.save()
            audit_log(action="members.consent.given", obj=consent, actor=actor, old=old, new={"purpose": purpose.value})
        else:
            if consent is None or not consent.is_given:
                raise ServiceError("not_given", _("You have not given this consent."))
            consent.withdrawn_at = now
            consent.save(update_fields=["withdrawn_at"])
            audit_log(
                action="members.consent.withdrawn",
                obj=consent,
                actor=actor,
                old={"given_at": consent.given_at},
                new={"withdrawn_at": now},
            )
    return consent


def correction_request_submit(*, member: Member, field: str, problem: str, proposed: str, actor: User):
    if field not in CorrectionRequest.Field.values:
        raise ServiceError("field", _("Choose the detail to correct."))
    problem, proposed = (problem or "").strip(), (proposed or "").strip()
    if not problem:
        raise ServiceError("problem_required", _("Say what is wrong."))
    if CorrectionRequest.objects.filter(member=member, field=field, status=CorrectionRequest.Status.OPEN).exists():
        raise ServiceError("open", _("You already have an open request for this detail."))
    with transaction.atomic():
        request = CorrectionRequest.objects.create(member=member, field=field, problem=problem[:300], proposed=proposed)
        # The proposed value may be an ID number: the audit log says only that there is one.
        audit_log(
            action="members.correction.requested",
            obj=request,
            actor=actor,
            new={"field": field, "proposed_given": bool(proposed)},
        )
        with recipients_language():
            notification_send(
                recipient_ids=union_staff_ids(member.union),
                kind="members.correction.requested",
                title=_("Correction request"),
                body=_("%(name)s asks to correct: %(field)s.")
                % {"name": member.masked_name, "field": request.get_field_display()},
                link=f"/admin/members/correctionrequest/{request.pk}/change/",
            )
    return request


def correction_request_answer(*, request: CorrectionRequest, done: bool, reply: str, actor: User):
    """Staff answer a correction request: done (the detail was corrected) or refused, with a reply the
    member sees. Staff correct the detail itself on the member's page (audited there)."""
    require_scope(actor, request.member.union)
    reply = (reply or "").strip()
    if not reply:
        raise ServiceError("reply_required", _("Write a reply to the member."))
    with transaction.atomic():
        locked = CorrectionRequest.objects.select_for_update().select_related("member").get(pk=request.pk)
        if locked.status != CorrectionRequest.Status.OPEN:
            raise ServiceError("answered", _("This request has already been answered."))
        locked.status = CorrectionRequest.Status.DONE if done else CorrectionRequest.Status.REFUSED
        locked.reply, locked.decided_at, locked.decided_by = reply[:300], timezone.now(), actor
        locked.save(update_fields=["status", "reply", "decided_at", "decided_by"])
        audit_log(
            action="members.correction.answered",
            obj=locked,
            actor=actor,
            old={"status": CorrectionRequest.Status.OPEN},
            new={"status": locked.status, "reply": locked.reply},
        )
        if locked.member.user_id:
            with recipients_language():
                notification_send(
                    recipient_ids=[locked.member.user_id],
                    kind="members.correction.answered",
                    title=_("Your correction request was answered"),
                    body=locked.reply,
                    link="/m/mydata/",
                )
    request.status, request.reply = locked.status, locked.reply
    return locked
