"""The worker's mobile pages: who sees what, the joining flow, SMS login, the e-card, transfers, inbox."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from core import sms
from core.models import Notification
from members import posters, services
from members.models import Member, MembershipApplication, SmsCode, Transfer, User
from tests.factories import MemberFactory, StationFactory, UnionFactory, UserFactory, id_number


def _session_queries() -> int:
    """The session costs a query unless it comes from the cache (cached_db, with Redis)."""
    from django.conf import settings

    return 0 if settings.SESSION_ENGINE.endswith("cached_db") else 1


pytestmark = pytest.mark.django_db

NEW_MOBILE = "13800000042"


@pytest.fixture
def client():
    """Pages are asserted in English, the source language; the Chinese default has its own test."""
    return Client(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def worker(tree):
    """A logged-in worker who is not a member yet."""
    return UserFactory(mobile="13700000007", username="m13700000007")


@pytest.fixture
def applicant(tree, worker):
    """A worker whose application to G1 is pending."""
    services.application_submit(
        applicant=worker, name="李娜", id_number=id_number(), mobile=worker.mobile, union=tree.g1,
        station=tree.station, privacy_consent=True,
    )  # fmt: skip
    return worker


def send_code(client, mobile, capture, **extra):
    with capture(execute=True):
        return client.post(reverse("members:login-code"), {"mobile": mobile}, HTTP_HX_REQUEST="true", **extra)


def last_code(mobile):
    texts = [m["text"] for m in sms.outbox if m["mobile"] == mobile]
    return re.search(r"\b(\d{6})\b", texts[-1]).group(1)


def join_data(tree, **overrides):
    data = {
        "name": "陈静",
        "id_number": id_number(),
        "union": tree.g1.pk,
        "employer_name": "湖州丝绸有限公司",
        "employment_form": "delivery_rider",
        "privacy_consent": "on",
    }
    data.update(overrides)
    return data


# --- Home ----------------------------------------------------------------------------------------


def test_home_offers_join_and_login_to_a_visitor(client, tree, django_assert_num_queries):
    with django_assert_num_queries(0):
        resp = client.get("/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert 'data-persona="anonymous"' in html
    assert reverse("members:join") in html and reverse("members:login") in html
    assert "<title>Home · Union service portal</title>" in html


def test_home_greets_a_member_by_masked_name_with_a_constant_number_of_queries(
    client, member, django_assert_num_queries
):
    client.force_login(member.user)
    # session, user, member with its union, unread count, whether the login is a shop's cashier
    with django_assert_num_queries(_session_queries() + 4):
        resp = client.get("/")
    html = resp.content.decode()
    assert "Hello, 周**" in html and "周建新" not in html
    assert member.union.name in html and member.member_no in html
    assert reverse("members:card") in html
    # More members and notifications change nothing.
    for i in range(5):
        MemberFactory(union=member.union, mobile=f"1360000{i:04d}")
    Notification.objects.create(recipient=member.user, kind="x", title="hi")
    with django_assert_num_queries(_session_queries() + 4):
        client.get("/")


def test_home_shows_the_application_status_to_an_applicant(client, applicant, django_assert_num_queries):
    client.force_login(applicant)
    # session, user, no member, latest application, unread count, whether the login is a shop's cashier
    with django_assert_num_queries(_session_queries() + 5):
        resp = client.get("/")
    html = resp.content.decode()
    assert 'data-persona="applicant"' in html and 'data-status="pending"' in html
    assert "Pending review" in html


def test_pages_are_chinese_by_default(tree):
    resp = Client().get("/")
    assert '<html lang="zh-hans">' in resp.content.decode()


# --- SMS login ----------------------------------------------------------------------------------


def test_asking_for_a_code_sends_one_sms_and_says_so(client, tree, django_capture_on_commit_callbacks):
    resp = send_code(client, NEW_MOBILE, django_capture_on_commit_callbacks)
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "A code was sent to 138****0042" in html and "data-resend" in html
    assert len(sms.outbox) == 1 and sms.outbox[0]["mobile"] == NEW_MOBILE
    code = last_code(NEW_MOBILE)
    assert code not in html
    assert SmsCode.objects.get(mobile=NEW_MOBILE).code_hash != code


def test_it_refuses_to_send_a_code_to_a_malformed_number(client, tree, django_capture_on_commit_callbacks):
    resp = send_code(client, "12345", django_capture_on_commit_callbacks)
    assert "code-msg_error" in resp.content.decode()
    assert sms.outbox == [] and not SmsCode.objects.exists()


def test_it_logs_in_with_the_right_code_and_follows_a_safe_next(client, member, django_capture_on_commit_callbacks):
    send_code(client, member.mobile, django_capture_on_commit_callbacks)
    resp = client.post(
        reverse("members:login"), {"mobile": member.mobile, "sms_code": last_code(member.mobile), "next": "/m/card/"}
    )
    assert resp.status_code == 302 and resp.url == "/m/card/"
    assert int(client.session["_auth_user_id"]) == member.user_id


def test_it_ignores_a_next_that_leaves_the_site(client, member, django_capture_on_commit_callbacks):
    send_code(client, member.mobile, django_capture_on_commit_callbacks)
    resp = client.post(
        reverse("members:login"),
        {"mobile": member.mobile, "sms_code": last_code(member.mobile), "next": "https://evil.example/"},
    )
    assert resp.status_code == 302 and resp.url == reverse("members:home")


def test_it_refuses_a_wrong_code(client, member, django_capture_on_commit_callbacks):
    send_code(client, member.mobile, django_capture_on_commit_callbacks)
    wrong = "000000" if last_code(member.mobile) != "000000" else "111111"
    resp = client.post(reverse("members:login"), {"mobile": member.mobile, "sms_code": wrong})
    assert resp.status_code == 200
    assert "The code is wrong. You can try 4 more times with this code." in resp.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_code_works_only_once(client, member, django_capture_on_commit_callbacks):
    send_code(client, member.mobile, django_capture_on_commit_callbacks)
    code = last_code(member.mobile)
    assert client.post(reverse("members:login"), {"mobile": member.mobile, "sms_code": code}).status_code == 302
    other = Client(HTTP_ACCEPT_LANGUAGE="en")
    resp = other.post(reverse("members:login"), {"mobile": member.mobile, "sms_code": code})
    assert resp.status_code == 200 and "This code no longer works" in resp.content.decode()
    assert "_auth_user_id" not in other.session


def test_it_refuses_an_expired_code(client, member, settings, django_capture_on_commit_callbacks):
    send_code(client, member.mobile, django_capture_on_commit_callbacks)
    sent = SmsCode.objects.get(mobile=member.mobile)
    assert abs((sent.expires_at - sent.created_at).total_seconds() - settings.SMS_CODE_TTL_SECONDS) < 1
    SmsCode.objects.filter(pk=sent.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    resp = client.post(reverse("members:login"), {"mobile": member.mobile, "sms_code": last_code(member.mobile)})
    assert "This code no longer works" in resp.content.decode()
    assert re.search(r"You can ask for a new code in \d+ seconds", resp.content.decode())  # sent just now
    assert "_auth_user_id" not in client.session


def test_it_rate_limits_codes_per_number(client, tree, settings, django_capture_on_commit_callbacks):
    settings.SMS_RESEND_SECONDS = 0
    settings.SMS_RATE_PER_MOBILE = "2/h"
    for i in range(2):
        send_code(client, NEW_MOBILE, django_capture_on_commit_callbacks, REMOTE_ADDR=f"10.0.0.{i + 1}")
    resp = send_code(client, NEW_MOBILE, django_capture_on_commit_callbacks, REMOTE_ADDR="10.0.0.9")
    assert "Too many codes were asked for. You can ask again in" in resp.content.decode()
    assert len(sms.outbox) == 2


def test_it_rate_limits_codes_per_ip_and_says_so_in_chinese(tree, settings, django_capture_on_commit_callbacks):
    settings.SMS_RATE_PER_IP = "2/h"
    zh = Client()  # the default language
    for i in range(2):
        send_code(zh, f"1380000010{i}", django_capture_on_commit_callbacks)
    resp = send_code(zh, "13800000109", django_capture_on_commit_callbacks)
    with translation.override("zh-hans"):
        expected = translation.gettext(
            "Too many codes were asked for. You can ask again in %(minutes)d minutes at the latest."
        )
    assert expected.split("%")[0] in resp.content.decode()
    assert len(sms.outbox) == 2 and not SmsCode.objects.filter(mobile="13800000109").exists()


def test_wrong_codes_for_other_numbers_do_not_lock_out_a_worker_on_the_same_network(
    client, member, settings, django_capture_on_commit_callbacks
):
    for i in range(settings.AXES_FAILURE_LIMIT + 1):
        send_code(client, f"1380000030{i}", django_capture_on_commit_callbacks)  # failures count only then
        client.post(reverse("members:login"), {"mobile": f"1380000030{i}", "sms_code": "000000"})
    send_code(client, member.mobile, django_capture_on_commit_callbacks)
    resp = client.post(reverse("members:login"), {"mobile": member.mobile, "sms_code": last_code(member.mobile)})
    assert resp.status_code == 302 and int(client.session["_auth_user_id"]) == member.user_id


def test_asking_again_too_soon_says_how_many_seconds_to_wait_and_counts_them_down(
    client, member, django_capture_on_commit_callbacks
):
    send_code(client, member.mobile, django_capture_on_commit_callbacks)
    resp = send_code(client, member.mobile, django_capture_on_commit_callbacks)
    html = resp.content.decode()
    seconds = int(re.search(r"You can ask for another in (\d+) seconds", html).group(1))
    assert 55 <= seconds <= 60
    assert f'data-resend="{seconds}"' in html  # js/portal.js counts the button down


def test_five_wrong_codes_end_the_code_and_a_new_code_then_logs_in(
    client, member, settings, django_capture_on_commit_callbacks
):
    send_code(client, member.mobile, django_capture_on_commit_callbacks)
    code = last_code(member.mobile)
    for _ in range(settings.SMS_CODE_MAX_ATTEMPTS):
        resp = client.post(reverse("members:login"), {"mobile": member.mobile, "sms_code": "000000"})
    # The code is spent; the worker is told when a new one can be asked for (the resend interval).
    assert resp.status_code == 200
    assert "This code no longer works" in resp.content.decode()
    assert re.search(r"You can ask for a new code in \d+ seconds", resp.content.decode())
    resp = client.post(reverse("members:login"), {"mobile": member.mobile, "sms_code": code})
    assert resp.status_code == 200 and "_auth_user_id" not in client.session  # even the right one now
    SmsCode.objects.update(created_at=timezone.now() - dt.timedelta(minutes=2))  # past the resend pause
    send_code(client, member.mobile, django_capture_on_commit_callbacks)
    resp = client.post(reverse("members:login"), {"mobile": member.mobile, "sms_code": last_code(member.mobile)})
    assert resp.status_code == 302 and int(client.session["_auth_user_id"]) == member.user_id


@pytest.mark.parametrize("role", ["is_staff", "is_superuser"])
def test_staff_cannot_log_in_with_an_sms_code(client, tree, role, django_capture_on_commit_callbacks):
    staff = UserFactory(username="boss", mobile="13600000001", union=tree.city, **{role: True})
    send_code(client, staff.mobile, django_capture_on_commit_callbacks)
    code = last_code(staff.mobile)
    resp = client.post(reverse("members:login"), {"mobile": staff.mobile, "sms_code": code})
    assert resp.status_code == 200
    assert "The code is wrong." in resp.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/members/member/").status_code == 302  # to the admin's password login
    assert SmsCode.objects.get(mobile=staff.mobile).used_at is None  # the code was not even tried


def test_a_member_who_left_can_join_again(client, tree, member, staff):
    member.status = Member.Status.LEFT
    member.save()
    client.force_login(member.user)
    resp = client.get(reverse("members:join"))
    assert resp.status_code == 200  # the form, not a loop through the card and the application page
    data = join_data(tree, name=member.name, id_number=member.id_number, union=tree.g1.pk)
    resp = client.post(reverse("members:join"), data)
    assert resp.status_code == 302 and resp.url == reverse("members:application")
    app = MembershipApplication.objects.get()
    assert (app.status, app.applicant, app.mobile) == ("pending", member.user, member.mobile)
    services.application_approve(application=app, actor=staff)
    assert client.get(reverse("members:card")).status_code == 200


def test_logging_out_needs_a_post(client, member):
    client.force_login(member.user)
    assert client.get(reverse("members:logout")).status_code == 405
    assert client.post(reverse("members:logout")).status_code == 302
    assert "_auth_user_id" not in client.session


# --- Joining ------------------------------------------------------------------------------------------


def test_a_visitor_applies_with_an_sms_code_is_logged_in_and_sees_the_pending_timeline(
    client, tree, staff, django_capture_on_commit_callbacks
):
    send_code(client, NEW_MOBILE, django_capture_on_commit_callbacks)
    number = id_number()
    data = join_data(tree, id_number=number, mobile=NEW_MOBILE, sms_code=last_code(NEW_MOBILE))
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(reverse("members:join"), data)
    assert resp.status_code == 302 and resp.url == reverse("members:application")
    app = MembershipApplication.objects.get()
    assert app.applicant.mobile == NEW_MOBILE and app.mobile == NEW_MOBILE
    assert app.union == tree.g1 and app.channel == "online" and app.station is None
    assert app.employment_form == "delivery_rider" and app.privacy_version
    assert int(client.session["_auth_user_id"]) == app.applicant_id
    # The staff of the union are told.
    assert Notification.objects.filter(recipient=staff, kind="members.application.submitted").exists()

    html = client.get(resp.url).content.decode()
    assert 'data-status="pending"' in html and 'id="step-review"' in html
    assert app.id_masked in html and number not in html
    assert tree.g1.name in html


@pytest.mark.parametrize("own_id", [True, False], ids=["own ID number", "mistyped ID number"])
def test_an_imported_member_who_joins_anonymously_is_sent_to_their_card(
    client, tree, own_id, django_capture_on_commit_callbacks
):
    """The number is an imported member's: the code logs the worker in as that member, who is
    already a member, not someone refused for another member's number (review finding 12)."""
    raw = id_number()
    imported = MemberFactory(union=tree.g1, mobile=NEW_MOBILE, user=None, join_channel="import", raw_id=raw)
    send_code(client, NEW_MOBILE, django_capture_on_commit_callbacks)
    data = join_data(tree, id_number=raw if own_id else id_number(), mobile=NEW_MOBILE, sms_code=last_code(NEW_MOBILE))
    resp = client.post(reverse("members:join"), data)
    assert resp.status_code == 302 and resp.url == reverse("members:card")
    imported.refresh_from_db()
    assert int(client.session["_auth_user_id"]) == imported.user_id
    assert not MembershipApplication.objects.exists()
    assert client.get(resp.url).status_code == 200  # the card opens


