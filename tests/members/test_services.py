"""Membership services: joining, approval, transfers, mutual aid, SMS codes."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from core import sms
from core.crypto import id_number_index
from core.errors import ServiceError
from core.models import AuditEntry, Notification
from members import services
from members.models import Member, MembershipApplication, MutualAidEnrolment, SmsCode, Transfer
from tests.factories import UserFactory, id_number

pytestmark = pytest.mark.django_db


def _apply(tree, user=None, number=None, mobile="13700000001", **kwargs):
    user = user or UserFactory(mobile=mobile)
    return services.application_submit(
        applicant=user,
        name="李娜",
        id_number=number or id_number(),
        mobile=mobile,
        union=kwargs.pop("union", tree.g1),
        privacy_consent=kwargs.pop("privacy_consent", True),
        **kwargs,
    )


def test_an_application_stores_the_id_number_encrypted_with_a_blind_index(tree):
    number = id_number()
    app = _apply(tree, number=number)
    with connection.cursor() as cur:
        cur.execute("SELECT id_number, id_index, id_masked FROM members_membershipapplication WHERE id = %s", [app.pk])
        stored, index, masked = cur.fetchone()
    assert number not in stored
    assert index == id_number_index(number) and number not in index
    assert masked == number[:6] + "********" + number[14:]
    assert MembershipApplication.objects.get(pk=app.pk).id_number == number


def test_it_refuses_a_second_pending_application_for_the_same_person(tree):
    number = id_number()
    _apply(tree, number=number)
    with pytest.raises(ServiceError) as exc:
        _apply(tree, number=number, mobile="13700000002")
    assert exc.value.code == "pending_exists"
    assert MembershipApplication.objects.count() == 1


def test_it_refuses_an_id_number_that_is_already_a_member_and_creates_nothing(tree, member):
    with pytest.raises(ServiceError) as exc:
        _apply(tree, number=member.id_number)
    assert exc.value.code == "already_member"
    assert MembershipApplication.objects.count() == 0
    assert AuditEntry.objects.count() == 0


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [({"number": "110105194912310021"}, "id_check"), ({"privacy_consent": False}, "privacy_consent")],
)
def test_it_refuses_bad_input_with_a_code(tree, kwargs, code):
    with pytest.raises(ServiceError) as exc:
        _apply(tree, **kwargs)
    assert exc.value.code == code
    assert MembershipApplication.objects.count() == 0


def test_it_refuses_joining_a_district_union(tree):
    with pytest.raises(ServiceError) as exc:
        _apply(tree, union=tree.wx)
    assert exc.value.code == "union"


def test_approval_creates_the_member_audits_and_notifies_after_commit(tree, staff, django_capture_on_commit_callbacks):
    app = _apply(tree, station=tree.station)
    with django_capture_on_commit_callbacks(execute=True):
        member = services.application_approve(application=app, actor=staff)
    member.refresh_from_db()
    assert member.union == tree.g1 and member.station == tree.station and member.join_channel == "station"
    assert member.member_no == services.member_number(member.pk)
    assert (member.gender, member.birth_date) == (
        "M" if int(member.id_number[16]) % 2 else "F",
        dt.date(int(member.id_number[6:10]), int(member.id_number[10:12]), int(member.id_number[12:14])),
    )
    entry = AuditEntry.objects.get(action="members.application.approved")
    assert entry.actor == staff and entry.old == {"status": "pending"} and entry.new["status"] == "approved"
    note = Notification.objects.get(recipient=app.applicant, kind="members.application.approved")
    assert note.sms_sent_at is not None
    assert sms.outbox and sms.outbox[-1]["mobile"] == "13700000001"


def test_nothing_is_notified_when_the_transaction_rolls_back(tree, staff, django_capture_on_commit_callbacks):
    app = _apply(tree)
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            services.application_approve(application=app, actor=staff)
            raise RuntimeError("boom")
    assert Member.objects.count() == 0
    assert not AuditEntry.objects.filter(action="members.application.approved").exists()
    assert callbacks == []


def test_staff_of_another_union_cannot_approve(tree, other_staff):
    app = _apply(tree)
    with pytest.raises(ServiceError) as exc:
        services.application_approve(application=app, actor=other_staff)
    assert exc.value.code == "forbidden"
    app.refresh_from_db()
    assert app.status == "pending" and Member.objects.count() == 0


def test_district_staff_can_approve_in_their_subtree(tree, district_staff):
    app = _apply(tree)
    services.application_approve(application=app, actor=district_staff)
    assert Member.objects.count() == 1


def test_an_application_is_decided_once(tree, staff):
    app = _apply(tree)
    services.application_approve(application=app, actor=staff)
    with pytest.raises(ServiceError) as exc:
        services.application_reject(application=app, actor=staff, reason="重复")
    assert exc.value.code == "not_pending"


def test_rejection_needs_a_reason_and_frees_the_person_to_apply_again(tree, staff):
    app = _apply(tree)
    with pytest.raises(ServiceError):
        services.application_reject(application=app, actor=staff, reason=" ")
    services.application_reject(application=app, actor=staff, reason="单位信息不符")
    app.refresh_from_db()
    assert app.status == "rejected" and app.reject_reason == "单位信息不符"
    _apply(tree, user=app.applicant, number=app.id_number, mobile=app.mobile)
    assert MembershipApplication.objects.filter(status="pending").count() == 1


def test_the_card_token_carries_the_member_number_not_the_id_number(member):
    token = services.member_card_token(member)
    assert member.id_number not in token and member.id_number[-6:] not in token
    assert services.member_card_verify(token) == member
    assert services.member_card_verify(token + "x") is None
    member.status = Member.Status.LEFT
    member.save()
    assert services.member_card_verify(token) is None


def test_a_card_token_expires(member, settings):
    token = services.member_card_token(member)
    settings.MEMBER_CARD_TOKEN_MAX_AGE = -1
    assert services.member_card_verify(token) is None


def test_a_transfer_is_released_by_the_old_union_and_accepted_by_the_new(tree, member, staff, other_staff):
    t = services.transfer_request(member=member, to_union=tree.g2, reason="换工作", actor=member.user)
    with pytest.raises(ServiceError):
        services.transfer_accept(transfer=t, actor=other_staff)  # not released yet
    with pytest.raises(ServiceError):
        services.transfer_release(transfer=t, actor=other_staff)  # not the old union
    services.transfer_release(transfer=t, actor=staff)
    with pytest.raises(ServiceError):
        services.transfer_accept(transfer=t, actor=staff)  # not the new union
    services.transfer_accept(transfer=t, actor=other_staff)
    member.refresh_from_db()
    t.refresh_from_db()
    assert member.union == tree.g2 and t.status == Transfer.Status.COMPLETED
    # The history keeps the old union.
    assert [h.union_id for h in member.history.order_by("history_date")][-2:] == [tree.g1.pk, tree.g2.pk]
    assert list(AuditEntry.objects.filter(object_type="members.transfer").values_list("action", flat=True)) == [
        "members.transfer.accepted",
        "members.transfer.released",
        "members.transfer.requested",
    ]


def test_one_open_transfer_at_a_time(tree, member):
    services.transfer_request(member=member, to_union=tree.g2, actor=member.user)
    with pytest.raises(ServiceError) as exc:
        services.transfer_request(member=member, to_union=tree.g2, actor=member.user)
    assert exc.value.code == "transfer_open"


def test_mutual_aid_enrolment_is_once_per_year(member):
    services.mutual_aid_enrol(member=member, year=2025)
    services.mutual_aid_enrol(member=member, year=2025)
    services.mutual_aid_enrol(member=member, year=2026)
    assert MutualAidEnrolment.objects.filter(member=member).count() == 2


def test_participation_rates_roll_up_the_tree(tree, city_staff):
    from members.selectors import participation_rates
    from tests.factories import MemberFactory

    members = [MemberFactory(union=tree.g1) for _ in range(3)] + [MemberFactory(union=tree.g2)]
    for m in members[:2]:
        services.mutual_aid_enrol(member=m, year=2025)
    rows = {r["union"].code: r for r in participation_rates(user=city_staff, year=2025)}
    assert (rows["G1"]["members"], rows["G1"]["enrolled"]) == (3, 2)
    assert (rows["WX"]["members"], rows["HZ"]["members"], rows["HZ"]["enrolled"]) == (3, 4, 2)
    assert rows["HZ"]["rate"] == pytest.approx(50.0)
    assert rows["G2"]["rate"] == 0


def _code_from_outbox(mobile):
    import re

    text = next(m["text"] for m in reversed(sms.outbox) if m["mobile"] == mobile)
    return re.search(r"\d{6}", text).group()


def test_an_sms_code_is_stored_hashed_and_used_once(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.sms_code_send(mobile="13600000000", ip="1.2.3.4")
    code = _code_from_outbox("13600000000")
    assert not SmsCode.objects.filter(code_hash__contains=code).exists()
    assert services.sms_code_check(mobile="13600000000", code=code)
    assert not services.sms_code_check(mobile="13600000000", code=code)


def test_an_sms_code_expires_after_five_minutes(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.sms_code_send(mobile="13600000000", ip="1.2.3.4")
    SmsCode.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert not services.sms_code_check(mobile="13600000000", code=_code_from_outbox("13600000000"))


def test_an_sms_code_dies_after_five_wrong_attempts(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.sms_code_send(mobile="13600000000", ip="1.2.3.4")
    code = _code_from_outbox("13600000000")
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        assert not services.sms_code_check(mobile="13600000000", code=wrong)
    assert not services.sms_code_check(mobile="13600000000", code=code)


def test_sms_codes_are_rate_limited_per_number_and_per_ip(db, settings):
    settings.SMS_RESEND_SECONDS = 0
    settings.SMS_RATE_PER_MOBILE = "2/h"
    settings.SMS_RATE_PER_IP = "3/h"
    services.sms_code_send(mobile="13600000000", ip="1.1.1.1")
    services.sms_code_send(mobile="13600000000", ip="1.1.1.1")
    with pytest.raises(ServiceError) as exc:
        services.sms_code_send(mobile="13600000000", ip="1.1.1.1")
    assert exc.value.code == "rate_limited"
    services.sms_code_send(mobile="13600000001", ip="2.2.2.2")
    services.sms_code_send(mobile="13600000002", ip="2.2.2.2")
    services.sms_code_send(mobile="13600000003", ip="2.2.2.2")
    with pytest.raises(ServiceError):
        services.sms_code_send(mobile="13600000004", ip="2.2.2.2")
    assert SmsCode.objects.filter(mobile="13600000004").count() == 0


def test_a_code_cannot_be_resent_within_a_minute(db):
    services.sms_code_send(mobile="13600000000", ip="1.1.1.1")
    with pytest.raises(ServiceError) as exc:
        services.sms_code_send(mobile="13600000000", ip="1.1.1.1")
    assert exc.value.code == "too_soon"


def test_first_login_links_an_imported_member(tree):
    from tests.factories import MemberFactory

    m = MemberFactory(union=tree.g1, mobile="13500000000", join_channel="import")
    user = services.worker_user_for_mobile("13500000000")
    m.refresh_from_db()
    assert m.user == user and not user.has_usable_password()


@pytest.mark.parametrize("status", [Member.Status.LEFT, Member.Status.SUSPENDED])
def test_a_former_member_rejoins_on_the_same_record(tree, member, staff, other_staff, status):
    member.status = status
    member.save()
    before = member.history.count()
    app = services.application_submit(
        applicant=member.user, name=member.name, id_number=member.id_number, mobile=member.mobile,
        union=tree.g2, employment_form="courier", privacy_consent=True,
    )  # fmt: skip
    rejoined = services.application_approve(application=app, actor=other_staff)
    assert Member.objects.count() == 1
    assert rejoined.pk == member.pk and rejoined.member_no == member.member_no
    member.refresh_from_db()
    assert (member.status, member.union, member.employment_form) == ("active", tree.g2, "courier")
    assert member.joined_on == timezone.localdate() and member.user == app.applicant
    assert member.history.count() > before  # the earlier membership stays in the history
    assert AuditEntry.objects.get(action="members.application.approved").new["rejoined"] is True


def test_an_active_member_still_cannot_apply_again(tree, member):
    with pytest.raises(ServiceError) as exc:
        _apply(tree, user=member.user, number=member.id_number, mobile=member.mobile)
    assert exc.value.code == "already_member"


# --- A member's status, changed by staff ----------------------------------------------------------


def test_a_status_change_writes_its_audit_entry_with_the_reason(member, staff):
    services.member_status_change(member=member, actor=staff, status="left", reason=" 已退休 ")
    assert Member.objects.get(pk=member.pk).status == "left"
    entry = AuditEntry.objects.get(action="members.member.status_changed")
    assert (entry.actor, entry.object_id, entry.old, entry.new) == (
        staff,
        str(member.pk),
        {"status": "active"},
        {"status": "left", "reason": "已退休"},
    )


def test_it_refuses_a_status_change_by_staff_of_another_union(member, other_staff):
    with pytest.raises(ServiceError) as exc:
        services.member_status_change(member=member, actor=other_staff, status="suspended", reason="篡改")
    assert exc.value.code == "forbidden"
    assert Member.objects.get(pk=member.pk).status == "active"
    assert not AuditEntry.objects.filter(action="members.member.status_changed").exists()


@pytest.mark.parametrize(
    ("start", "status", "reason", "code"),
    [
        ("active", "suspended", "  ", "reason_required"),
        ("active", "gone", "理由", "invalid_status"),
        ("active", "active", "理由", "status_change_not_allowed"),
        ("left", "active", "理由", "status_change_not_allowed"),
        ("left", "suspended", "理由", "status_change_not_allowed"),
    ],
)
def test_it_refuses_a_status_change_it_does_not_allow(member, staff, start, status, reason, code):
    Member.objects.filter(pk=member.pk).update(status=start)
    member.refresh_from_db()
    with pytest.raises(ServiceError) as exc:
        services.member_status_change(member=member, actor=staff, status=status, reason=reason)
    assert exc.value.code == code
    assert Member.objects.get(pk=member.pk).status == start
    assert not AuditEntry.objects.filter(action="members.member.status_changed").exists()


def test_a_suspended_member_can_be_reactivated(member, staff):
    services.member_status_change(member=member, actor=staff, status="suspended", reason="暂停")
    services.member_status_change(member=member, actor=staff, status="active", reason="恢复")
    assert Member.objects.get(pk=member.pk).status == "active"
    assert AuditEntry.objects.filter(action="members.member.status_changed").count() == 2
