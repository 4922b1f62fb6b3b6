"""Transfer decisions are taken on the locked row, and only for active members (review finding 12)."""

import pytest

from core.errors import ServiceError
from core.models import AuditEntry
from members import services
from members.models import Member, Transfer

pytestmark = pytest.mark.django_db


@pytest.fixture
def stale(tree, member, staff):
    """A staff member's copy of a transfer read while it was requested; the old union has since
    released it (the race: the copy says 'requested', the row says 'released')."""
    requested = services.transfer_request(member=member, to_union=tree.g2, actor=member.user)
    services.transfer_release(transfer=Transfer.objects.get(pk=requested.pk), actor=staff)
    assert requested.status == Transfer.Status.REQUESTED
    return requested


def test_the_old_union_cannot_reject_a_transfer_it_has_just_released(stale, staff):
    with pytest.raises(ServiceError) as exc:
        services.transfer_reject(transfer=stale, actor=staff, reason="再想想")
    assert exc.value.code == "forbidden"
    assert Transfer.objects.get(pk=stale.pk).status == Transfer.Status.RELEASED
    assert not AuditEntry.objects.filter(action="members.transfer.rejected").exists()


def test_the_new_union_may_reject_a_released_transfer_from_an_old_copy(stale, other_staff):
    services.transfer_reject(transfer=stale, actor=other_staff, reason="名额已满")
    assert Transfer.objects.get(pk=stale.pk).status == Transfer.Status.REJECTED


def test_the_outsider_still_cannot_reject(tree, member, district_staff):
    """吴兴区 staff manage the old union only: once released, the decision is 南浔区's."""
    t = services.transfer_request(member=member, to_union=tree.g2, actor=member.user)
    services.transfer_release(transfer=t, actor=district_staff)
    with pytest.raises(ServiceError) as exc:
        services.transfer_reject(transfer=t, actor=district_staff, reason="x")
    assert exc.value.code == "forbidden"


@pytest.mark.parametrize("status", [Member.Status.LEFT, Member.Status.SUSPENDED])
def test_a_member_who_is_no_longer_active_cannot_be_taken_in(tree, member, staff, other_staff, status):
    t = services.transfer_request(member=member, to_union=tree.g2, actor=member.user)
    services.transfer_release(transfer=t, actor=staff)
    Member.objects.filter(pk=member.pk).update(status=status)
    with pytest.raises(ServiceError) as exc:
        services.transfer_accept(transfer=t, actor=other_staff)
    assert exc.value.code == "not_active"
    member.refresh_from_db()
    assert member.union == tree.g1
    assert Transfer.objects.get(pk=t.pk).status == Transfer.Status.RELEASED
    assert not AuditEntry.objects.filter(action="members.transfer.accepted").exists()
    services.transfer_reject(transfer=t, actor=other_staff, reason="已退会")  # what is left to do


def test_the_admin_reports_an_inactive_member_s_transfer(client, tree, member, staff, other_staff):
    t = services.transfer_request(member=member, to_union=tree.g2, actor=member.user)
    services.transfer_release(transfer=t, actor=staff)
    Member.objects.filter(pk=member.pk).update(status=Member.Status.LEFT)
    client.force_login(other_staff)
    resp = client.post("/admin/members/transfer/", {"action": "accept", "_selected_action": [t.pk]})
    assert resp.status_code == 302
    assert Transfer.objects.get(pk=t.pk).status == Transfer.Status.RELEASED
    assert Member.objects.get(pk=member.pk).union == tree.g1