def test_a_former_imported_member_who_joins_anonymously_applies_again(client, tree, django_capture_on_commit_callbacks):
    raw = id_number()
    MemberFactory(union=tree.g1, mobile=NEW_MOBILE, user=None, status=Member.Status.LEFT, raw_id=raw)
    send_code(client, NEW_MOBILE, django_capture_on_commit_callbacks)
    data = join_data(tree, id_number=raw, mobile=NEW_MOBILE, sms_code=last_code(NEW_MOBILE))
    resp = client.post(reverse("members:join"), data)
    assert resp.status_code == 302 and resp.url == reverse("members:application")
    assert MembershipApplication.objects.get().mobile == NEW_MOBILE


def test_a_wrong_code_on_the_join_form_creates_nothing(client, tree, django_capture_on_commit_callbacks):
    send_code(client, NEW_MOBILE, django_capture_on_commit_callbacks)
    wrong = "000000" if last_code(NEW_MOBILE) != "000000" else "111111"
    number = id_number()
    resp = client.post(reverse("members:join"), join_data(tree, id_number=number, mobile=NEW_MOBILE, sms_code=wrong))
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "The code is wrong. You can try 4 more times with this code." in html
    assert not MembershipApplication.objects.exists() and not User.objects.filter(mobile=NEW_MOBILE).exists()


