"""Fullwidth digits (１３９…, from Chinese input methods and agencies' spreadsheets) are the same
number as their ASCII form: the ID number parser (core.parsing) reads them as ASCII and no other
script's digits, and mobiles are normalised where they enter, so one person never gets two
memberships and one mobile never two budgets of codes."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from core import sms
from core.crypto import id_number_index
from core.errors import ServiceError
from core.parsing import id_number_normalize
from members import services
from members.models import Member, MembershipApplication, SmsCode, User
from members.services import members_import
from members.validators import normalize_mobile, parse_id_number, validate_mobile
from tests.factories import UserFactory, id_number

pytestmark = pytest.mark.django_db

FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def fullwidth(text: str) -> str:
    return text.translate(FULLWIDTH)


# --- ASCII and fullwidth digits only -----------------------------------------------------------------


def test_the_id_parser_reads_fullwidth_digits_as_ascii():
    number = id_number()
    assert parse_id_number(fullwidth(number)).number == number


def test_the_id_parser_refuses_other_scripts_digits():
    number = id_number()
    with pytest.raises(ServiceError) as exc:
        parse_id_number(number[:-1].translate(ARABIC_INDIC) + number[-1])
    assert exc.value.code == "id_format"


@pytest.mark.parametrize("mobile", [fullwidth("13900000001"), "13９00000001", "139000000٠1"])
def test_the_mobile_validator_refuses_non_ascii_digits(mobile):
    with pytest.raises(ValidationError):
        validate_mobile(mobile)


def test_normalising_turns_fullwidth_digits_and_x_into_ascii():
    number = id_number()
    assert id_number_normalize(f" {fullwidth(number).lower()} ") == number
    assert id_number_normalize(fullwidth(number[:17]) + "ｘ") == number[:17] + "X"
    assert normalize_mobile("１３９００００００01 ") == "13900000001"


@pytest.mark.parametrize("lookalike", ["⑥", "⁶", "₆", "Ⅹ", "٦", "六"])
def test_normalising_leaves_other_digit_lookalikes_to_be_refused(lookalike):
    number = id_number()
    typed = number[:16] + lookalike + number[17]
    assert id_number_normalize(typed) == typed.upper()
    with pytest.raises(ServiceError) as exc:
        parse_id_number(typed)
    assert exc.value.code == "id_format"


# --- Joining -------------------------------------------------------------------------------------


def test_a_fullwidth_copy_of_a_members_id_number_is_already_a_member(tree, member):
    worker = UserFactory(mobile="13700000099")
    with pytest.raises(ServiceError) as exc:
        services.application_submit(
            applicant=worker, name="冒名", id_number=fullwidth(member.id_number), mobile=worker.mobile,
            union=tree.g2, privacy_consent=True,
        )  # fmt: skip
    assert exc.value.code == "already_member"
    assert MembershipApplication.objects.count() == 0
    assert Member.objects.count() == 1


def test_a_fullwidth_id_number_is_stored_as_ascii_with_the_ascii_blind_index(tree):
    number = id_number()
    worker = UserFactory(mobile="13700000099")
    app = services.application_submit(
        applicant=worker, name="李娜", id_number=fullwidth(number), mobile=fullwidth(worker.mobile),
        union=tree.g1, privacy_consent=True,
    )  # fmt: skip
    app.refresh_from_db()
    assert (app.id_number, app.mobile) == (number, worker.mobile)
    assert app.id_index == id_number_index(number)
    assert app.id_masked == number[:6] + "********" + number[14:]


def test_the_join_form_refuses_a_fullwidth_copy_of_a_members_id_number(tree, member):
    worker = UserFactory(mobile="13700000099")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(worker)
    data = {
        "name": "冒名",
        "id_number": fullwidth(member.id_number),
        "union": tree.g2.pk,
        "employment_form": "employee",
        "privacy_consent": "on",
    }
    resp = client.post(reverse("members:join"), data)
    assert resp.status_code == 200
    assert "This ID number already belongs to a union member." in resp.content.decode()
    assert MembershipApplication.objects.count() == 0


# --- The agencies' membership check -----------------------------------------------------------------


def test_verify_finds_the_member_behind_a_fullwidth_id_number(member, agency_key):
    resp = APIClient().post(
        "/api/v1/members/verify",
        {"id_number": fullwidth(member.id_number)},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {agency_key}",
    )
    assert resp.status_code == 200
    assert resp.json()["is_member"] is True
    assert resp.json()["member_no"] == member.member_no


def test_verify_refuses_other_scripts_digits_with_400(member, agency_key):
    number = member.id_number[:-1].translate(ARABIC_INDIC) + member.id_number[-1]
    resp = APIClient().post(
        "/api/v1/members/verify", {"id_number": number}, format="json", HTTP_AUTHORIZATION=f"Bearer {agency_key}"
    )
    assert resp.status_code == 400
    assert resp.json()["error"]["fields"]["id_number"][0]["code"] == "id_format"


# --- SMS login ------------------------------------------------------------------------------------


def send_code(client, mobile, capture):
    with capture(execute=True):
        return client.post(reverse("members:login-code"), {"mobile": mobile}, HTTP_HX_REQUEST="true")


def test_a_fullwidth_mobile_gets_its_code_on_the_ascii_number_and_shares_its_limits(
    client, member, django_capture_on_commit_callbacks
):
    variants = [member.mobile[:i] + fullwidth(member.mobile[i:]) for i in range(2, 11)]
    for variant in variants:
        send_code(client, variant, django_capture_on_commit_callbacks)
    assert [m["mobile"] for m in sms.outbox] == [member.mobile]  # one code: the rest are "too soon"
    assert set(SmsCode.objects.values_list("mobile", flat=True)) == {member.mobile}


def test_logging_in_with_a_fullwidth_mobile_and_code_opens_the_members_own_account(
    client, member, django_capture_on_commit_callbacks
):
    send_code(client, fullwidth(member.mobile), django_capture_on_commit_callbacks)
    code = re.search(r"\b(\d{6})\b", sms.outbox[-1]["text"]).group(1)
    resp = client.post(reverse("members:login"), {"mobile": fullwidth(member.mobile), "sms_code": fullwidth(code)})
    assert resp.status_code == 302
    assert client.session["_auth_user_id"] == str(member.user.pk)
    assert User.objects.count() == 1


# --- Bulk import and the admin search ------------------------------------------------------------------


def test_the_import_stores_fullwidth_numbers_as_ascii(staff, tree, member):
    number = id_number()
    rows = [
        {"name": "陈静", "id_number": fullwidth(number), "mobile": fullwidth("13500000001"), "union_code": "G1",
         "joined_on": "2024-03-01"},
        {"name": "冒名", "id_number": fullwidth(member.id_number), "mobile": "13500000002", "union_code": "G1",
         "joined_on": "2024-03-01"},
    ]  # fmt: skip
    report = members_import(rows_or_file=rows, actor=staff, dry_run=True)
    assert [e.code for e in report.errors] == ["already_member"]
    report = members_import(rows_or_file=rows[:1], actor=staff, dry_run=False)
    assert report.imported == 1
    imported = Member.objects.get(mobile="13500000001")
    assert imported.id_number == number and imported.id_index == id_number_index(number)


def test_the_admin_finds_a_member_by_a_fullwidth_id_number(client, staff, member):
    client.force_login(staff)
    resp = client.get("/admin/members/member/", {"q": fullwidth(member.id_number)}, follow=True)
    assert resp.status_code == 200
    assert member.member_no in resp.content.decode()
    assert member.id_number not in resp.redirect_chain[0][0]
