"""Reads of the members app, tested without their doors."""

import pytest

from members.models import Member
from members.selectors import member_verify_lookup

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