def test_a_bad_id_number_is_refused_before_the_code_is_used(client, tree, django_capture_on_commit_callbacks):
    send_code(client, NEW_MOBILE, django_capture_on_commit_callbacks)
    good = id_number()
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    resp = client.post(
        reverse("members:join"),
        join_data(tree, id_number=bad, mobile=NEW_MOBILE, sms_code=last_code(NEW_MOBILE)),
    )
    assert "check character is wrong" in resp.content.decode()
    assert not MembershipApplication.objects.exists()
    assert SmsCode.objects.get(mobile=NEW_MOBILE).used_at is None


def test_a_logged_in_worker_applies_with_their_own_mobile(client, worker, tree):
    client.force_login(worker)
    resp = client.get(reverse("members:join"))
    html = resp.content.decode()
    assert "137****0007" in html and 'name="sms_code"' not in html
    resp = client.post(reverse("members:join"), join_data(tree, mobile="13999999999"))
    assert resp.status_code == 302
    app = MembershipApplication.objects.get()
    assert app.applicant == worker and app.mobile == worker.mobile


def test_an_id_number_that_is_already_a_member_gets_a_message_and_nothing_is_created(client, worker, member, tree):
    client.force_login(worker)
    counts = (Member.objects.count(), MembershipApplication.objects.count(), User.objects.count())
    resp = client.post(reverse("members:join"), join_data(tree, id_number=member.id_number))
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "This ID number already belongs to a union member." in html
    # The box keeps what this worker typed; nothing of the member behind it is shown.
    assert member.name not in html and member.member_no not in html and member.mobile not in html
    assert (Member.objects.count(), MembershipApplication.objects.count(), User.objects.count()) == counts


