"""Campaign lifecycle (draft → scheduled → open → sold out / closed → settled; scheduled → draft
while its claim has not opened; draft or scheduled → open now), monthly templates and voucher expiry.

Each function is one unit of work: it validates, writes in one transaction with its audit entry
(`vouchers.campaign.*`), and queues side effects (loading stock into Redis) on commit. Jobs run by
Celery beat claim their rows with a conditional UPDATE, so several workers may run them at once.
Refusals are `core.errors.ServiceError(code, message)`. The claim itself is in
`vouchers.services.claims` (it checks the window; the states set here are for display and staff).
"""

import datetime as dt
import logging
import zoneinfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ServiceError
from core.parsing import month_parse
from core.services import audit_log
from vouchers import tasks
from vouchers.models import (
    Campaign,
    CampaignRules,
    CampaignTemplate,
    DrawEntry,
    Voucher,
    campaign_window_problems,
    rules_problems,
)
from vouchers.services import redis_stock
from vouchers.services.claim_facts import campaign_facts_invalidate, redis_stock_in_use, sold_out_reset
from vouchers.services.stock import campaign_prepare, remaining_sync

logger = logging.getLogger(__name__)

# The fields a template hands on to its campaigns (the shared abstract rules).
RULE_FIELDS = [f.name for f in CampaignRules._meta.fields]


def _prepare(campaign_id: int) -> None:
    """Load the campaign's stock and limits into Redis (`campaign_prepare`), after commit."""
    campaign_prepare(campaign=Campaign.objects.get(pk=campaign_id))


def _forget(campaign_id: int) -> None:
    """A conditional UPDATE sends no post_save: drop the claim's cached facts of the campaign."""
    campaign_facts_invalidate(campaign_id)


def _refuse_problems(problems: list[tuple[str, str, str]]) -> None:
    """The first of the rules' problems (vouchers.models) as the service's refusal."""
    if problems:
        _field, code, message = problems[0]
        raise ServiceError(code, message)


def _validate_rules(campaign: Campaign, *, now: dt.datetime | None = None) -> None:
    """The rules checked on every save of a draft: threshold above the face value, the claim window
    closing after it opens (and not in the past, given `now`), a validity that covers it."""
    _refuse_problems(rules_problems(campaign) + campaign_window_problems(campaign, now=now))


def _validate_for_schedule(campaign: Campaign, *, now: dt.datetime | None = None) -> None:
    _validate_rules(campaign, now=now or timezone.now())
    if not (campaign.claim_opens_at and campaign.claim_closes_at) or (
        campaign.claim_closes_at <= campaign.claim_opens_at
    ):
        raise ServiceError("window", _("The claim window must close after it opens."))
    if not campaign.valid_days and not campaign.valid_until:
        raise ServiceError("validity", _("Set how long vouchers are valid: days after claiming or an end date."))
    if not campaign.accepted_categories and not campaign.accepted_merchants.exists():
        raise ServiceError("merchants", _("Choose at least one merchant category or merchant that accepts it."))


def campaign_draft_save(*, campaign: Campaign, actor, created: bool, changed: list[str]) -> Campaign:
    """Save a campaign staff added or edited (its rules come from the admin's form, which shows the
    model's own checks beside its fields; refused here too, with the same rules): a new one is
    theirs with its whole stock left, and a draft whose total stock changed has its whole stock left
    again. Once scheduled a campaign's rules are fixed (the admin shows them read-only) and its
    stock is the claims'."""
    if campaign.state == Campaign.State.DRAFT:
        _validate_rules(campaign, now=timezone.now())
    if created:
        campaign.remaining = campaign.total_stock
        campaign.created_by = actor
    elif campaign.state == Campaign.State.DRAFT and "total_stock" in changed:
        campaign.remaining = campaign.total_stock
    campaign.save()
    return campaign


