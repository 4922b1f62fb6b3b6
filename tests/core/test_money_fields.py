"""Money typed at a door (an admin form, the merchant's page, a JSON field) is read by the one
parser, `core.parsing.money_parse`: every door accepts and refuses what the services do."""

from decimal import Decimal

import pytest
from rest_framework import serializers

from core import api_fields, forms
from hardship.admin.case_page import AidForm, AssessForm
from hardship.admin.warmth import WarmthBatchForm
from hardship.api.referrals import ReferralOutcomeInputSerializer
from vouchers.merchant_views import RedeemForm
from vouchers.serializers import RedemptionInputSerializer, RefundInputSerializer

# What DecimalField read differently from the parser: an exponent and Arabic-Indic digits it took,
# thousands separators it refused.
REFUSED = [("1e3", "bad_amount"), ("٣", "bad_amount"), ("1.001", "bad_amount"), ("-5", "negative_amount")]


def test_the_form_field_reads_thousands_separators():
    assert forms.MoneyField().clean("1,234.5") == Decimal("1234.50")
    assert forms.MoneyField(required=False).clean("") is None


@pytest.mark.parametrize(("text", "code"), [*REFUSED, ("0", "bad_amount")])
def test_the_form_field_refuses_what_the_parser_refuses(text, code):
    with pytest.raises(forms.forms.ValidationError) as exc:
        forms.MoneyField(allow_zero=False).clean(text)
    assert exc.value.code == code


def test_the_api_field_reads_text_and_json_numbers():
    field = api_fields.MoneyField()
    assert field.run_validation("1,234.50") == Decimal("1234.50")
    assert field.run_validation(2350) == Decimal("2350.00")
    assert field.to_representation(Decimal("5")) == "5.00"


@pytest.mark.parametrize(("text", "code"), [*REFUSED, ("0", "bad_amount")])
def test_the_api_field_refuses_with_the_parsers_code(text, code):
    with pytest.raises(serializers.ValidationError) as exc:
        api_fields.MoneyField(allow_zero=False).run_validation(text)
    assert exc.value.detail[0].code == code


@pytest.mark.parametrize(
    ("form_class", "data", "field"),
    [
        (AidForm, {"fund_line": "illness", "purpose": "大病救助", "paid_on": "2025-03-15"}, "amount"),
        (AssessForm, {"household_size": 3, "medical": "0", "schooling": "0"}, "annual_income"),
        (AssessForm, {"household_size": 3, "annual_income": "0", "schooling": "0"}, "medical"),
        (AssessForm, {"household_size": 3, "annual_income": "0", "medical": "0"}, "schooling"),
        (RedeemForm, {"codes": "ACDEFGHJKM"}, "order_amount"),
    ],
)
def test_every_money_form_reads_what_the_parser_reads(form_class, data, field):
    form = form_class({**data, field: "1,234.50"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data[field] == Decimal("1234.50")
    for text, code in REFUSED:
        form = form_class({**data, field: text})
        assert not form.is_valid()
        assert form.errors.as_data()[field][0].code == code, text


@pytest.mark.django_db
def test_the_warmth_batch_form_refuses_an_exponent_and_zero():
    for text in ("1e3", "0"):
        form = WarmthBatchForm({"name": "春节送温暖", "period": "2025-02", "amount_per_person": text})
        form.is_valid()
        assert form.errors.as_data()["amount_per_person"][0].code == "bad_amount", text


@pytest.mark.parametrize(
    ("serializer_class", "data", "field"),
    [
        (RedemptionInputSerializer, {"codes": ["ACDEFGHJKM"], "order_ref": "POS-1"}, "order_amount"),
        (RefundInputSerializer, {}, "amount"),
        (ReferralOutcomeInputSerializer, {"granted": True}, "amount"),
    ],
)
def test_every_money_input_of_the_api_reads_what_the_parser_reads(serializer_class, data, field):
    serializer = serializer_class(data={**data, field: "1,234.50"})
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data[field] == Decimal("1234.50")
    for text, code in REFUSED:
        serializer = serializer_class(data={**data, field: text})
        assert not serializer.is_valid()
        assert serializer.errors[field][0].code == code, text


def test_a_referral_granted_without_cash_may_answer_zero_and_null():
    for amount in ("0", None):
        serializer = ReferralOutcomeInputSerializer(data={"granted": True, "amount": amount})
        assert serializer.is_valid(), serializer.errors


def test_the_schema_documents_amounts_as_text_with_a_pattern(client, db):
    schemas = client.get("/api/schema/", {"format": "json"}).json()["components"]["schemas"]
    for name, field in (("RedemptionInputRequest", "order_amount"), ("RefundInputRequest", "amount")):
        prop = schemas[name]["properties"][field]
        assert prop["type"] == "string" and prop["example"] == "1234.50", prop
        assert "bad_amount" in prop["description"] and "negative_amount" in prop["description"]
        assert prop["pattern"].startswith("^") and prop["pattern"].endswith("$")
    assert schemas["ReferralOutcomeInputRequest"]["properties"]["amount"]["nullable"] is True