def test_an_applicant_with_a_pending_application_is_sent_to_the_timeline(client, applicant, tree):
    client.force_login(applicant)
    assert client.get(reverse("members:join")).url == reverse("members:application")
    resp = client.post(reverse("members:join"), join_data(tree))
    assert resp.status_code == 302 and resp.url == reverse("members:application")
    assert MembershipApplication.objects.count() == 1


def test_a_login_without_a_mobile_number_cannot_apply(client, staff, tree):
    client.force_login(staff)
    resp = client.post(reverse("members:join"), join_data(tree))
    assert "Log in with your mobile number to apply." in resp.content.decode()
    assert 'id="join-form"' not in resp.content.decode()
    assert not MembershipApplication.objects.exists()


def test_a_member_who_opens_the_join_page_is_sent_to_the_card(client, member):
    client.force_login(member.user)
    assert client.get(reverse("members:join")).url == reverse("members:card")


def test_joining_through_a_station_link_attributes_the_station(client, tree, django_capture_on_commit_callbacks):
    url = reverse("members:station-join", args=[tree.station.code])
    page = client.get(url).content.decode()
    assert tree.station.name in page and tree.station.address in page
    send_code(client, NEW_MOBILE, django_capture_on_commit_callbacks)
    resp = client.post(url, join_data(tree, mobile=NEW_MOBILE, sms_code=last_code(NEW_MOBILE)))
    assert resp.status_code == 302
    app = MembershipApplication.objects.get()
    assert app.station == tree.station and app.channel == "station"
    assert tree.station.name in client.get(reverse("members:application")).content.decode()


