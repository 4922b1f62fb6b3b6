"""Membership services at their edges: each refusal with the input it refuses, and the branches
the main suites do not take (a member without a login, a number unchanged)."""

import pytest

from core.errors import ServiceError
from core.models import AuditEntry, Notification
from members import selectors, services
from members.models import Member, MembershipApplication, MutualAidEnrolment, Transfer
from tests.factories import MemberFactory, UnionFactory, UserFactory, id_number

pytestmark = pytest.mark.django_db


def refused(func, **kwargs) -> ServiceError:
    with pytest.raises(ServiceError) as exc:
        func(**kwargs)
    return exc.value


def submit(tree, *, name="李娜", mobile="13700000001", union=None, login_mobile=None):
    return services.application_submit(
        applicant=UserFactory(mobile=login_mobile or mobile),
        name=name,
        id_number=id_number(),
        mobile=mobile,
        union=union or tree.g1,
        privacy_consent=True,
    )


@pytest.fixture
def no_login(tree):
    """A member added by staff (an import) who never signed in: no login of their own."""
    return MemberFactory(union=tree.g1, mobile="13900000009", name="陈静")


# --- Joining --------------------------------------------------------------------------------


def test_it_refuses_an_application_with_a_blank_name(tree):
    assert refused(submit, tree=tree, name="  ").code == "name"
    assert not MembershipApplication.objects.exists()


def test_it_refuses_an_application_with_another_members_mobile(tree, member):
    assert refused(submit, tree=tree, mobile=member.mobile, login_mobile="13700000009").code == "mobile_taken"
    assert not MembershipApplication.objects.exists()


def test_approval_refuses_a_mobile_taken_by_another_member_since_the_application(tree, staff):
    app = submit(tree, mobile="13700000001")
    MemberFactory(union=tree.g2, mobile="13700000001")  # joined elsewhere meanwhile, with the same number

    error = refused(services.application_approve, application=app, actor=staff)

    assert (error.code, error.kind) == ("mobile_taken", "conflict")
    app.refresh_from_db()
    assert app.status == "pending" and app.member is None
    assert Member.objects.filter(mobile="13700000001").count() == 1
    assert not AuditEntry.objects.filter(action="members.application.approved").exists()


# --- A member's mobile ------------------------------------------------------------------------


def test_a_mobile_change_refuses_a_malformed_number(member, staff):
    assert refused(services.member_mobile_change, member=member, mobile="1390000", actor=staff).code == "mobile"
    member.refresh_from_db()
    assert member.mobile == "13900000001"
    assert not AuditEntry.objects.filter(action="members.member.mobile_changed").exists()


def test_a_mobile_change_to_the_same_number_changes_nothing_and_keeps_the_login(member, staff):
    password = member.user.password
    same = services.member_mobile_change(member=member, mobile="１３９０００００００１", actor=staff)  # fullwidth
    assert same.mobile == "13900000001"
    member.user.refresh_from_db()
    assert member.user.password == password  # its sessions go on
    assert not AuditEntry.objects.filter(action="members.member.mobile_changed").exists()


def test_a_mobile_change_of_a_member_without_a_login_is_recorded(no_login, staff):
    services.member_mobile_change(member=no_login, mobile="13500000005", actor=staff)
    no_login.refresh_from_db()
    assert (no_login.mobile, no_login.user) == ("13500000005", None)
    entry = AuditEntry.objects.get(action="members.member.mobile_changed")
    assert (entry.old["mobile"], entry.new["mobile"]) == ("139****0009", "135****0005")


def test_a_mobile_change_leaves_a_staff_login_alone(tree, staff):
    # a member who is also staff signs in with a password: the login keeps its number and sessions
    colleague = UserFactory(mobile="13900000008", username="colleague", is_staff=True)
    as_member = MemberFactory(union=tree.g1, mobile="13900000008", user=colleague)
    password = colleague.password

    services.member_mobile_change(member=as_member, mobile="13500000006", actor=staff)

    colleague.refresh_from_db()
    as_member.refresh_from_db()
    assert (colleague.mobile, colleague.password) == ("13900000008", password)
    assert (as_member.mobile, as_member.user) == ("13500000006", colleague)


# --- Transfers ----------------------------------------------------------------------------------


