"""The vouchers admin: access by permission (the outsider is refused), merchant approval and
suspension (audited; a suspended merchant's key is refused), keys shown once, campaign and
settlement actions calling their services, read-only large tables, the fraud page."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.test import RequestFactory
from django.utils import timezone
from rest_framework import exceptions

from core.api_auth import ApiKeyAuthentication
from core.models import ApiKey, AuditEntry
from tests.factories import MemberFactory, StaffFactory
from vouchers.models import Campaign, Merchant, MerchantStaff, Settlement, Voucher, VoucherSettings
from vouchers.selectors import merchant_of_key
from vouchers.services import merchants as merchant_services

D = Decimal
CHANGELISTS = ("merchant", "campaigntemplate", "campaign", "voucher", "redemption", "settlement")


@pytest.fixture
def voucher_staff(tree):
    user = StaffFactory(username="voucherstaff", union=tree.city)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="vouchers"))
    return user


@pytest.fixture
def shop(db):
    return Merchant.objects.create(
        name="太湖电器", category="appliances", address="湖州市吴兴区人民路8号", credit_code="91330502MA2B3C4D5E",
        contact_name="李明", contact_mobile="13700000000",
    )  # fmt: skip


@pytest.fixture
def draft_campaign(db):
    opens = timezone.now() + dt.timedelta(days=3)
    return Campaign.objects.create(
        name="工惠日满减券", face_value=D("100"), threshold=D("1000"), stackable=True, max_per_order=5,
        total_stock=100, remaining=100, budget=D("10000"), claim_opens_at=opens,
        claim_closes_at=opens + dt.timedelta(hours=72), valid_days=30, accepted_categories=["appliances"],
    )  # fmt: skip


def act(client, model: str, action: str, objs, **extra):
    data = {"action": action, ACTION_CHECKBOX_NAME: [o.pk for o in objs], **extra}
    return client.post(f"/admin/vouchers/{model}/", data)


# --- Access -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_outsider_without_voucher_permissions_is_refused_everywhere(client, other_staff, shop):
    client.force_login(other_staff)
    for model in CHANGELISTS:
        assert client.get(f"/admin/vouchers/{model}/").status_code == 403, model
    assert client.get(f"/admin/vouchers/merchant/{shop.pk}/change/").status_code == 403
    assert client.get("/admin/vouchers/redemption/fraud/").status_code == 403
    assert client.get("/admin/vouchers/settlement/build/").status_code == 403
    assert client.get("/admin/vouchers/vouchersettings/").status_code == 403
    assert act(client, "merchant", "approve", [shop]).status_code == 403
    shop.refresh_from_db()
    assert shop.state == Merchant.State.APPLIED


@pytest.mark.django_db
def test_voucher_staff_open_every_list(client, voucher_staff, shop, draft_campaign):
    client.force_login(voucher_staff)
    for model in CHANGELISTS:
        assert client.get(f"/admin/vouchers/{model}/").status_code == 200, model
    assert client.get(f"/admin/vouchers/merchant/{shop.pk}/change/").status_code == 200
    assert client.get(f"/admin/vouchers/campaign/{draft_campaign.pk}/change/").status_code == 200


# --- Merchants --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_approving_a_merchant_is_audited(client, voucher_staff, shop):
    client.force_login(voucher_staff)
    act(client, "merchant", "approve", [shop])

    shop.refresh_from_db()
    assert shop.state == Merchant.State.APPROVED
    entry = AuditEntry.objects.get(action="vouchers.merchant.approved", object_id=str(shop.pk))
    assert entry.actor == voucher_staff and entry.old == {"state": "applied"}


@pytest.mark.django_db
def test_suspending_asks_for_a_reason_and_then_refuses_the_merchants_key(client, voucher_staff, shop):
    merchant_services.merchant_approve(merchant=shop, actor=voucher_staff)
    _key, secret = merchant_services.merchant_api_key_create(merchant=shop, actor=voucher_staff)
    auth = ApiKeyAuthentication()
    key = auth.authenticate(RequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {secret}"))[1]
    assert merchant_of_key(key) == shop

    client.force_login(voucher_staff)
    page = act(client, "merchant", "suspend", [shop])
    assert page.status_code == 200 and 'name="reason"' in page.content.decode()
    shop.refresh_from_db()
    assert shop.state == Merchant.State.APPROVED  # nothing done without a reason

    act(client, "merchant", "suspend", [shop], apply="1", reason="多次可疑核销")
    shop.refresh_from_db()
    assert shop.state == Merchant.State.SUSPENDED
    entry = AuditEntry.objects.get(action="vouchers.merchant.suspended", object_id=str(shop.pk))
    assert entry.new == {"state": "suspended", "reason": "多次可疑核销"}
    with pytest.raises(exceptions.AuthenticationFailed):
        auth.authenticate(RequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {secret}"))


@pytest.mark.django_db
def test_a_merchant_key_is_shown_once_with_the_redeem_scope(client, voucher_staff, shop):
    client.force_login(voucher_staff)
    refused = act(client, "merchant", "create_api_key", [shop])
    assert refused.status_code == 302  # back to the list with the refusal
    assert not ApiKey.objects.filter(merchant_link__merchant=shop).exists()  # not approved yet

    merchant_services.merchant_approve(merchant=shop, actor=voucher_staff)
    response = act(client, "merchant", "create_api_key", [shop])

    key = ApiKey.objects.get(merchant_link__merchant=shop)
    assert key.scopes == ["vouchers:redeem"] and key.agency is None
    body = response.content.decode()
    assert f"upk_{key.key_id}_" in body and "no-store" in response["Cache-Control"]
    assert AuditEntry.objects.filter(action="core.api_key.created", object_id=str(key.pk)).exists()
    assert f"upk_{key.key_id}_" not in client.get("/admin/vouchers/merchant/").content.decode()


@pytest.mark.django_db
def test_merchant_staff_are_edited_inline(client, voucher_staff, shop):
    from tests.factories import UserFactory

    user = UserFactory(username="shopclerk")
    MerchantStaff.objects.create(user=user, merchant=shop)
    client.force_login(voucher_staff)
    assert "shopclerk" in client.get(f"/admin/vouchers/merchant/{shop.pk}/change/").content.decode()


# --- Campaigns --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_schedule_action_calls_the_service(client, voucher_staff, draft_campaign, monkeypatch):
    from vouchers import services

    calls = []
    real = services.campaign_schedule
    monkeypatch.setattr(services, "campaign_schedule", lambda **kw: calls.append(kw) or real(**kw))
    client.force_login(voucher_staff)
    act(client, "campaign", "schedule", [draft_campaign])

    assert calls == [{"campaign": draft_campaign, "actor": voucher_staff}]
    draft_campaign.refresh_from_db()
    assert draft_campaign.state == Campaign.State.SCHEDULED


@pytest.mark.django_db
def test_a_scheduled_campaign_is_read_only_but_can_be_closed(client, voucher_staff, draft_campaign):
    from vouchers import services

    services.campaign_schedule(campaign=draft_campaign, actor=voucher_staff)
    client.force_login(voucher_staff)
    page = client.get(f"/admin/vouchers/campaign/{draft_campaign.pk}/change/").content.decode()
    assert 'name="total_stock"' not in page and 'name="face_value"' not in page

    act(client, "campaign", "close", [draft_campaign])
    draft_campaign.refresh_from_db()
    assert draft_campaign.state == Campaign.State.CLOSED


@pytest.mark.django_db
def test_a_closed_campaign_can_be_settled_and_an_outsider_cannot(client, voucher_staff, other_staff, draft_campaign):
    Campaign.objects.filter(pk=draft_campaign.pk).update(state=Campaign.State.CLOSED)
    client.force_login(other_staff)
    assert act(client, "campaign", "settle", [draft_campaign]).status_code == 403
    draft_campaign.refresh_from_db()
    assert draft_campaign.state == Campaign.State.CLOSED
    client.force_login(voucher_staff)
    act(client, "campaign", "settle", [draft_campaign])
    draft_campaign.refresh_from_db()
    assert draft_campaign.state == Campaign.State.SETTLED
    assert AuditEntry.objects.filter(action="vouchers.campaign.settled", actor=voucher_staff).exists()


@pytest.mark.django_db
def test_a_draft_campaign_is_editable(client, voucher_staff, draft_campaign):
    client.force_login(voucher_staff)
    page = client.get(f"/admin/vouchers/campaign/{draft_campaign.pk}/change/").content.decode()
    assert 'name="total_stock"' in page


@pytest.mark.django_db
def test_the_draw_action_refuses_a_first_come_campaign(client, voucher_staff, draft_campaign):
    # The refusal is draw_run's own (not_draw): the admin holds no copy of the rule.
    client.force_login(voucher_staff)
    resp = act(client, "campaign", "draw", [draft_campaign])
    page = client.get(resp.url).content.decode() if resp.status_code == 302 else resp.content.decode()
    assert "本活动不是抽签活动。" in page
    draft_campaign.refresh_from_db()
    assert draft_campaign.drawn_at is None
    assert not draft_campaign.vouchers.exists()


@pytest.mark.django_db
def test_the_draw_action_runs_the_draw_of_a_draw_campaign(client, voucher_staff, draft_campaign, monkeypatch):
    from vouchers import services

    calls = []
    monkeypatch.setattr(services, "draw_run", lambda **kw: calls.append(kw) or {})
    Campaign.objects.filter(pk=draft_campaign.pk).update(distribution="draw")
    client.force_login(voucher_staff)
    act(client, "campaign", "draw", [draft_campaign])
    assert [c["campaign"].pk for c in calls] == [draft_campaign.pk] and calls[0]["actor"] == voucher_staff


# --- Vouchers and redemptions -----------------------------------------------------------------


@pytest.mark.django_db
def test_the_voucher_list_masks_the_member_and_finds_a_code(
    client, voucher_staff, draft_campaign, tree, django_assert_max_num_queries
):
    members = [MemberFactory(union=tree.g1, name="周建新") for _ in range(5)]
    for i, m in enumerate(members):
        Voucher.objects.create(
            campaign=draft_campaign, member=m, code=f"ACDEF{i:05d}", claim_month="2026-11",
            expires_at=timezone.now() + dt.timedelta(days=30),
        )  # fmt: skip
    client.force_login(voucher_staff)
    with django_assert_max_num_queries(12):
        page = client.get("/admin/vouchers/voucher/").content.decode()
    assert "周**" in page and "周建新" not in page

    found = client.get("/admin/vouchers/voucher/?q=acdef00003")
    assert list(found.context["cl"].result_list) == [Voucher.objects.get(code="ACDEF00003")]
    assert client.get(f"/admin/vouchers/voucher/{found.context['cl'].result_list[0].pk}/change/").status_code == 200


@pytest.mark.django_db
def test_the_fraud_page_lists_the_signals_of_the_last_week(client, voucher_staff, other_staff, monkeypatch):
    from vouchers import selectors

    seen = {}

    def fake(*, since):
        seen["since"] = since
        return [
            {"kind": "member_burst", "merchant": "太湖电器", "member": "张**", "count": 6, "detail": "6 in an hour"}
        ]

    monkeypatch.setattr(selectors, "fraud_signals", fake)
    client.force_login(other_staff)
    assert client.get("/admin/vouchers/redemption/fraud/").status_code == 403
    client.force_login(voucher_staff)
    response = client.get("/admin/vouchers/redemption/fraud/")

    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-kind="member_burst"' in body and "张**" in body and "6 in an hour" in body
    assert dt.timedelta(days=6, hours=23) < timezone.now() - seen["since"] <= dt.timedelta(days=7, minutes=1)


# --- Settlements and settings -----------------------------------------------------------------


@pytest.mark.django_db
def test_the_settlement_actions_call_their_services(client, voucher_staff, shop, monkeypatch):
    from vouchers import selectors, services

    calls = []
    monkeypatch.setattr(
        services, "settlement_build", lambda **kw: calls.append(("build", kw)) or {"settlements": [], "late": []}
    )
    monkeypatch.setattr(services, "settlement_mark_paid", lambda **kw: calls.append(("paid", kw)))
    monkeypatch.setattr(selectors, "settlement_export_xlsx", lambda **kw: calls.append(("xlsx", kw)) or b"PK-xlsx")
    row = Settlement.objects.create(merchant=shop, month="2026-10", vouchers=3, amount=D("300"))
    client.force_login(voucher_staff)

    assert client.get("/admin/vouchers/settlement/build/").status_code == 200
    assert client.post("/admin/vouchers/settlement/build/", {"month": "2026-10"}).status_code == 302
    act(client, "settlement", "mark_paid", [row])
    export = act(client, "settlement", "export_xlsx", [row])

    assert calls == [
        ("build", {"month": "2026-10", "actor": voucher_staff}),
        ("paid", {"settlement": row, "actor": voucher_staff}),
        ("xlsx", {"month": "2026-10"}),
    ]
    assert export.content == b"PK-xlsx" and "settlement-2026-10.xlsx" in export["Content-Disposition"]


@pytest.mark.django_db
def test_a_bad_month_is_refused_by_the_build_form(client, voucher_staff):
    client.force_login(voucher_staff)
    response = client.post("/admin/vouchers/settlement/build/", {"month": "2026-13"})
    assert response.status_code == 200 and list(response.context["form"].errors) == ["month"]
    assert not Settlement.objects.exists()


@pytest.mark.django_db
def test_the_build_form_and_the_paid_action_refuse_the_running_month(client, voucher_staff, shop):
    month = timezone.localdate().strftime("%Y-%m")
    client.force_login(voucher_staff)
    response = client.post("/admin/vouchers/settlement/build/", {"month": month})
    assert response.status_code == 200
    assert "尚未结束" in " ".join(response.context["form"].non_field_errors())
    assert not Settlement.objects.exists()
    row = Settlement.objects.create(merchant=shop, month=month, vouchers=1, amount=D("100"))
    response = act(client, "settlement", "mark_paid", [row])
    assert "尚未结束" in " ".join(str(m) for m in get_messages(response.wsgi_request))
    row.refresh_from_db()
    assert row.paid_at is None


@pytest.mark.django_db
def test_the_voucher_settings_list_opens_the_single_row(client, voucher_staff):
    client.force_login(voucher_staff)
    response = client.get("/admin/vouchers/vouchersettings/")
    obj = VoucherSettings.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/vouchersettings/{obj.pk}/change/")
    client.post(response["Location"], {"refund_window_hours": "48"})
    obj.refresh_from_db()
    assert obj.refund_window_hours == 48


@pytest.mark.django_db
def test_the_refund_window_is_at_most_a_year(client, voucher_staff):
    client.force_login(voucher_staff)
    obj = VoucherSettings.get()
    url = f"/admin/vouchers/vouchersettings/{obj.pk}/change/"
    response = client.post(url, {"refund_window_hours": "99999999"})
    assert response.status_code == 200 and response.context["adminform"].form.errors["refund_window_hours"]
    obj.refresh_from_db()
    assert obj.refund_window_hours == 72
    assert client.post(url, {"refund_window_hours": str(24 * 365)}).status_code == 302
    obj.refresh_from_db()
    assert obj.refund_window_hours == 24 * 365


@pytest.mark.django_db
def test_the_fraud_page_renders_the_real_signals(client, voucher_staff):
    client.force_login(voucher_staff)
    response = client.get("/admin/vouchers/redemption/fraud/")
    assert response.status_code == 200 and 'id="fraud-signals"' in response.content.decode()


@pytest.mark.django_db
def test_building_a_month_for_real_creates_its_settlements(client, voucher_staff, shop, draft_campaign, member):
    from vouchers.models import Redemption, RedemptionItem

    shop.state = Merchant.State.APPROVED
    shop.save(update_fields=["state"])
    october = dt.datetime(2026, 10, 21, 15, 0, tzinfo=timezone.get_current_timezone())
    voucher = Voucher.objects.create(
        campaign=draft_campaign, member=member, code="ACDEF33333", claim_month="2026-10", state="used",
        expires_at=october + dt.timedelta(days=30), used_at=october,
    )  # fmt: skip
    redemption = Redemption.objects.create(
        merchant=shop, member=member, order_ref="O-1", order_amount=D("1200"), discount=D("100"), payable=D("1100"),
        created_at=october,
    )  # fmt: skip
    RedemptionItem.objects.create(redemption=redemption, voucher=voucher, discount=D("100"))
    client.force_login(voucher_staff)

    response = client.post("/admin/vouchers/settlement/build/", {"month": "2026-10"})

    assert response.status_code == 302
    row = Settlement.objects.get(merchant=shop, month="2026-10")
    assert (row.vouchers, row.amount) == (1, D("100.00"))


@pytest.mark.django_db
def test_the_admin_index_links_the_figures_for_voucher_staff_only(client, voucher_staff, other_staff):
    client.force_login(voucher_staff)
    assert "/admin/vouchers/campaign/figures/" in client.get("/admin/").content.decode()
    client.force_login(other_staff)
    assert "/admin/vouchers/campaign/figures/" not in client.get("/admin/").content.decode()


@pytest.mark.django_db
def test_staff_add_a_draft_campaign_with_its_stock_and_categories(client, voucher_staff):
    client.force_login(voucher_staff)
    data = {
        "name": "打车券", "kind": "ride_hailing", "face_value": "10", "threshold": "20", "max_per_order": "1",
        "total_stock": "500", "budget": "5000", "limit_per_member": "2", "distribution": "first_come",
        "valid_days": "30", "accepted_categories": ["ride_hailing"],
        "claim_opens_at_0": "2026-12-20", "claim_opens_at_1": "10:00:00",
        "claim_closes_at_0": "2026-12-23", "claim_closes_at_1": "10:00:00",
    }  # fmt: skip
    response = client.post("/admin/vouchers/campaign/add/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    campaign = Campaign.objects.get(name="打车券")
    assert (campaign.state, campaign.remaining, campaign.created_by) == ("draft", 500, voucher_staff)
    assert campaign.accepted_categories == ["ride_hailing"] and campaign.eligible_forms == []