def test_an_unknown_or_closed_station_link_is_not_found(client, tree):
    assert client.get(reverse("members:station-join", args=["nope"])).status_code == 404
    closed = StationFactory(code="closed-1", union=tree.street, is_active=False)
    assert client.get(reverse("members:station-join", args=[closed.code])).status_code == 404


def test_the_union_picker_offers_only_active_grassroots_and_joint_unions(client, tree):
    UnionFactory(name="湖州丝绸旧厂工会", kind="grassroots", code="G9", parent=tree.street, is_active=False)
    html = client.get(reverse("members:join")).content.decode()
    assert tree.g1.name in html and tree.g2.name in html
    assert tree.wx.name not in html and "旧厂" not in html
    found = client.get(reverse("members:union-options"), {"q": "丝绸"}).content.decode()
    assert tree.g1.name in found and tree.g2.name not in found and "旧厂" not in found
    # A station's own subtree comes first.
    near = client.get(reverse("members:union-options"), {"station": tree.station.code}).content.decode()
    assert tree.g1.name in near and tree.g2.name not in near


def test_it_refuses_a_union_that_does_not_hold_members(client, worker, tree):
    client.force_login(worker)
    resp = client.post(reverse("members:join"), join_data(tree, union=tree.wx.pk))
    assert "Choose a grassroots or joint union to join." in resp.content.decode()
    assert not MembershipApplication.objects.exists()


def test_it_needs_the_privacy_consent(client, worker, tree):
    client.force_login(worker)
    data = join_data(tree)
    del data["privacy_consent"]
    resp = client.post(reverse("members:join"), data)
    assert "Please read and accept the privacy policy." in resp.content.decode()
    assert not MembershipApplication.objects.exists()


# --- The application timeline --------------------------------------------------------------------------


