"""Redemption refusals at their edges, each with the input it refuses: nothing is used."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import signing
from django.utils import timezone

from core.errors import ServiceError
from vouchers.models import Redemption, Voucher
from vouchers.services import redemption as rd

pytestmark = pytest.mark.django_db


def refused_create(merchant, codes, amount="1000", ref="POS-9", key="k-1") -> ServiceError:
    with pytest.raises(ServiceError) as exc:
        rd.redemption_create(
            merchant=merchant, codes=codes, order_amount=amount, order_ref=ref, idempotency_key=key, actor=None
        )
    return exc.value


def assert_nothing_used(*vouchers):
    assert not Redemption.objects.exists()
    assert {Voucher.objects.get(pk=v.pk).state for v in vouchers} == {"claimed"}


@pytest.fixture
def voucher(stack_campaign, member, voucher_factory):
    return voucher_factory(stack_campaign, member)


@pytest.mark.parametrize("codes", [[], ["", "  "], ["--"]])
def test_an_order_needs_a_voucher_code(food_merchant, codes):
    assert refused_create(food_merchant, codes).code == "no_codes"
    assert not Redemption.objects.exists()


def test_an_order_takes_at_most_twenty_vouchers(food_merchant, stack_campaign, member, voucher_factory):
    vouchers = [voucher_factory(stack_campaign, member) for _ in range(21)]
    assert refused_create(food_merchant, [v.code for v in vouchers], amount="30000").code == "too_many_codes"
    assert_nothing_used(*vouchers)


@pytest.mark.parametrize(
    "amount, code",
    [
        ("一千", "bad_amount"),
        ("NaN", "bad_amount"),
        ("0", "bad_amount"),
        ("-5", "negative_amount"),
        ("1000.001", "bad_amount"),
        ("1e10", "bad_amount"),
    ],
)
def test_an_order_amount_must_be_yuan_and_fen(food_merchant, voucher, amount, code):
    assert refused_create(food_merchant, [voucher.code], amount=amount).code == code
    assert_nothing_used(voucher)


def test_an_order_reference_over_64_characters_is_refused(food_merchant, voucher):
    # An empty one is numbered by the service (the phone page's optional field); the API requires one.
    assert refused_create(food_merchant, [voucher.code], ref="P" * 65).code == "invalid_order_ref"
    assert_nothing_used(voucher)


def test_one_order_uses_the_vouchers_of_one_member(
    food_merchant, stack_campaign, member, other_member, voucher_factory
):
    mine, theirs = voucher_factory(stack_campaign, member), voucher_factory(stack_campaign, other_member)
    error = refused_create(food_merchant, [mine.code, theirs.code], amount="2000")
    assert error.code == "mixed_members"
    assert_nothing_used(mine, theirs)


def test_a_voucher_is_not_used_before_its_campaign_says(food_merchant, stack_campaign, voucher):
    stack_campaign.valid_from = timezone.localdate() + dt.timedelta(days=1)
    stack_campaign.save()
    error = refused_create(food_merchant, [voucher.code])
    assert (error.code, error.kind) == ("voucher_not_yet_valid", "conflict")
    assert_nothing_used(voucher)


def test_a_campaign_naming_no_category_and_no_merchant_is_accepted_everywhere(
    digital_merchant, stack_campaign, voucher
):
    stack_campaign.accepted_categories = []
    stack_campaign.save()
    quote = rd.redemption_quote(merchant=digital_merchant, codes=[voucher.code], order_amount="1000")
    assert quote["discount"] == Decimal("100")


def test_a_signed_token_without_a_code_is_no_voucher(voucher):
    assert rd.voucher_from_token(signing.dumps({"n": "周**"}, salt=rd.QR_SALT)) is None
    assert rd.voucher_from_token(signing.dumps(["not", "a", "dict"], salt=rd.QR_SALT)) is None
    assert rd.voucher_from_token(rd.voucher_token(voucher)) == voucher
