"""Rows of every kind the admin lists and reports, added `k` at a time: the query-count tests
render each page once with a little data and again with more, and expect the same queries."""

import datetime as dt
import itertools
from decimal import Decimal

from django.contrib.auth.models import Group
from django.utils import timezone

from core.crypto import id_number_index
from core.models import AuditEntry, Notification
from core.services import api_key_create
from hardship.models import Case, CaseEvent, CycleRun, LocalStandard
from members.models import MembershipApplication, MutualAidEnrolment, Transfer
from members.validators import mask_id_number
from tests.factories import AgencyFactory, EnterpriseFactory, MemberFactory, StaffFactory, StationFactory, UnionFactory
from tests.factories import id_number as new_id_number
from tests.hardship.factories import (
    AccessLogFactory,
    AidFactory,
    CandidateFactory,
    CaseFactory,
    DataPushFactory,
    PushRowFactory,
    ReferralFactory,
    ScreeningRuleFactory,
    WarmthBatchFactory,
    WarmthRosterEntryFactory,
)
from tests.vouchers.factories import (
    CampaignFactory,
    CampaignTemplateFactory,
    MerchantFactory,
    MerchantStaffFactory,
    RedemptionFactory,
    SettlementFactory,
    VoucherFactory,
)
from vouchers.models import DrawEntry, RedemptionItem

_seq = itertools.count(1)


def application(union, **fields) -> MembershipApplication:
    """An application to join `union`, pending unless `fields` say otherwise."""
    n = next(_seq)
    raw = new_id_number()
    values = {
        "applicant": StaffFactory(is_staff=False),
        "name": "李娜",
        "id_number": raw,
        "id_index": id_number_index(raw),
        "id_masked": mask_id_number(raw),
        "mobile": f"1385{n:07d}",
        "union": union,
        "employment_form": "employee",
        "channel": "online",
        "privacy_version": "2026-01",
        "privacy_consented_at": timezone.now(),
        **fields,
    }
    return MembershipApplication.objects.create(**values)


def add_rows(tree, k: int, *, recipients=()) -> None:
    """`k` more rows of every kind, in the unions of `tree` (its grassroots union G1 and its
    district 吴兴区); notifications and audit entries also go to each user of `recipients`."""
    agency = AgencyFactory()
    this_year = timezone.localdate().year
    for _i in range(k):
        n = next(_seq)
        maker, checker = StaffFactory(union=tree.g1), StaffFactory(union=tree.wx)
        union = UnionFactory(parent=tree.street, code=f"QC{n:04d}")
        EnterpriseFactory(union=tree.g1)
        StationFactory(union=tree.street)
        member = MemberFactory(union=tree.g1, employer=EnterpriseFactory(union=tree.g1))
        other = MemberFactory(union=union)
        application(tree.g1, channel="station", station=tree.station)
        Transfer.objects.create(member=other, from_union=union, to_union=tree.g1)
        MutualAidEnrolment.objects.create(member=member, year=this_year, union=tree.g1)
        # hardship
        case = CaseFactory(head=member, state=Case.State.FILED, case_no=f"QC-{n:05d}",
                           review_due=dt.date(2020, 1, 1), created_by=maker)  # fmt: skip
        CaseEvent.objects.create(case=case, kind="note", text="…", actor=maker)
        AccessLogFactory(user=maker, case=case)
        AidFactory(member=member, case=case, union=tree.g1, maker=maker, approver=checker, state="approved")
        AidFactory(member=other, union=union, maker=checker)
        batch = WarmthBatchFactory(
            union=tree.wx, created_by=maker, approved_by=checker, period=f"2024-{n % 12 + 1:02d}"
        )
        AidFactory(member=other, union=union, maker=maker, batch=batch, fund_line="warmth")
        WarmthRosterEntryFactory(member=member, union=tree.g1, year=2025 + n)
        rule = ScreeningRuleFactory()
        CandidateFactory(member=other, union=union, rule=rule)
        push = DataPushFactory(agency=agency, period=f"20{10 + n % 80:02d}-01")
        PushRowFactory(push=push, member=member)
        ReferralFactory(case=case, agency=agency, sent_by=maker)
        CycleRun.objects.create(period=f"19{n % 100:02d}-{n % 12 + 1:02d}", state="done")
        LocalStandard.objects.create(union=UnionFactory(parent=tree.city, kind="district"), year=2000 + n,
                                     monthly_amount=Decimal("1000"))  # fmt: skip
        # vouchers
        merchant = MerchantFactory()
        MerchantStaffFactory(merchant=merchant)
        CampaignTemplateFactory()
        campaign = CampaignFactory(name=f"工惠日{n}")
        campaign.accepted_merchants.add(merchant)
        voucher = VoucherFactory(campaign=campaign, member=member)
        DrawEntry.objects.create(campaign=campaign, member=other)
        redemption = RedemptionFactory(merchant=merchant, member=member, created_by=maker)
        RedemptionItem.objects.create(redemption=redemption, voucher=voucher, discount=Decimal("100"))
        SettlementFactory(merchant=merchant, month=f"20{10 + n % 80:02d}-02", paid_by=checker)
        # core
        api_key_create(agency=agency, scopes=["members:verify"], name=f"key {n}")
        Group.objects.create(name=f"组{n}")
        for user in (maker, *recipients):
            Notification.objects.create(recipient=user, kind="test", title=f"通知{n}", link="/admin/")
            AuditEntry.objects.create(actor=user, action="test.done", object_type="x", object_id=str(n))
