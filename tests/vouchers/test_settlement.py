import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from core.errors import ServiceError
from core.models import AuditEntry
from vouchers.models import Redemption, Settlement
from vouchers.selectors import settlement_export_xlsx
from vouchers.services import redemption as rd
from vouchers.services.settlement import settlement_build, settlement_mark_paid

TZ = timezone.get_current_timezone()


def _at(redemption, when):
    Redemption.objects.filter(pk=redemption.pk).update(created_at=when)


@pytest.fixture
def november(food_merchant, digital_merchant, stack_campaign, member, other_member, voucher_factory, time_machine):
    """Food: 2 + 1 vouchers in November (300), 1 on 1 December 00:00 Shanghai; digital: 1 (100).
    Today is 2 December: November has ended."""
    time_machine.move_to(dt.datetime(2026, 12, 2, 9, 0, tzinfo=TZ))
    stack_campaign.accepted_categories = ["food", "digital"]
    stack_campaign.save()

    def redeem(merchant, who, n, amount, ref, when):
        vouchers = [voucher_factory(stack_campaign, who) for _i in range(n)]
        red = rd.redemption_create(
            merchant=merchant, codes=[v.code for v in vouchers], order_amount=amount, order_ref=ref
        )
        _at(red, when)
        return red

    return {
        "a": redeem(food_merchant, member, 2, "2350", "a", dt.datetime(2026, 11, 1, 0, 0, tzinfo=TZ)),
        "b": redeem(food_merchant, other_member, 1, "1000", "b", dt.datetime(2026, 11, 30, 23, 59, tzinfo=TZ)),
        "c": redeem(food_merchant, member, 1, "1500", "c", dt.datetime(2026, 12, 1, 0, 0, tzinfo=TZ)),
        "d": redeem(digital_merchant, other_member, 1, "1000", "d", dt.datetime(2026, 11, 15, 12, 0, tzinfo=TZ)),
    }


def test_it_sums_the_months_live_uses_per_merchant(november, food_merchant, digital_merchant):
    result = settlement_build(month="2026-11")
    by_merchant = {s.merchant_id: s for s in result["settlements"]}
    assert (by_merchant[food_merchant.pk].vouchers, by_merchant[food_merchant.pk].amount) == (3, Decimal("300.00"))
    assert (by_merchant[digital_merchant.pk].vouchers, by_merchant[digital_merchant.pk].amount) == (
        1,
        Decimal("100.00"),
    )
    assert result["late"] == []
    assert Redemption.objects.get(pk=november["a"].pk).settlement_id == by_merchant[food_merchant.pk].pk
    assert Redemption.objects.get(pk=november["c"].pk).settlement_id is None


def test_building_again_is_idempotent_and_drops_reversed_uses(november, food_merchant):
    settlement_build(month="2026-11")
    Redemption.objects.filter(pk=november["b"].pk).update(created_at=timezone.now())
    rd.redemption_refund(merchant=november["b"].merchant, redemption_id=november["b"].pk, amount="1000")
    Redemption.objects.filter(pk=november["b"].pk).update(created_at=dt.datetime(2026, 11, 30, 23, 59, tzinfo=TZ))
    settlement_build(month="2026-11")
    settlement_build(month="2026-11")
    s = Settlement.objects.get(merchant=food_merchant, month="2026-11")
    assert (s.vouchers, s.amount) == (2, Decimal("200.00"))
    assert Settlement.objects.filter(month="2026-11").count() == 2


def test_a_paid_settlement_is_not_changed_and_late_uses_are_reported(
    november, food_merchant, stack_campaign, member, voucher_factory, staff
):
    settlement_build(month="2026-11")
    s = Settlement.objects.get(merchant=food_merchant, month="2026-11")
    settlement_mark_paid(settlement=s, actor=staff)
    late = rd.redemption_create(
        merchant=food_merchant, codes=[voucher_factory(stack_campaign, member).code], order_amount="1000", order_ref="z"
    )
    _at(late, dt.datetime(2026, 11, 20, 10, 0, tzinfo=TZ))
    result = settlement_build(month="2026-11")
    s.refresh_from_db()
    assert (s.vouchers, s.amount) == (3, Decimal("300.00"))
    assert result["late"] == [{"merchant": food_merchant, "vouchers": 1, "amount": Decimal("100.00")}]


def test_mark_paid_once_with_audit(november, food_merchant, staff):
    settlement_build(month="2026-11")
    s = Settlement.objects.get(merchant=food_merchant, month="2026-11")
    settlement_mark_paid(settlement=s, actor=staff)
    assert s.paid_at is not None and s.paid_by == staff
    with pytest.raises(ServiceError) as exc:
        settlement_mark_paid(settlement=s, actor=staff)
    assert exc.value.code == "already_paid"
    assert AuditEntry.objects.filter(action="vouchers.settlement.paid").count() == 1


def test_the_xlsx_is_readable_with_the_exact_sums(november):
    settlement_build(month="2026-11")
    wb = load_workbook(io.BytesIO(settlement_export_xlsx(month="2026-11")))
    rows = list(wb.active.iter_rows(values_only=True))
    assert len(rows) == 4
    body = {r[0]: (r[3], Decimal(str(r[4]))) for r in rows[1:3]}
    assert body == {"老沈家面馆": (3, Decimal("300")), "数码港": (1, Decimal("100"))}
    assert rows[3][3] == 4 and Decimal(str(rows[3][4])) == Decimal("400")


def test_it_refuses_a_malformed_month(db):
    with pytest.raises(ServiceError) as exc:
        settlement_build(month="2026-13")
    assert exc.value.code == "bad_period"


