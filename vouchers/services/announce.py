"""SMS notices of benefit-day campaigns (工惠日): when a campaign opens, the members who gave the
optional consent to campaign SMS (members.ConsentPurpose.CAMPAIGN_SMS) and may claim it get an inbox
message and an SMS. A member who never gave it, or withdrew it, gets nothing: the consent is read
when the notice is sent, so a withdrawal takes effect for the next campaign."""

from django.urls import reverse
from django.utils.translation import gettext as _

from core.services import notification_send, recipients_language
from members.models import ConsentPurpose, Member
from members.selectors import consent_holders
from vouchers.models import Campaign


def campaign_announce_recipients(campaign: Campaign) -> list[int]:
    """The user ids to notify of `campaign`: active members, with a login, who hold the consent and
    are eligible by union and form of employment."""
    qs = consent_holders(ConsentPurpose.CAMPAIGN_SMS).filter(status=Member.Status.ACTIVE, user__isnull=False)
    if campaign.eligible_union_id:
        qs = qs.filter(union__path__startswith=campaign.eligible_union.path)
    if campaign.eligible_forms:
        qs = qs.filter(employment_form__in=campaign.eligible_forms)
    return list(qs.values_list("user_id", flat=True).distinct())


def campaign_announce(*, campaign_id: int) -> int:
    """Queue the notice of an opened campaign to its consenting members; return how many.
    Idempotent: the dedupe key makes a second run send nothing new."""
    campaign = Campaign.objects.select_related("eligible_union").get(pk=campaign_id)
    recipients = campaign_announce_recipients(campaign)
    if recipients:
        with recipients_language():
            notification_send(
                recipient_ids=recipients,
                kind="vouchers.campaign.opened",
                title=_("Vouchers open now: %(name)s") % {"name": campaign.name},
                body=_(
                    "Claim them in the union portal. To stop these messages, withdraw the consent under Me → My consents."
                ),
                link=reverse("vouchers:campaign", args=[campaign.pk]),
                sms=True,
                dedupe_key=f"vouchers.campaign.opened.{campaign.pk}",
            )
    return len(recipients)