def test_the_timeline_needs_a_login(client, tree):
    resp = client.get(reverse("members:application"))
    assert resp.status_code == 302 and resp.url.startswith(reverse("members:login") + "?next=")


def test_the_timeline_shows_a_rejection_with_its_reason(client, applicant, staff):
    app = MembershipApplication.objects.get()
    services.application_reject(application=app, actor=staff, reason="工作单位不在本工会范围")
    client.force_login(applicant)
    html = client.get(reverse("members:application")).content.decode()
    assert 'data-status="rejected"' in html and "工作单位不在本工会范围" in html


def test_the_timeline_shows_only_ones_own_application(client, applicant, other_member):
    client.force_login(other_member.user)
    html = client.get(reverse("members:application")).content.decode()
    assert 'id="already-member"' in html  # a member registered by their union
    assert MembershipApplication.objects.get().id_masked not in html


# --- The e-membership card ----------------------------------------------------------------------------


@pytest.fixture
def qr_data(monkeypatch):
    """Record what the page puts in its QR codes."""
    seen = []
    original = posters.qr_svg

    def recording(data, **kwargs):
        seen.append(data)
        return original(data, **kwargs)

    monkeypatch.setattr(posters, "qr_svg", recording)
    return seen


def test_the_card_carries_a_token_that_verifies_and_not_the_id_number(client, member, qr_data):
    client.force_login(member.user)
    resp = client.get(reverse("members:card"))
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "周**" in html and "周建新" not in html
    assert member.member_no in html and member.union.name in html and "2025-03-01" in html
    [url] = qr_data
    match = re.fullmatch(r"http://testserver/m/verify/([^/]+)/", url)
    assert match
    assert services.member_card_verify(match.group(1)) == member
    assert member.id_number not in url and member.id_number not in html and member.id_masked not in url
    # The SVG on the page is the QR code of that URL.
    assert posters.qr_svg(url, title="E-membership card QR code", css_class="qr card-qr") in html


def test_the_card_uses_the_public_site_address_when_set(client, member, settings, qr_data):
    settings.SITE_URL = "https://portal.example.cn/"
    client.force_login(member.user)
    client.get(reverse("members:card"))
    assert qr_data[0].startswith("https://portal.example.cn/m/verify/")


def test_the_card_page_has_a_constant_number_of_queries(client, member, django_assert_num_queries):
    client.force_login(member.user)
    with django_assert_num_queries(_session_queries() + 3):  # session, user, member with its union, unread count
        client.get(reverse("members:card"))
    for i in range(5):
        MemberFactory(union=member.union, mobile=f"1360000{i:04d}")
    with django_assert_num_queries(_session_queries() + 3):
        client.get(reverse("members:card"))


def test_the_card_sends_a_non_member_to_the_application_page(client, applicant):
    client.force_login(applicant)
    resp = client.get(reverse("members:card"))
    assert resp.status_code == 302 and resp.url == reverse("members:application")


def test_the_card_sends_a_suspended_member_away(client, member):
    Member.objects.filter(pk=member.pk).update(status=Member.Status.SUSPENDED)
    client.force_login(member.user)
    assert client.get(reverse("members:card")).status_code == 302


def test_the_card_needs_a_login(client, tree):
    resp = client.get(reverse("members:card"))
    assert resp.status_code == 302 and resp.url.startswith(reverse("members:login"))


def test_the_check_page_shows_a_valid_member_to_anyone(client, member):
    token = services.member_card_token(member)
    resp = client.get(reverse("members:card-verify", args=[token]))
    html = resp.content.decode()
    assert resp.status_code == 200 and 'data-valid="1"' in html
    assert "周**" in html and member.member_no in html and member.union.name in html
    assert "周建新" not in html and member.id_masked not in html


@pytest.mark.parametrize("token", ["garbage", "eyJuIjoiSFoxIn0:1abc:forged"])
def test_the_check_page_says_a_bad_token_is_invalid(client, tree, token):
    resp = client.get(reverse("members:card-verify", args=[token]))
    html = resp.content.decode()
    assert resp.status_code == 200 and 'data-valid="0"' in html and "Invalid or expired card" in html


def test_the_check_page_says_an_old_token_has_expired(client, member, settings):
    token = services.member_card_token(member)
    settings.MEMBER_CARD_TOKEN_MAX_AGE = -1
    html = client.get(reverse("members:card-verify", args=[token])).content.decode()
    assert 'data-valid="0"' in html and member.member_no not in html


