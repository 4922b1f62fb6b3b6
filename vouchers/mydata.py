"""The vouchers section of "我的数据" (core.mydata): vouchers claimed, draws entered and the
redemptions (核销) of the member's vouchers, with the merchant who redeemed them."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.mydata import Section, Table, mydata_section
from members.selectors import member_for_user
from vouchers.models import DrawEntry, Redemption, Voucher


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _iso(value) -> str | None:
    return timezone.localtime(value).isoformat() if value else None


@mydata_section("vouchers", order=40)
def vouchers(user) -> Section | None:
    member = member_for_user(user)
    if member is None:
        return None
    claimed = list(Voucher.objects.filter(member=member).select_related("campaign").order_by("-claimed_at"))
    draws = list(DrawEntry.objects.filter(member=member).select_related("campaign").order_by("-registered_at"))
    redemptions = list(Redemption.objects.filter(member=member).select_related("merchant").order_by("-created_at"))
    section = Section(key="vouchers", title=_("Vouchers"))
    section.tables.append(
        Table(
            title=_("Vouchers claimed"),
            headers=[_("campaign"), _("claimed at"), _("state"), _("expires at")],
            rows=[[v.campaign.name, _when(v.claimed_at), v.get_state_display(), _when(v.expires_at)] for v in claimed],
            empty=_("None"),
        )
    )
    section.tables.append(
        Table(
            title=_("Redemptions"),
            headers=[_("time"), _("merchant"), _("order amount (CNY)"), _("discount (CNY)")],
            rows=[[_when(r.created_at), r.merchant.name, r.order_amount, r.discount] for r in redemptions],
            empty=_("None"),
        )
    )
    section.export = {
        "vouchers": [
            {
                "campaign": v.campaign.name,
                "code": v.code,
                "state": v.state,
                "claimed_at": _iso(v.claimed_at),
                "expires_at": _iso(v.expires_at),
                "used_at": _iso(v.used_at),
            }
            for v in claimed
        ],
        "draws": [{"campaign": d.campaign.name, "registered_at": _iso(d.registered_at), "won": d.won} for d in draws],
        "redemptions": [
            {
                "time": _iso(r.created_at),
                "merchant": r.merchant.name,
                "order_ref": r.order_ref,
                "order_amount": str(r.order_amount),
                "discount": str(r.discount),
                "payable": str(r.payable),
                "state": r.state,
            }
            for r in redemptions
        ],
    }
    return section
