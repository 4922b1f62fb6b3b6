"""The admin's pages of one object make as many queries when it has three related rows of each
kind as when it has one (a case's timeline, aid and referrals; a member's transfers and
enrolments; a campaign's merchants and vouchers; a warmth batch's aid)."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from hardship.models import Case, CaseEvent
from members.models import MutualAidEnrolment, Transfer
from tests.core.test_admin_query_counts import PROJECT_APPS, assert_same_queries
from tests.factories import MemberFactory, StaffFactory, UnionFactory
from tests.hardship.factories import AidFactory, CaseFactory, ReferralFactory, WarmthBatchFactory
from tests.vouchers.factories import CampaignFactory, MerchantFactory, VoucherFactory


@pytest.fixture
def reader(tree):
    user = StaffFactory(username="qc-city-detail", union=tree.city)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=PROJECT_APPS))
    return user


def test_a_case_page_does_not_grow_with_its_timeline_aid_and_referrals(client, tree, reader):
    head = MemberFactory(union=tree.g1)
    case = CaseFactory(head=head, state=Case.State.FILED, case_no="QC-DETAIL")
    maker = StaffFactory(union=tree.g1)

    def grow(k):
        for _i in range(k):
            CaseEvent.objects.create(case=case, kind="note", text="…", actor=maker)
            AidFactory(member=head, case=case, union=tree.g1, maker=maker)
            ReferralFactory(case=case, sent_by=maker)

    grow(1)
    client.force_login(reader)
    url = reverse("admin:hardship_case_change", args=[case.pk])
    assert client.get(url).status_code == 200
    assert_same_queries(client, url, lambda: grow(2))


def test_a_member_page_does_not_grow_with_their_transfers_and_enrolments(client, tree, reader):
    member = MemberFactory(union=tree.g1)

    def grow(k):
        for i in range(k):
            other = UnionFactory(parent=tree.street)
            Transfer.objects.create(member=member, from_union=tree.g1, to_union=other, status="cancelled")
            MutualAidEnrolment.objects.create(member=member, year=2000 + MutualAidEnrolment.objects.count() + i,
                                              union=tree.g1)  # fmt: skip

    grow(1)
    client.force_login(reader)
    url = reverse("admin:members_member_change", args=[member.pk])
    assert client.get(url).status_code == 200
    assert_same_queries(client, url, lambda: grow(2))


def test_a_campaign_page_does_not_grow_with_its_merchants_and_vouchers(client, tree, reader):
    campaign = CampaignFactory(state="draft")

    def grow(k):
        for _i in range(k):
            campaign.accepted_merchants.add(MerchantFactory())
            VoucherFactory(campaign=campaign, member=MemberFactory(union=tree.g1))

    grow(1)
    client.force_login(reader)
    url = reverse("admin:vouchers_campaign_change", args=[campaign.pk])
    assert client.get(url).status_code == 200
    assert_same_queries(client, url, lambda: grow(2))


def test_a_warmth_batch_page_does_not_grow_with_its_aid(client, tree, reader):
    maker = StaffFactory(union=tree.wx)
    batch = WarmthBatchFactory(union=tree.wx, created_by=maker)

    def grow(k):
        for _i in range(k):
            AidFactory(member=MemberFactory(union=tree.g1), union=tree.g1, maker=maker, batch=batch,
                       fund_line="warmth")  # fmt: skip

    grow(1)
    client.force_login(reader)
    url = reverse("admin:hardship_warmthbatch_change", args=[batch.pk])
    assert client.get(url).status_code == 200
    assert_same_queries(client, url, lambda: grow(2))