def test_the_check_page_refuses_a_suspended_members_card(client, member):
    token = services.member_card_token(member)
    Member.objects.filter(pk=member.pk).update(status=Member.Status.SUSPENDED)
    assert 'data-valid="0"' in client.get(reverse("members:card-verify", args=[token])).content.decode()


# --- Transfers -----------------------------------------------------------------------------------------


def test_a_member_asks_to_transfer_and_sees_the_request(client, member, tree):
    client.force_login(member.user)
    resp = client.post(reverse("members:transfer"), {"to_union": tree.g2.pk, "reason": "换工作"})
    assert resp.status_code == 302
    transfer = Transfer.objects.get()
    assert (transfer.member, transfer.from_union, transfer.to_union) == (member, tree.g1, tree.g2)
    html = client.get(reverse("members:transfer")).content.decode()
    assert 'data-status="requested"' in html and tree.g2.name in html


def test_a_transfer_to_ones_own_union_is_refused_with_a_message(client, member, tree):
    client.force_login(member.user)
    resp = client.post(reverse("members:transfer"), {"to_union": tree.g1.pk})
    assert "You are already a member of this union." in resp.content.decode()
    assert not Transfer.objects.exists()


def test_the_transfer_page_is_for_members_only(client, applicant, tree):
    assert client.get(reverse("members:transfer")).status_code == 302
    client.force_login(applicant)
    resp = client.post(reverse("members:transfer"), {"to_union": tree.g2.pk})
    assert resp.status_code == 302 and not Transfer.objects.exists()


def test_the_transfer_page_lists_only_ones_own_transfers(client, member, other_member, tree):
    services.transfer_request(member=other_member, to_union=tree.g1, actor=other_member.user)
    client.force_login(member.user)
    html = client.get(reverse("members:transfer")).content.decode()
    assert 'id="transfers"' not in html


# --- Inbox, privacy, settings -------------------------------------------------------------------------


def test_the_inbox_shows_only_ones_own_notifications_newest_first_and_marks_them_read(client, member, other_member):
    old = Notification.objects.create(
        recipient=member.user, kind="a", title="旧消息", created_at=timezone.now() - dt.timedelta(days=1)
    )
    new = Notification.objects.create(recipient=member.user, kind="b", title="新消息", link="/m/card/")
    Notification.objects.create(recipient=other_member.user, kind="c", title="别人的消息")
    Notification.objects.create(recipient=member.user, kind="d", title="x", link="//evil.example/")
    client.force_login(member.user)
    html = client.get(reverse("core:inbox")).content.decode()
    assert "别人的消息" not in html
    assert html.index("新消息") < html.index("旧消息")
    assert "list__item_unread" in html and 'href="/m/card/"' in html and "evil.example" not in html
    assert Notification.objects.get(pk=new.pk).read_at and Notification.objects.get(pk=old.pk).read_at
    assert Notification.objects.get(title="别人的消息").read_at is None
    assert "list__item_unread" not in client.get(reverse("core:inbox")).content.decode()


def test_the_inbox_needs_a_login(client, tree):
    assert client.get(reverse("core:inbox")).status_code == 302


def test_the_privacy_page_shows_the_policy_version(client, settings, tree):
    settings.PRIVACY_POLICY_VERSION = "2026-07"
    html = client.get(reverse("members:privacy")).content.decode()
    assert "Version 2026-07" in html and "<title>Privacy policy · " in html


def test_elder_mode_is_kept_in_a_cookie_and_enlarges_the_page(client, tree):
    resp = client.post(reverse("members:elder-mode"), {"elder": "1", "next": "/privacy/"})
    assert resp.status_code == 302 and resp.url == "/privacy/"
    assert resp.cookies["elder"].value == "1"
    assert 'class="elder"' in client.get("/privacy/").content.decode()
    resp = client.post(reverse("members:elder-mode"), {"elder": "0", "next": "https://evil.example/"})
    assert resp.url == reverse("members:home") and resp.cookies["elder"].value == ""
    assert 'class="elder"' not in client.get("/").content.decode()


def test_the_language_switch_changes_the_page_language(tree):
    c = Client()
    c.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert '<html lang="en">' in c.get("/").content.decode()


