"""The one parser of periods, money, ID numbers and credit codes (core.parsing), and each app
reading its input through it."""

import datetime as dt
import json
import random
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.test import Client
from rest_framework.test import APIClient

from core.errors import ServiceError
from core.parsing import (
    Period,
    credit_code_parse,
    id_check_char,
    id_number_parse,
    money_parse,
    money_text,
    month_parse,
    period_parse,
    validate_credit_code,
)
from core.services import api_key_create
from hardship import pushformats, reports
from hardship.models import DataPush
from members.idgen import make_id_number
from members.services import members_import
from tests.factories import AgencyFactory, StaffFactory
from vouchers.models import Merchant
from vouchers.services import redemption

FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
TODAY = dt.date(2026, 11, 29)


def refused(parse, value, **kwargs) -> str:
    with pytest.raises(ServiceError) as exc:
        parse(value, **kwargs)
    return exc.value.code


# --- Periods ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("2025-03", Period(2025, month=3)),
        ("2025-12", Period(2025, month=12)),
        ("2025-Q1", Period(2025, quarter=1)),
        ("2025-q4", Period(2025, quarter=4)),
        (" 2025-03 ", Period(2025, month=3)),
        ("２０２５-０３", Period(2025, month=3)),
        ("２０２５-Ｑ２", Period(2025, quarter=2)),
    ],
)
def test_it_accepts_a_month_or_a_quarter(text, period):
    assert period_parse(text) == period


@pytest.mark.parametrize(
    "text",
    ["2025-13", "2025-00", "2025-Q5", "2025-Q0", "2025/03", "2025-3", "202503", "2025", "1999-03", "2100-01",
     "0000-01", "2025-03-01", "2025-⑥", "", None],
)  # fmt: skip
def test_it_refuses_anything_else_as_bad_period(text):
    assert refused(period_parse, text) == "bad_period"


def test_a_year_is_a_period_only_where_the_caller_takes_years():
    assert period_parse("2025", years=True) == Period(2025)
    assert period_parse("2025-03", quarters=False, years=True) == Period(2025, month=3)
    assert refused(period_parse, "2025-Q1", quarters=False, years=True) == "bad_period"


def test_a_month_parser_refuses_a_quarter():
    assert month_parse("2026-11") == Period(2026, month=11)
    assert refused(month_parse, "2026-Q4") == "bad_period"


def test_the_refusal_is_translated():
    with pytest.raises(ServiceError) as exc:
        period_parse("2025-13")
    assert exc.value.message == "期间为月份（如 2025-03）或季度（如 2025-Q1）。"


def test_a_period_knows_its_months_its_canonical_text_and_its_bounds():
    q1 = Period(2025, quarter=1)
    assert (str(q1), str(q1.first_month), str(q1.last_month)) == ("2025-Q1", "2025-01", "2025-03")
    assert [str(m) for m in q1.months()] == ["2025-01", "2025-02", "2025-03"]
    assert [str(m) for m in Period(2025).months()][::11] == ["2025-01", "2025-12"]
    assert str(Period(2025, month=3).quarter_of()) == "2025-Q1"
    assert str(Period(2025, month=1).shift(-1)) == "2024-12"
    start, end = Period(2025, month=12).bounds()
    assert (start.date(), end.date(), start.utcoffset()) == (
        dt.date(2025, 12, 1),
        dt.date(2026, 1, 1),
        dt.timedelta(hours=8),
    )
    assert Period.of(dt.date(2026, 11, 30)) == Period(2026, month=11)


def test_periods_sort_by_their_last_month_a_month_before_its_quarter():
    texts = ["2025-Q1", "2025-04", "2024-12", "2025-03", "2025-01"]
    assert [str(p) for p in sorted(map(period_parse, texts))] == ["2024-12", "2025-01", "2025-03", "2025-Q1", "2025-04"]


