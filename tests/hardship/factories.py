"""factory_boy factories for the hardship app (members' are in tests/factories.py)."""

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from core.crypto import id_number_index
from hardship.models import (
    AccessLog,
    Aid,
    Candidate,
    Case,
    CycleRun,
    DataPush,
    LocalStandard,
    PushRow,
    Referral,
    ScreeningRule,
    WarmthBatch,
    WarmthRosterEntry,
)
from tests.factories import AgencyFactory, MemberFactory, StaffFactory, UnionFactory


class ScreeningRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ScreeningRule

    name = factory.Sequence(lambda n: f"低保名单{n}")
    kind = ScreeningRule.Kind.LOW_INCOME


class DataPushFactory(factory.django.DjangoModelFactory):
    """An ingested push of 民政局's low-income list (no rows unless PushRowFactory adds them)."""

    class Meta:
        model = DataPush

    agency = factory.SubFactory(AgencyFactory)
    kind = "low_income"
    period = "2025-03"
    batch_id = factory.Sequence(lambda n: f"batch-{n:04d}")
    row_count = 0
    sha256 = "0" * 64
    source = DataPush.Source.API_JSON
    state = DataPush.State.INGESTED


class PushRowFactory(factory.django.DjangoModelFactory):
    """One pushed row about `member` (its ID number and blind index follow the member's)."""

    class Meta:
        model = PushRow

    class Params:
        member = factory.SubFactory(MemberFactory)

    push = factory.SubFactory(DataPushFactory)
    agency = factory.SelfAttribute("push.agency")
    kind = factory.SelfAttribute("push.kind")
    period = factory.SelfAttribute("push.period")
    line = factory.Sequence(lambda n: n + 1)
    source_key = factory.Sequence(lambda n: f"row-{n:05d}")
    id_number = factory.LazyAttribute(lambda o: o.member.id_number)
    id_index = factory.LazyAttribute(lambda o: id_number_index(o.member.id_number))
    payload = factory.LazyAttribute(lambda o: {"name": o.member.name, "list": "低保", "status": "在保"})


class CandidateFactory(factory.django.DjangoModelFactory):
    """An open candidate of the worklist, in its member's union."""

    class Meta:
        model = Candidate

    member = factory.SubFactory(MemberFactory)
    union = factory.SelfAttribute("member.union")
    rule = factory.SubFactory(ScreeningRuleFactory)
    period = "2025-03"
    evidence = factory.LazyFunction(dict)
    evidence_key = factory.Sequence(lambda n: f"evidence-{n}")


class LocalStandardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LocalStandard

    union = factory.SubFactory(UnionFactory, kind="district")
    year = factory.LazyFunction(lambda: timezone.localdate().year)
    monthly_amount = Decimal("1200.00")


class CaseFactory(factory.django.DjangoModelFactory):
    """A case at its first state (no case number yet); use hardship.services for its lifecycle."""

    class Meta:
        model = Case

    head = factory.SubFactory(MemberFactory)
    union = factory.SelfAttribute("head.union")


class WarmthBatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WarmthBatch

    name = factory.Sequence(lambda n: f"春节送温暖{n}")
    union = factory.SubFactory(UnionFactory)
    period = "2025-01"


class AidFactory(factory.django.DjangoModelFactory):
    """Aid waiting for its second approver (the maker is a staff user of no union unless given)."""

    class Meta:
        model = Aid

    member = factory.SubFactory(MemberFactory)
    union = factory.SelfAttribute("member.union")
    fund_line = "living"
    amount = Decimal("500.00")
    purpose = "生活救助"
    paid_on = factory.LazyFunction(lambda: dt.date(2025, 3, 10))
    period = "2025-03"
    maker = factory.SubFactory(StaffFactory)


class WarmthRosterEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WarmthRosterEntry

    member = factory.SubFactory(MemberFactory)
    union = factory.SelfAttribute("member.union")
    year = 2025
    source = WarmthRosterEntry.Source.SCREENING


class ReferralFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Referral

    case = factory.SubFactory(CaseFactory)
    agency = factory.SubFactory(AgencyFactory)
    benefit = Referral.Benefit.LOW_INCOME_STATUS


class CycleRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CycleRun
        django_get_or_create = ("period",)

    period = "2025-02"
    state = "done"


class AccessLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccessLog

    user = factory.SubFactory(StaffFactory)
    action = AccessLog.Action.OPEN
    case = factory.SubFactory(CaseFactory)