# --- Refunds after the month was paid -----------------------------------------------------------------


@pytest.fixture
def paid_october(food_merchant, stack_campaign, member, voucher_factory, time_machine, staff):
    """A 100-yuan voucher used on 31 October 20:00; on 1 November October is built and paid."""
    time_machine.move_to(dt.datetime(2026, 10, 31, 20, 0, tzinfo=TZ))
    voucher = voucher_factory(stack_campaign, member, expires_at=dt.datetime(2026, 12, 31, tzinfo=TZ))
    red = rd.redemption_create(merchant=food_merchant, codes=[voucher.code], order_amount="1000", order_ref="a")
    time_machine.move_to(dt.datetime(2026, 11, 1, 9, 0, tzinfo=TZ))
    settlement_build(month="2026-10")
    settlement_mark_paid(settlement=Settlement.objects.get(month="2026-10"), actor=staff)
    return {"voucher": voucher, "redemption": red}


def test_a_full_refund_after_the_month_was_paid_keeps_the_vouchers_used(paid_october, food_merchant):
    voucher, red = paid_october["voucher"], paid_october["redemption"]
    refund = rd.redemption_refund(
        merchant=red.merchant, redemption_id=red.pk, amount="1000"
    )  # within the 72-hour window
    assert refund.full and not refund.vouchers_restored
    assert refund.vouchers == "kept_used"
    voucher.refresh_from_db()
    assert voucher.state == "used"
    assert red.items.get().reversed_at is None
    assert Redemption.objects.get(pk=red.pk).state == Redemption.State.REFUNDED
    entry = AuditEntry.objects.get(action="vouchers.redemption.refunded")
    assert entry.new["vouchers"] == "kept_used" and entry.new["settlement_paid"] is True
    with pytest.raises(ServiceError) as exc:
        rd.redemption_create(merchant=food_merchant, codes=[voucher.code], order_amount="1000", order_ref="b")
    assert exc.value.code == "voucher_used"
    # The paid month still matches its live uses: nothing late, 100 paid once.
    assert settlement_build(month="2026-10")["late"] == []
    assert sum(s.amount for s in Settlement.objects.all()) == Decimal("100.00")


def test_a_settlement_changed_by_a_refund_after_its_build_cannot_be_paid(
    food_merchant, stack_campaign, member, voucher_factory, time_machine, staff
):
    time_machine.move_to(dt.datetime(2026, 10, 31, 20, 0, tzinfo=TZ))
    voucher = voucher_factory(stack_campaign, member, expires_at=dt.datetime(2026, 12, 31, tzinfo=TZ))
    red = rd.redemption_create(merchant=food_merchant, codes=[voucher.code], order_amount="1000", order_ref="a")
    time_machine.move_to(dt.datetime(2026, 11, 1, 9, 0, tzinfo=TZ))
    settlement_build(month="2026-10")
    assert rd.redemption_refund(merchant=red.merchant, redemption_id=red.pk, amount="1000").vouchers_restored
    s = Settlement.objects.get(month="2026-10")
    with pytest.raises(ServiceError) as exc:
        settlement_mark_paid(settlement=s, actor=staff)
    assert exc.value.code == "settlement_outdated"
    assert Settlement.objects.get(pk=s.pk).paid_at is None
    settlement_build(month="2026-10")
    paid = settlement_mark_paid(settlement=s, actor=staff)
    assert (paid.vouchers, paid.amount) == (0, Decimal("0.00"))


# --- A month that has not ended -----------------------------------------------------------------------


def test_it_refuses_to_build_or_pay_a_month_that_has_not_ended(
    food_merchant, stack_campaign, member, voucher_factory, time_machine, staff
):
    time_machine.move_to(dt.datetime(2026, 11, 20, 10, 0, tzinfo=TZ))
    voucher = voucher_factory(stack_campaign, member)
    rd.redemption_create(merchant=food_merchant, codes=[voucher.code], order_amount="1000", order_ref="a")
    for month in ("2026-11", "2026-12"):
        with pytest.raises(ServiceError) as exc:
            settlement_build(month=month)
        assert exc.value.code == "month_not_ended"
    assert "2026-12-01" in exc.value.message or "2027-01-01" in exc.value.message
    assert not Settlement.objects.exists()
    running = Settlement.objects.create(merchant=food_merchant, month="2026-11", vouchers=1, amount=Decimal("100"))
    with pytest.raises(ServiceError) as exc:
        settlement_mark_paid(settlement=running, actor=staff)
    assert exc.value.code == "month_not_ended"
    assert Settlement.objects.get(pk=running.pk).paid_at is None
    # From 1 December 00:00 in Shanghai (30 November 16:00 UTC) November can be settled.
    time_machine.move_to(dt.datetime(2026, 11, 30, 16, 0, tzinfo=dt.UTC))
    settlement_build(month="2026-11")
    assert settlement_mark_paid(settlement=running, actor=staff).paid_at is not None


def test_a_merchant_name_written_like_a_formula_is_exported_as_text(november, food_merchant):
    food_merchant.name = '=HYPERLINK("http://evil.example/","点我")'
    food_merchant.save(update_fields=["name"])
    settlement_build(month="2026-11")
    ws = load_workbook(io.BytesIO(settlement_export_xlsx(month="2026-11"))).active
    names = [row[0].value for row in ws.iter_rows(min_row=2)]
    assert "'" + food_merchant.name in names
    assert not any(cell.data_type == "f" for row in ws.iter_rows() for cell in row)