# --- Money ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "amount"),
    [
        ("1234.5", "1234.50"),
        ("1234.56", "1234.56"),
        (" 0012 ", "12.00"),
        ("1,234,567.89", "1234567.89"),
        ("9999999999.99", "9999999999.99"),
        ("0", "0.00"),
        ("-0.00", "0.00"),  # a spreadsheet's negative zero
        (12, "12.00"),
        (12.0, "12.00"),
        (0.1 + 0.2, "0.30"),  # a float's binary noise, taken to the cent
        (154184.67000000004, "154184.67"),
        (Decimal("1.20"), "1.20"),
        (Decimal("1.230"), "1.23"),  # a Decimal is judged by its value
    ],
)
def test_it_reads_an_amount_to_the_cent(value, amount):
    assert money_parse(value) == Decimal(amount)
    assert money_text(value) == amount


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("1e3", "bad_amount"),
        ("1E3", "bad_amount"),
        ("NaN", "bad_amount"),
        ("Infinity", "bad_amount"),
        (float("nan"), "bad_amount"),
        (float("inf"), "bad_amount"),
        (Decimal("NaN"), "bad_amount"),
        ("0.001", "bad_amount"),
        ("1.230", "bad_amount"),  # three decimals as written
        (0.001, "bad_amount"),
        ("1234,56", "bad_amount"),  # not a thousands separator
        ("1,2,3", "bad_amount"),
        ("10000000000", "bad_amount"),
        (".5", "bad_amount"),
        ("5.", "bad_amount"),
        ("+5", "bad_amount"),
        ("１２", "bad_amount"),
        ("", "bad_amount"),
        (True, "bad_amount"),
        (None, "bad_amount"),
        ("-0.01", "negative_amount"),
        ("-1,000", "negative_amount"),
        (-5, "negative_amount"),
        (-0.5, "negative_amount"),
        (Decimal("-0.01"), "negative_amount"),
    ],
)
def test_it_refuses_what_is_not_an_amount(value, code):
    assert refused(money_parse, value) == code


def test_zero_is_refused_where_the_caller_says_so():
    assert money_parse("0") == Decimal("0.00")
    assert refused(money_parse, "0.00", allow_zero=False) == "bad_amount"
    with pytest.raises(ServiceError) as exc:
        money_parse("abc", label="订单金额")
    assert exc.value.message == "订单金额不是有效金额。"


# --- ID numbers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("11010519491231002X", "11010519491231002X"),
        ("11010519491231002x", "11010519491231002X"),
        (" 330502199001011236 ", "330502199001011236"),
        ("330502199001011236".translate(FULLWIDTH), "330502199001011236"),
        ("11010519491231002ｘ".translate(FULLWIDTH), "11010519491231002X"),
    ],
)
def test_it_accepts_an_id_number_in_ascii_or_fullwidth_digits(text, number):
    assert id_number_parse(text, today=TODAY) == number


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("33050219900101123⑥", "id_format"),
        ("3305021990010112⑥6", "id_format"),
        ("33050219900101123⁶", "id_format"),
        ("3305021990010112Ⅹ6", "id_format"),
        ("33050219900101123٦", "id_format"),
        ("11010519491231002", "id_format"),
        ("1101051949123100X2", "id_format"),
        ("990105194912310025", "id_region"),
        ("110105194902300027", "id_birth_date"),  # 30 February
        ("330502199013071232", "id_birth_date"),  # month 13
        ("110105203001010013", "id_birth_date"),  # born in the future
        ("110105189912310010", "id_birth_date"),  # before 1900
        ("110105194912310021", "id_check"),
        ("330502199001011235", "id_check"),
    ],
)
def test_it_refuses_a_bad_id_number_with_the_documented_code(text, code):
    assert refused(id_number_parse, text, today=TODAY) == code


def test_the_check_character_is_the_standards():
    # GB 11643-1999's worked example: 44052418800101001 → 4.
    assert id_check_char("44052418800101001") == "4"
    assert id_check_char("11010519491231002") == "X"


# --- Credit codes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000802100433B", "91330000142916567N"])
def test_it_accepts_a_credit_code_typed_in_lowercase_or_fullwidth(code):
    assert credit_code_parse(code.lower()) == code
    assert credit_code_parse(code.translate(FULLWIDTH)) == code


@pytest.mark.parametrize(
    ("code", "reason"),
    [("91350100M000100Y44", "credit_check"), ("91350100M000100Y4", "credit_format"),
     ("91350100I000100Y43", "credit_format"), ("913501A0M000100Y43", "credit_format")],
)  # fmt: skip
def test_it_refuses_a_bad_credit_code(code, reason):
    assert refused(credit_code_parse, code) == reason


def test_the_field_validator_refuses_a_fullwidth_code_the_field_would_store_as_typed():
    from django.core.exceptions import ValidationError

    validate_credit_code("91350100m000100y43")
    with pytest.raises(ValidationError) as exc:
        validate_credit_code("91350100M000100Y43".translate(FULLWIDTH))
    assert exc.value.code == "credit_format"


# --- Each app reads through the shared parsers ------------------------------------------------------


