"""Shared hardship fixtures (additive edits only)."""


# --- Cases, aid, referrals (engineer C) ---------------------------------------------------------
# Hardship staff personas: the conftest personas with the hardship permissions added.

from decimal import Decimal as _Decimal  # noqa: E402

import pytest  # noqa: E402

CASE_STAFF_PERMS = ("view_case", "view_candidate")


def grant_hardship(user, *codenames):
    """Give `user` hardship permissions (default: see cases and candidates); returns a fresh copy
    of the user, without Django's cached permission sets."""
    from django.contrib.auth.models import Permission

    perms = Permission.objects.filter(content_type__app_label="hardship", codename__in=codenames or CASE_STAFF_PERMS)
    user.user_permissions.add(*perms)
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def case_staff(staff):
    """G1 grassroots staff with the hardship permissions (the maker)."""
    return grant_hardship(staff)


@pytest.fixture
def case_checker(tree):
    """A second G1 staff member with the hardship permissions (the checker)."""
    from tests.factories import StaffFactory

    return grant_hardship(StaffFactory(username="g1checker", union=tree.g1))


@pytest.fixture
def case_outsider(other_staff):
    """南浔区 staff WITH hardship permissions: still an outsider to 吴兴区's cases."""
    return grant_hardship(other_staff)


@pytest.fixture
def case_supervisor(district_staff):
    """吴兴区 staff who may also list every case of the district."""
    return grant_hardship(district_staff, *CASE_STAFF_PERMS, "list_all_cases")


@pytest.fixture
def local_standard(tree):
    """吴兴区's minimum living standard this year: 1,200.00 CNY a month."""
    from tests.hardship.factories import LocalStandardFactory

    return LocalStandardFactory(union=tree.wx, monthly_amount=_Decimal("1200.00"))


# The day the shared case was opened: the aid of the tests is dated in 2025, within the case's life.
CASE_OPENED_AT = "2025-01-02T09:00:00+08:00"


@pytest.fixture
def open_case(member, case_staff):
    """A case opened for `member` on 2 January 2025 (aid can be dated from that day on)."""
    from django.utils.dateparse import parse_datetime

    from hardship.models import Case
    from hardship.services import case_open

    case = case_open(head=member, actor=case_staff)
    Case.objects.filter(pk=case.pk).update(opened_at=parse_datetime(CASE_OPENED_AT))
    case.refresh_from_db()
    return case


@pytest.fixture
def filed_case(open_case, case_staff, local_standard):
    """The seed's example: household of 3, income 60,000, out of pocket 154,184.67 → deep; filed."""
    from hardship import services

    services.case_transition(case=open_case, to_state="contacted", actor=case_staff)
    services.case_assess(
        case=open_case,
        actor=case_staff,
        household_size=3,
        annual_income="60000.00",
        medical_expenditure="154184.67",
        schooling_expenditure="0",
        sudden_accident=True,
        health_notes="肢体四级残疾",
    )
    return services.case_transition(case=open_case, to_state="filed", actor=case_staff)


# --- Screening and the monthly cycle (engineer B) ------------------------------------------------
# Rows as if ingested: `push_row(kind, period, payload, member=... | id_number=...)`.

AGENCY_OF_KIND = {
    "low_income": ("mca", "民政局"),
    "work_injury": ("hrss", "人社局"),
    "medical": ("nhsa", "医保局"),
    "disability": ("cdpf", "残联"),
    "aid_given": ("mca", "民政局"),
}


@pytest.fixture
def push_row(db):
    """A function adding one ingested, current, not yet matched row (its push is made once per
    agency, kind and period); returns the PushRow."""
    import itertools

    from core.crypto import id_number_index
    from hardship.models import DataPush, PushRow
    from tests.factories import AgencyFactory

    lines = itertools.count(1)

    def add(kind, period, payload, *, member=None, id_number=None, agency=None, source_key=None):
        if agency is None:
            code, name = AGENCY_OF_KIND[kind]
            agency = AgencyFactory(code=code, name=name)
        push, _created = DataPush.objects.get_or_create(
            agency=agency,
            batch_id=f"test-{kind}-{period}",
            defaults={
                "kind": kind, "period": period, "row_count": 0, "sha256": "0" * 64, "source": "api_json",
                "state": DataPush.State.INGESTED,
            },
        )  # fmt: skip
        number = id_number or member.id_number
        line = next(lines)
        return PushRow.objects.create(
            push=push,
            agency=agency,
            kind=kind,
            period=period,
            line=line,
            source_key=source_key or f"{agency.code}-{kind}-{period}-{line}",
            id_number=number,
            id_index=id_number_index(number),
            payload={"name": member.name if member else "某某", **payload},
        )

    return add


# --- Data in: pushes (engineer A) ----------------------------------------------------------------


@pytest.fixture
def nhsa(db):
    """医保局, the medical insurance bureau: pushes medical rows."""
    from tests.factories import AgencyFactory

    return AgencyFactory(code="nhsa", name="医保局")


@pytest.fixture
def nhsa_key(nhsa):
    """An API key of 医保局 with the scope hardship:push."""
    from core.services import api_key_create

    _key, secret = api_key_create(agency=nhsa, scopes=["hardship:push"])
    return secret


@pytest.fixture
def push_rows():
    """Valid rows of every kind, as a JSON push or a file sends them: `push_rows(kind, n, start=0)`."""
    import random

    from members.idgen import make_id_number

    rng = random.Random(33)
    numbers = [make_id_number(rng) for _ in range(200)]
    payloads = {
        "low_income": {"list": "低保", "start_date": "2024-07-01", "status": "在保"},
        "work_injury": {"injury_date": "2024-11-03", "grade": "四级"},
        "medical": {
            "total_cost": "439305.46", "reimbursed": "285120.79", "out_of_pocket": "154184.67",
            "illness_category": "肝衰竭",
        },
        "disability": {"type": "肢体", "grade": "4"},
        "aid_given": {"body": "民政局", "purpose": "大病救助", "fund_line": "大病救助", "amount": "3000", "date": "2025-03-02"},
    }  # fmt: skip

    def rows(kind, n, *, start=0):
        return [
            {"source_key": f"{kind}-{i:05d}", "id_number": numbers[i], "name": "张伟", **payloads[kind]}
            for i in range(start, start + n)
        ]

    rows.numbers = numbers
    return rows


# --- Workbooks are read by the worker (engineer api) ---------------------------------------------


@pytest.fixture
def xlsx_pushed(settings, tmp_path, django_capture_on_commit_callbacks):
    """Push a workbook and run the worker's ingestion queued on commit (an XLSX push is stored
    and read by the worker); the push as it then is."""
    from hardship.ingest import push_receive_file

    settings.MEDIA_ROOT = str(tmp_path)

    def push(agency, manifest, content):
        with django_capture_on_commit_callbacks(execute=True):
            received = push_receive_file(agency=agency, manifest=manifest, content=content, filename="x.xlsx")
        assert received.state == "pending"
        received.refresh_from_db()
        return received

    return push