def campaign_schedule(*, campaign: Campaign, actor) -> Campaign:
    """Draft → scheduled: check the rules, fill the stock, and load it into Redis once committed."""
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.state != Campaign.State.DRAFT:
            raise ServiceError("state", _("Only a draft campaign can be scheduled."))
        _validate_for_schedule(locked)
        locked.state = Campaign.State.SCHEDULED
        locked.remaining = locked.total_stock
        locked.save(update_fields=["state", "remaining"])
        audit_log(
            action="vouchers.campaign.scheduled",
            obj=locked,
            actor=actor,
            old={"state": Campaign.State.DRAFT},
            new={"state": locked.state, "stock": locked.total_stock, "opens": locked.claim_opens_at},
        )
        transaction.on_commit(lambda pk=locked.pk: _prepare(pk))
    campaign.state, campaign.remaining = locked.state, locked.remaining
    return campaign


def _stock_drop(campaign_id: int) -> None:
    """Forget what Redis and the cache hold for a campaign back to draft: scheduled again, it is
    loaded afresh with the stock its rules then give."""
    campaign_facts_invalidate(campaign_id)
    sold_out_reset(campaign_id, sold_out=False)
    if redis_stock_in_use():
        redis_stock.drop(campaign_id)


def campaign_unschedule(*, campaign: Campaign, actor) -> Campaign:
    """Scheduled → draft, so staff can correct it, while its claim has not opened and nobody has
    claimed or registered; its stock is taken out of Redis once committed."""
    now = timezone.now()
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.state != Campaign.State.SCHEDULED:
            raise ServiceError("state", _("Only a scheduled campaign can go back to draft."))
        if locked.claim_opens_at <= now:
            raise ServiceError("claim_opened", _("Its claim has opened: close the campaign instead."))
        if Voucher.objects.filter(campaign=locked).exists() or DrawEntry.objects.filter(campaign=locked).exists():
            raise ServiceError("claimed", _("Members have claimed or registered already: close the campaign instead."))
        locked.state = Campaign.State.DRAFT
        locked.save(update_fields=["state"])
        audit_log(
            action="vouchers.campaign.unscheduled",
            obj=locked,
            actor=actor,
            old={"state": Campaign.State.SCHEDULED},
            new={"state": locked.state},
        )
        transaction.on_commit(lambda pk=locked.pk: _stock_drop(pk))
    campaign.state = locked.state
    return campaign


def campaign_open_now(*, campaign: Campaign, actor) -> Campaign:
    """A draft or scheduled campaign opens for claims now: its claim window starts now (it must
    still close later), a draft is checked as scheduling checks it and gets its whole stock, and
    the stock is loaded (into Redis, when used) once committed. Audited with the old start."""
    now = timezone.now()
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        old = {"state": locked.state, "opens": locked.claim_opens_at}
        if locked.state not in (Campaign.State.DRAFT, Campaign.State.SCHEDULED):
            raise ServiceError("state", _("Only a draft or scheduled campaign can be opened now."))
        locked.claim_opens_at = now
        _validate_for_schedule(locked, now=now)
        if locked.state == Campaign.State.DRAFT:
            locked.remaining = locked.total_stock
        locked.state = Campaign.State.OPEN
        locked.save(update_fields=["state", "claim_opens_at", "remaining"])
        audit_log(
            action="vouchers.campaign.opened_now",
            obj=locked,
            actor=actor,
            old=old,
            new={"state": locked.state, "opens": now, "stock": locked.remaining},
        )
        transaction.on_commit(lambda pk=locked.pk: _prepare(pk))
    campaign.state, campaign.claim_opens_at, campaign.remaining = locked.state, now, locked.remaining
    return campaign


