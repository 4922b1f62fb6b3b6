"""Reads of the members app, tested without their doors."""

import pytest

from members.models import Member, Station, Union
from members.selectors import member_verify_lookup, station_open, union_joinable, unions_for_picker

pytestmark = pytest.mark.django_db

FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def test_the_verify_lookup_finds_an_active_member_by_a_fullwidth_id_number_in_one_query(
    member, django_assert_num_queries
):
    with django_assert_num_queries(1):
        found = member_verify_lookup(id_number=member.id_number.translate(FULLWIDTH))
        assert (found, found.union.code) == (member, member.union.code)


@pytest.mark.parametrize("status", [Member.Status.LEFT, Member.Status.SUSPENDED])
def test_the_verify_lookup_does_not_find_a_member_who_left_or_is_suspended(member, status):
    Member.objects.filter(pk=member.pk).update(status=status)
    assert member_verify_lookup(id_number=member.id_number) is None


def test_a_union_is_joinable_only_when_active_and_holding_members(tree):
    assert union_joinable(str(tree.g1.pk)) == tree.g1 and union_joinable(tree.g2.pk) == tree.g2
    Union.objects.filter(pk=tree.g2.pk).update(is_active=False)
    assert [union_joinable(pk) for pk in (tree.g2.pk, tree.street.pk, "１", "x")] == [None, None, None, None]


def test_the_picker_shows_the_stations_own_subtree_first_and_never_an_inactive_union(tree):
    assert unions_for_picker(station=tree.station) == [tree.g1]
    assert unions_for_picker() == [tree.g2, tree.g1]  # by path: HZ/NX/… before HZ/WX/…
    Union.objects.filter(pk=tree.g1.pk).update(is_active=False)
    assert unions_for_picker(station=tree.station) == [tree.g2]


def test_a_closed_station_is_not_open(tree):
    assert station_open("wx-001") == tree.station
    Station.objects.filter(pk=tree.station.pk).update(is_active=False)
    assert station_open("wx-001") is None
