"""The admin's landing page: each staff member sees the counts of what waits for them, within
their scope and permissions, each linking to the filtered list (core.dashboard and the cards each
app registers)."""

import datetime as dt
import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from core.dashboard import waiting_for
from members.models import MembershipApplication, Transfer
from tests.admin_world import application
from tests.factories import MemberFactory, StaffFactory
from tests.hardship.factories import AidFactory, CandidateFactory, CaseFactory
from tests.vouchers.factories import CampaignFactory, MerchantFactory, SettlementFactory

APPLICATIONS = "待审核的入会申请"
CANDIDATES = "待研判的潜在困难职工"
AID = "待您复核的帮扶"
REVIEWS = "逾期的年度复核"
TRANSFERS = "待本会办理的转会"


def grant(user, *apps):
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label__in=apps))
    return type(user).objects.get(pk=user.pk)  # drop the cached permissions


def cards(client, user) -> dict[str, int]:
    client.force_login(user)
    html = client.get(reverse("admin:index")).content.decode()
    found = re.findall(r'<span class="value">(\d+)</span>\s*<span class="label">([^<]+)</span>', html)
    return {label: int(count) for count, label in found}


@pytest.fixture
def waiting(tree, staff, district_staff, other_staff):
    """Work waiting in G1 (吴兴区) and in G2 (南浔区)."""
    g1_member, g2_member = MemberFactory(union=tree.g1), MemberFactory(union=tree.g2)
    application(tree.g1)
    application(tree.g2)
    application(tree.g2, status=MembershipApplication.Status.APPROVED)
    CandidateFactory(member=g1_member, union=tree.g1)
    CandidateFactory(member=g2_member, union=tree.g2)
    CandidateFactory(member=g2_member, union=tree.g2, state="dismissed")
    g1_case = CaseFactory(head=g1_member, state="filed", review_due=dt.date(2020, 1, 1))
    CaseFactory(head=g2_member, state="filed", review_due=timezone.localdate() + dt.timedelta(days=30))
    AidFactory(member=g1_member, case=g1_case, maker=staff)  # entered by G1's staff: the district checks it
    Transfer.objects.create(member=g2_member, from_union=tree.g2, to_union=tree.g1)  # NX releases first
    mover = MemberFactory(union=tree.g2)
    Transfer.objects.create(member=mover, from_union=tree.g2, to_union=tree.g1, status="released")  # G1 accepts


def test_it_shows_each_role_the_counts_of_its_own_scope(client, tree, waiting, staff, district_staff, city_staff,
                                                        other_staff):  # fmt: skip
    g1 = cards(client, grant(staff, "hardship"))
    wx = cards(client, grant(district_staff, "hardship"))
    city = cards(client, grant(city_staff, "hardship"))
    nx = cards(client, grant(other_staff, "hardship"))
    assert (g1[APPLICATIONS], wx[APPLICATIONS], city[APPLICATIONS], nx[APPLICATIONS]) == (1, 1, 2, 1)
    assert (g1[CANDIDATES], wx[CANDIDATES], city[CANDIDATES], nx[CANDIDATES]) == (1, 1, 2, 1)
    # The aid waits for a second approver: not the one who entered it, and nobody outside its scope.
    assert (g1[AID], wx[AID], city[AID], nx[AID]) == (0, 1, 1, 0)
    assert (g1[REVIEWS], wx[REVIEWS], city[REVIEWS], nx[REVIEWS]) == (1, 1, 1, 0)
    # 南浔 releases the first transfer; G1 accepts the released one.
    assert (g1[TRANSFERS], wx[TRANSFERS], city[TRANSFERS], nx[TRANSFERS]) == (1, 1, 2, 1)


def test_each_card_links_to_the_list_of_what_it_counts(client, tree, waiting, district_staff):
    user = grant(district_staff, "hardship")
    client.force_login(user)
    by_label = {card.label: card for card in waiting_for(user)}
    aid = client.get(by_label[AID].url)
    assert aid.status_code == 200 and aid.context["cl"].result_count == 1
    applications = client.get(by_label[APPLICATIONS].url)
    assert applications.context["cl"].result_count == 1
    transfers = client.get(by_label[TRANSFERS].url)
    assert transfers.context["cl"].result_count == 1
    candidates = client.get(by_label[CANDIDATES].url)
    assert candidates.context["cl"].result_count == 1


def test_an_outsider_without_permissions_sees_no_counts(client, tree, waiting):
    outsider = StaffFactory(username="noperm", union=tree.city)
    outsider.user_permissions.clear()
    assert [card.label for card in waiting_for(type(outsider).objects.get(pk=outsider.pk))] == ["未读通知"]
    shown = cards(client, outsider)
    assert shown == {"未读通知": 0}


def test_a_worker_gets_no_cards_and_no_landing_page(client, member):
    assert waiting_for(member.user) == []
    client.force_login(member.user)
    assert client.get(reverse("admin:index")).status_code == 302  # to the admin's login


def test_voucher_staff_see_merchants_to_approve_campaigns_closing_and_settlements_to_pay(client, tree, city_staff):
    MerchantFactory(state="applied")
    MerchantFactory()
    CampaignFactory(claim_closes_at=timezone.now() + dt.timedelta(days=1))
    CampaignFactory(claim_closes_at=timezone.now() + dt.timedelta(days=10))
    SettlementFactory()
    SettlementFactory(paid_at=timezone.now())
    user = grant(city_staff, "vouchers")
    shown = cards(client, user)
    assert shown["待审核的商户"] == 1
    assert shown["3天内截止领取的活动"] == 1
    assert shown["待付款的结算"] == 1
    client.force_login(user)
    for card in waiting_for(user):
        if card.label == "3天内截止领取的活动":
            assert client.get(card.url).context["cl"].result_count == 1