@pytest.mark.django_db
def test_a_push_row_is_checked_by_the_shared_parsers():
    _key, secret = api_key_create(agency=AgencyFactory(code="nhsa", name="医保局"), scopes=["hardship:push"])
    rng = random.Random(7)
    numbers = [make_id_number(rng) for _ in range(4)]
    base = {"name": "张伟", "total_cost": "100.00", "reimbursed": "50", "out_of_pocket": "50", "illness_category": ""}
    rows = [
        {**base, "source_key": "a", "id_number": numbers[0].translate(FULLWIDTH)},  # accepted
        {**base, "source_key": "b", "id_number": numbers[1][:16] + "⑥" + numbers[1][17]},
        {**base, "source_key": "c", "id_number": numbers[2], "out_of_pocket": "1e3"},
        {**base, "source_key": "d", "id_number": numbers[3], "out_of_pocket": "-0.01"},
    ]
    sha, count = pushformats.rows_sha256([rows])
    manifest = {"kind": "medical", "period": "２０２５-０３", "batch_id": "b1", "row_count": count, "sha256": sha}
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    body = client.post(
        "/api/v1/hardship/pushes", json.dumps({"manifest": manifest, "rows": rows}), content_type="application/json"
    ).json()
    assert (body["accepted"], body["rejected"]) == (1, 3)
    assert [(e["line"], e["reason"], e.get("detail")) for e in body["errors"]] == [
        (2, "bad_id_number", "id_format"),
        (3, "bad_amount", None),
        (4, "negative_amount", None),
    ]
    assert DataPush.objects.get().period == "2025-03"

    bad = {**manifest, "period": "2025/03", "batch_id": "b2"}
    resp = client.post(
        "/api/v1/hardship/pushes", json.dumps({"manifest": bad, "rows": rows}), content_type="application/json"
    )
    assert resp.status_code == 400
    assert resp.json()["error"]["fields"]["manifest"][0]["code"] == "invalid_manifest"


@pytest.mark.django_db
def test_the_verify_api_reads_the_id_number_through_the_shared_parser(member, agency_key):
    api = APIClient()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {agency_key}"}
    found = api.post(
        "/api/v1/members/verify", {"id_number": member.id_number.translate(FULLWIDTH)}, format="json", **auth
    )
    assert found.status_code == 200 and found.json()["is_member"] is True
    impossible = member.id_number[:10] + "0230" + member.id_number[14:17]
    resp = api.post(
        "/api/v1/members/verify", {"id_number": impossible + id_check_char(impossible)}, format="json", **auth
    )
    assert resp.status_code == 400
    assert resp.json()["error"]["fields"]["id_number"][0]["code"] == "id_birth_date"


@pytest.mark.django_db
def test_the_member_import_reads_id_numbers_and_credit_codes_through_the_shared_parsers(staff, tree):
    number = make_id_number(random.Random(5))
    rows = [
        {"name": "陈静", "id_number": number[:16] + "⑥" + number[17], "mobile": "13500000001", "union_code": "G1",
         "joined_on": "2024-03-01", "employer_credit_code": "91350100M000100Y44"},
    ]  # fmt: skip
    report = members_import(rows_or_file=rows, actor=staff, dry_run=True)
    assert sorted(e.code for e in report.errors) == ["credit_check", "id_format"]


@pytest.mark.django_db
def test_the_settlement_month_in_the_admin_is_read_by_the_shared_parser(tree):
    staff = StaffFactory(username="voucherstaff", union=tree.city)
    staff.user_permissions.add(*Permission.objects.filter(content_type__app_label="vouchers"))
    client = Client()
    client.force_login(staff)
    resp = client.post("/admin/vouchers/settlement/build/", {"month": "２０２５-１０"})
    assert resp.status_code == 302
    assert "2025-10" in " ".join(str(m) for m in get_messages(resp.wsgi_request))
    resp = client.post("/admin/vouchers/settlement/build/", {"month": "2025/10"})
    assert resp.status_code == 200
    assert resp.context["form"].errors["month"] == ["请按 YYYY-MM 格式填写月份，例如 2026-11。"]


@pytest.mark.django_db
def test_a_redemption_reads_its_order_amount_through_the_shared_parser():
    shop = Merchant.objects.create(
        name="太湖电器", category="appliances", address="湖州市吴兴区人民路8号", credit_code="91330502MA2B3C4D5E",
        contact_name="李明", contact_mobile="13700000000", state=Merchant.State.APPROVED,
    )  # fmt: skip
    for amount, code in (("1e3", "bad_amount"), ("-0.01", "negative_amount"), ("0", "bad_amount")):
        with pytest.raises(ServiceError) as exc:
            redemption.redemption_quote(merchant=shop, codes=["HZ0000000000"], order_amount=amount)
        assert exc.value.code == code, amount


@pytest.mark.django_db
def test_the_hardship_report_takes_a_month_or_a_year_through_the_shared_parser(district_staff):
    assert reports.period_figures(user=district_staff, period="２０２５")["period"] == "2025"
    with pytest.raises(ServiceError) as exc:
        reports.period_figures(user=district_staff, period="2025-Q1")
    assert exc.value.code == "bad_period"


def test_the_voucher_months_of_templates_are_read_by_the_shared_parser(db):
    from vouchers import services

    with pytest.raises(ServiceError) as exc:
        services.campaigns_from_templates(month="2026-+1")  # int() read this as January before
    assert exc.value.code == "bad_period"