def campaign_open_due(*, now: dt.datetime | None = None) -> list[int]:
    """Scheduled → open for campaigns whose window has begun (and not ended); return their ids.

    Display state only: the claim checks the window itself, so a late run loses no claim.
    Each row is claimed by a conditional UPDATE, so concurrent runs open it once.
    """
    now = now or timezone.now()
    due = Campaign.objects.filter(
        state=Campaign.State.SCHEDULED, claim_opens_at__lte=now, claim_closes_at__gt=now
    ).values_list("pk", flat=True)
    opened = []
    for pk in list(due):
        with transaction.atomic():
            if not Campaign.objects.filter(pk=pk, state=Campaign.State.SCHEDULED).update(state=Campaign.State.OPEN):
                continue
            campaign = Campaign.objects.get(pk=pk)
            audit_log(
                action="vouchers.campaign.opened",
                obj=campaign,
                old={"state": Campaign.State.SCHEDULED},
                new={"state": Campaign.State.OPEN},
            )
            transaction.on_commit(lambda pk=pk: _prepare(pk))
            # SMS notices to the members who consented to them (vouchers.services.announce).
            transaction.on_commit(lambda pk=pk: tasks.campaign_announce.delay(pk))
        opened.append(pk)
    return opened


def campaign_close(*, campaign: Campaign, actor=None) -> Campaign:
    """Close a scheduled, open or sold-out campaign: no more claims are shown; vouchers stay valid."""
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        closable = (Campaign.State.SCHEDULED, Campaign.State.OPEN, Campaign.State.SOLD_OUT)
        if locked.state not in closable:
            raise ServiceError("state", _("Only a scheduled, open or sold-out campaign can be closed."))
        old = locked.state
        locked.state = Campaign.State.CLOSED
        locked.save(update_fields=["state"])
        audit_log(
            action="vouchers.campaign.closed", obj=locked, actor=actor, old={"state": old}, new={"state": locked.state}
        )
    campaign.state = locked.state
    return campaign


def campaign_close_due(*, now: dt.datetime | None = None) -> dict:
    """Mark open campaigns with no stock left sold out, and close those whose window has ended.

    The claim sets sold out when the stock hits zero; this catches any it missed (e.g. the last
    voucher taken on the Redis path). A sold-out campaign stays sold out after its window.
    """
    now = now or timezone.now()
    # On the Redis path the campaign row follows the vouchers written; bring it up to date first.
    for pk in list(Campaign.objects.filter(state=Campaign.State.OPEN).values_list("pk", flat=True)):
        remaining_sync(pk)
    sold_out = []
    for pk in list(Campaign.objects.filter(state=Campaign.State.OPEN, remaining=0).values_list("pk", flat=True)):
        with transaction.atomic():
            if Campaign.objects.filter(pk=pk, state=Campaign.State.OPEN, remaining=0).update(
                state=Campaign.State.SOLD_OUT
            ):
                audit_log(
                    action="vouchers.campaign.sold_out",
                    obj=Campaign.objects.get(pk=pk),
                    old={"state": Campaign.State.OPEN},
                    new={"state": Campaign.State.SOLD_OUT},
                )
                transaction.on_commit(lambda pk=pk: _forget(pk))
                sold_out.append(pk)
    closed = []
    ended = Campaign.objects.filter(
        state__in=[Campaign.State.SCHEDULED, Campaign.State.OPEN], claim_closes_at__lte=now
    ).values_list("pk", "state")
    for pk, state in list(ended):
        with transaction.atomic():
            if Campaign.objects.filter(pk=pk, state=state).update(state=Campaign.State.CLOSED):
                audit_log(
                    action="vouchers.campaign.closed",
                    obj=Campaign.objects.get(pk=pk),
                    old={"state": state},
                    new={"state": Campaign.State.CLOSED},
                )
                transaction.on_commit(lambda pk=pk: _forget(pk))
                closed.append(pk)
    return {"sold_out": sold_out, "closed": closed}


def campaign_settle(*, campaign: Campaign, actor) -> Campaign:
    """Closed / sold out → settled, once every voucher of it has been used, expired or voided."""
    now = timezone.now()
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.state not in (Campaign.State.CLOSED, Campaign.State.SOLD_OUT):
            raise ServiceError("state", _("Only a closed or sold-out campaign can be settled."))
        expired = Voucher.objects.filter(campaign=locked, state=Voucher.State.CLAIMED, expires_at__lte=now).update(
            state=Voucher.State.EXPIRED
        )
        if Voucher.objects.filter(campaign=locked, state=Voucher.State.CLAIMED).exists():
            raise ServiceError("vouchers_live", _("Some vouchers of this campaign can still be used."))
        old = locked.state
        locked.state = Campaign.State.SETTLED
        locked.save(update_fields=["state"])
        audit_log(
            action="vouchers.campaign.settled",
            obj=locked,
            actor=actor,
            old={"state": old},
            new={"state": locked.state, "expired_now": expired},
        )
    campaign.state = locked.state
    return campaign