def test_a_member_who_left_cannot_ask_for_a_transfer(member, tree):
    Member.objects.filter(pk=member.pk).update(status=Member.Status.LEFT)
    member.refresh_from_db()
    error = refused(services.transfer_request, member=member, to_union=tree.g2, actor=member.user)
    assert error.code == "not_active"
    assert not Transfer.objects.exists()


@pytest.mark.parametrize("target", ["district", "inactive"])
def test_a_transfer_goes_only_to_an_active_union_that_holds_members(member, tree, target):
    union = tree.nx if target == "district" else UnionFactory(kind="grassroots", code="G8", parent=tree.nx)
    if target == "inactive":
        union.is_active = False
        union.save()
    error = refused(services.transfer_request, member=member, to_union=union, actor=member.user)
    assert error.code == "union"
    assert not Transfer.objects.exists()


def test_a_transfer_is_released_once(member, tree, staff):
    transfer = services.transfer_request(member=member, to_union=tree.g2, actor=member.user)
    services.transfer_release(transfer=transfer, actor=staff)
    assert refused(services.transfer_release, transfer=transfer, actor=staff).code == "bad_state"
    assert AuditEntry.objects.filter(action="members.transfer.released").count() == 1


def test_a_transfer_rejection_needs_a_reason(member, tree, staff):
    transfer = services.transfer_request(member=member, to_union=tree.g2, actor=member.user)
    assert refused(services.transfer_reject, transfer=transfer, actor=staff, reason=" \n").code == "reason_required"
    assert Transfer.objects.get(pk=transfer.pk).status == "requested"
    assert not AuditEntry.objects.filter(action="members.transfer.rejected").exists()


def test_a_closed_transfer_cannot_be_rejected(member, tree, staff, other_staff):
    transfer = services.transfer_request(member=member, to_union=tree.g2, actor=member.user)
    services.transfer_release(transfer=transfer, actor=staff)
    services.transfer_accept(transfer=transfer, actor=other_staff)

    error = refused(services.transfer_reject, transfer=transfer, actor=other_staff, reason="名额已满")

    assert error.code == "bad_state"
    assert Transfer.objects.get(pk=transfer.pk).status == "completed"
    assert not AuditEntry.objects.filter(action="members.transfer.rejected").exists()


def test_a_member_without_a_login_is_transferred_and_rejected_without_a_notification(
    no_login, tree, staff, other_staff, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = services.transfer_request(member=no_login, to_union=tree.g2, actor=staff)
        services.transfer_reject(transfer=first, actor=staff, reason="会费未结清")
        second = services.transfer_request(member=no_login, to_union=tree.g2, actor=staff)
        services.transfer_release(transfer=second, actor=staff)
        services.transfer_accept(transfer=second, actor=other_staff)

    no_login.refresh_from_db()
    assert no_login.union == tree.g2
    assert Transfer.objects.get(pk=first.pk).status == "rejected"
    assert Transfer.objects.get(pk=second.pk).status == "completed"
    assert not Notification.objects.filter(kind__in=["members.transfer.accepted", "members.transfer.rejected"]).exists()


# --- Mutual medical insurance -------------------------------------------------------------------


def test_a_suspended_member_cannot_enrol_in_mutual_aid(member, staff):
    Member.objects.filter(pk=member.pk).update(status=Member.Status.SUSPENDED)
    member.refresh_from_db()
    assert refused(services.mutual_aid_enrol, member=member, year=2026, actor=staff).code == "not_active"
    assert not MutualAidEnrolment.objects.exists()


# --- The staff scope ------------------------------------------------------------------------------


def test_a_worker_manages_no_union_and_sees_no_transfer(member, tree, staff):
    transfer = services.transfer_request(member=member, to_union=tree.g2, actor=member.user)
    assert selectors.user_can_manage(member.user, tree.g1) is False
    assert list(selectors.transfers_visible_to(member.user)) == []
    assert list(selectors.transfers_visible_to(staff)) == [transfer]
    # nor may a worker act as staff: the service refuses it
    error = refused(services.transfer_release, transfer=transfer, actor=member.user)
    assert (error.code, error.kind) == ("forbidden", "forbidden")
    assert Transfer.objects.get(pk=transfer.pk).status == "requested"