@pytest.mark.parametrize(
    "url_name",
    ["home", "login", "join", "privacy", "me"],
)
def test_every_public_page_has_a_title_and_the_tab_bar(client, tree, url_name):
    html = client.get(reverse(f"members:{url_name}")).content.decode()
    assert re.search(r"<title>[^<]+ · Union service portal</title>", html)
    assert 'class="weui-tabbar tabbar"' in html and "vendor/weui/weui.min.css" in html


def test_no_page_loads_anything_from_another_site(client, member):
    client.force_login(member.user)
    for url in [
        "/",
        reverse("members:card"),
        reverse("core:inbox"),
        reverse("members:me"),
        reverse("members:transfer"),
    ]:
        html = client.get(url).content.decode()
        assert not re.search(r'(src|href)="(https?:)?//', html), url


@pytest.mark.django_db(transaction=True)
def test_a_gateway_failure_says_so_and_the_worker_may_ask_again_at_once(client, settings):
    settings.SMS_BACKEND = "core.sms.HttpSmsBackend"
    settings.SMS_PROVIDER_URL = "http://127.0.0.1:9/"  # nothing listens: connection refused
    client.raise_request_exception = False
    resp = client.post(reverse("members:login-code"), {"mobile": NEW_MOBILE}, HTTP_HX_REQUEST="true")
    assert resp.status_code == 200
    assert "The SMS could not be sent. Please try again in a moment." in resp.content.decode()
    assert not SmsCode.objects.filter(mobile=NEW_MOBILE).exists()
    settings.SMS_BACKEND = "core.sms.LocmemSmsBackend"  # the gateway is back
    resp = client.post(reverse("members:login-code"), {"mobile": NEW_MOBILE}, HTTP_HX_REQUEST="true")
    assert "A code was sent to 138****0042" in resp.content.decode()
    assert [m["mobile"] for m in sms.outbox] == [NEW_MOBILE]


def test_a_union_choice_with_a_superscript_digit_is_a_form_error_not_a_500(client, tree, member):
    client.raise_request_exception = False
    resp = client.post(reverse("members:join"), {"union": "²", "name": "x"})
    assert resp.status_code == 200
    client.force_login(member.user)
    resp = client.post(reverse("members:transfer"), {"to_union": "²", "reason": ""})
    assert resp.status_code == 200
    assert "Choose a grassroots or joint union to join." in resp.content.decode()


def test_a_form_error_keeps_the_typed_id_number_on_a_page_that_is_not_cached(client, tree):
    number = id_number()
    data = join_data(tree, id_number=number, mobile=NEW_MOBILE, sms_code="123456")
    del data["privacy_consent"]
    resp = client.post(reverse("members:join"), data)
    assert resp.status_code == 200 and resp.context["form"].errors["privacy_consent"]
    html = resp.content.decode()
    assert f'value="{number}"' in html  # the worker does not type 18 characters again
    assert "no-store" in resp["Cache-Control"]
    assert "inputmode" in html and "data-id-number" in html
    # The box is empty on a fresh page (nothing is ever filled in from stored data).
    assert number not in client.get(reverse("members:join")).content.decode()


def test_a_member_registered_by_their_union_is_not_told_they_have_not_applied(client, member):
    client.force_login(member.user)
    resp = client.get(reverse("members:application"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = resp.content.decode()
    assert 'id="already-member"' in html and member.union.name in html
    assert "您还没有申请入会" not in html
    assert reverse("members:card") in html


def test_the_card_says_until_when_its_code_is_valid(client, member, settings):
    settings.MEMBER_CARD_TOKEN_MAX_AGE = 600
    client.force_login(member.user)
    before = timezone.localtime() + dt.timedelta(seconds=600)
    html = client.get(reverse("members:card"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    shown = re.search(r'此码有效期至 <span class="date">([0-9: -]+)</span>', html).group(1)
    assert shown in {before.strftime("%Y-%m-%d %H:%M"), (before + dt.timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M")}
    assert "每次打开" not in html and "changes every time" not in html


def test_logging_in_before_any_code_was_sent_says_to_ask_for_one(client, member):
    resp = client.post(reverse("members:login"), {"mobile": member.mobile, "sms_code": "123456"})
    html = resp.content.decode()
    assert "No code has been sent to this number yet. Please ask for a code first." in html
    assert "This code no longer works" not in html