# --- Monthly templates (工惠日) ---------------------------------------------------------------------


def template_opens_at(template: CampaignTemplate, month: str) -> dt.datetime:
    """When the template's campaign of `month` opens: its day (capped at the month's last day) and
    time in the portal's time zone (Asia/Shanghai)."""
    period = month_parse(month)
    year, mon = period.year, period.month
    day = min(template.opens_day or 1, (period.day_after - dt.timedelta(days=1)).day)
    opens_time = template.opens_time
    if isinstance(opens_time, str):
        opens_time = dt.time.fromisoformat(opens_time)
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return dt.datetime.combine(dt.date(year, mon, day), opens_time, tzinfo=tz)


def _template_valid_until(template: CampaignTemplate, opens: dt.datetime) -> dt.date | None:
    """A template with "valid for days after claiming" gives each voucher its own expiry (no end date);
    otherwise the campaign's vouchers are valid until opening day + "valid for days"."""
    if template.valid_days:
        return None
    return (opens + dt.timedelta(days=template.valid_days_default)).date()


def campaigns_from_templates(*, month: str) -> list[Campaign]:
    """One campaign per active template for `month`, scheduled; return those created by this call.

    Idempotent: the unique (template, month) constraint makes a second run (or a concurrent one)
    create nothing. A template whose rules do not pass scheduling leaves a draft for staff to fix;
    a later run schedules such a draft (one it created, so with no creator) once it passes, and
    one whose run was stopped between creating and scheduling it.
    """
    month = str(month_parse(month))
    created = []
    templates = CampaignTemplate.objects.filter(is_active=True).prefetch_related("accepted_merchants")
    for template in templates:
        existing = Campaign.objects.filter(template=template, month=month).first()
        if existing is not None:
            if existing.state == Campaign.State.DRAFT and existing.created_by_id is None:
                # Created by an earlier run that was stopped (or refused) before scheduling it.
                try:
                    campaign_schedule(campaign=existing, actor=None)
                except ServiceError as exc:
                    logger.warning("template %s: campaign %s still a draft: %s", template.pk, existing.pk, exc.code)
            continue
        opens = template_opens_at(template, month)
        rules = {name: getattr(template, name) for name in RULE_FIELDS}
        rules["name"] = f"{template.name} {month}"[:100]
        try:
            with transaction.atomic():
                campaign = Campaign.objects.create(
                    **rules,
                    template=template,
                    month=month,
                    state=Campaign.State.DRAFT,
                    remaining=template.total_stock,
                    claim_opens_at=opens,
                    claim_closes_at=opens + dt.timedelta(hours=template.claim_hours),
                    valid_from=opens.date(),
                    valid_until=_template_valid_until(template, opens),
                )
                campaign.accepted_merchants.set(template.accepted_merchants.all())
                audit_log(
                    action="vouchers.campaign.created_from_template",
                    obj=campaign,
                    new={"template": template.pk, "month": month},
                )
        except IntegrityError:  # another run created it meanwhile
            continue
        try:
            campaign_schedule(campaign=campaign, actor=None)
        except ServiceError as exc:
            logger.warning("template %s: campaign %s left as a draft: %s", template.pk, campaign.pk, exc.code)
        created.append(campaign)
    return created


# --- Expiry -------------------------------------------------------------------------------------------


def vouchers_expire(*, now: dt.datetime | None = None) -> int:
    """Claimed vouchers past their expiry → expired, in one UPDATE; return how many."""
    now = now or timezone.now()
    return Voucher.objects.filter(state=Voucher.State.CLAIMED, expires_at__lte=now).update(state=Voucher.State.EXPIRED)
