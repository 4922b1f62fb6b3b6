"""Who sees hardship cases and candidates: hardship staff of the case's union subtree only; search,
not browse, except for supervisors; every opening logged in an append-only access log."""

from decimal import Decimal

import pytest

from core.errors import ServiceError
from hardship import selectors, services
from hardship.models import AccessLog, Candidate, Case, ScreeningRule
from tests.factories import MemberFactory, StaffFactory, UserFactory
from tests.hardship.conftest import grant_hardship


@pytest.fixture
def other_case(other_member, tree):
    """A case in 南浔区 (G2), opened by 南浔区's own hardship staff."""
    nx_staff = grant_hardship(StaffFactory(username="nxcase", union=tree.nx))
    return services.case_open(head=other_member, actor=nx_staff)


def test_hardship_staff_see_the_cases_of_their_subtree_only(
    open_case, other_case, case_staff, case_supervisor, case_outsider, city_staff
):
    assert list(selectors.cases_visible_to(case_staff)) == [open_case]
    assert list(selectors.cases_visible_to(case_supervisor)) == [open_case]
    assert list(selectors.cases_visible_to(case_outsider)) == [other_case]
    city = grant_hardship(city_staff)
    assert set(selectors.cases_visible_to(city)) == {open_case, other_case}


def test_staff_without_hardship_permissions_see_nothing(open_case, city_staff, member, tree):
    # Staff who manage the members of their unions but hold no hardship permission.
    plain = StaffFactory(username="g1plain", union=tree.g1)
    assert plain.has_perm("members.view_member")
    assert not selectors.cases_visible_to(plain).exists()
    assert not selectors.cases_visible_to(city_staff).exists()
    assert not selectors.candidates_visible_to(plain).exists()
    assert not selectors.cases_visible_to(member.user).exists()


def test_a_permission_without_a_union_sees_nothing_and_a_superuser_sees_all(open_case, other_case):
    no_union = grant_hardship(StaffFactory(username="nounion", union=None))
    assert not selectors.cases_visible_to(no_union).exists()
    boss = UserFactory(username="root", is_staff=True, is_superuser=True)
    assert selectors.cases_visible_to(boss).count() == 2


def test_candidates_follow_the_same_rule(member, other_member, case_staff, case_outsider, tree):
    rule = ScreeningRule.objects.create(name="低保", kind="low_income")
    mine = Candidate.objects.create(
        member=member, union=tree.g1, rule=rule, period="2025-03", evidence={}, evidence_key="a"
    )
    theirs = Candidate.objects.create(
        member=other_member, union=tree.g2, rule=rule, period="2025-03", evidence={}, evidence_key="b"
    )
    assert list(selectors.candidates_visible_to(case_staff)) == [mine]
    assert list(selectors.candidates_visible_to(case_outsider)) == [theirs]
    only_cases = grant_hardship(StaffFactory(username="casesonly", union=tree.g1), "view_case")
    assert not selectors.candidates_visible_to(only_cases).exists()
    with pytest.raises(ServiceError) as exc:
        services.candidate_dismiss(candidate=mine, actor=case_outsider, note="不是本区")
    assert exc.value.code == "forbidden"
    mine.refresh_from_db()
    assert mine.state == Candidate.State.OPEN


# --- Search, not browse --------------------------------------------------------------------------


def test_a_case_is_found_by_number_member_number_id_number_or_exact_name(open_case, member, case_staff):
    for query in (open_case.case_no, open_case.case_no.lower(), member.member_no, member.id_number, member.name):
        assert list(selectors.case_search(user=case_staff, query=query)) == [open_case], query
    for query in ("", "  ", member.name[:1], member.id_number[:10], "KN1999-000001"):
        assert not selectors.case_search(user=case_staff, query=query).exists(), query


def test_the_outsider_finds_nothing_of_another_union(open_case, member, case_outsider):
    for query in (open_case.case_no, member.member_no, member.id_number, member.name):
        assert not selectors.case_search(user=case_outsider, query=query).exists()


def test_only_supervisors_list_all_cases_without_a_query(tree, open_case, other_case, case_staff, case_supervisor):
    services.case_open(head=MemberFactory(union=tree.g1), actor=case_staff)
    assert not selectors.cases_listable_by(case_staff).exists()
    assert list(selectors.cases_listable_by(case_staff, open_case.case_no)) == [open_case]
    listed = set(selectors.cases_listable_by(case_supervisor))
    assert open_case in listed and len(listed) == 2 and other_case not in listed
    assert list(selectors.cases_listable_by(case_supervisor, open_case.case_no)) == [open_case]


# --- The access log ---------------------------------------------------------------------------


def test_opening_a_case_is_logged(open_case, case_staff):
    case = services.case_open_for_view(user=case_staff, case_id=open_case.pk)
    assert case == open_case
    log = AccessLog.objects.get()
    assert (log.user, log.action, log.case) == (case_staff, "open", open_case)


def test_the_selectors_only_read_the_case_and_its_documents(open_case, case_staff):
    assert selectors.case_visible(user=case_staff, case_id=open_case.pk) == open_case
    assert selectors.document_visible(user=case_staff, document_id=0) is None
    assert not AccessLog.objects.exists()


def test_the_outsider_cannot_open_a_case_and_nothing_is_logged(open_case, case_outsider, tree):
    plain = StaffFactory(username="g1plain", union=tree.g1)
    assert services.case_open_for_view(user=case_outsider, case_id=open_case.pk) is None
    assert services.case_open_for_view(user=plain, case_id=open_case.pk) is None
    assert not AccessLog.objects.exists()


def test_the_access_log_is_append_only(open_case, case_staff):
    log = services.access_log(user=case_staff, action="search", detail="by case number")
    log.detail = "changed"
    with pytest.raises(ValueError):
        log.save()
    with pytest.raises(ValueError):
        log.delete()
    assert AccessLog.objects.get().detail == "by case number"
    with pytest.raises(ValueError):
        services.access_log(user=case_staff, action="edit", case=open_case)


def test_the_outsider_cannot_act_on_a_filed_case(filed_case, case_outsider, tree):
    calls = [
        lambda: services.case_review(case=filed_case, actor=case_outsider, note="x", still_in_hardship=True),
        lambda: services.case_override_category(case=filed_case, actor=case_outsider, category="none", reason="x"),
        lambda: services.aid_create(
            case=filed_case,
            actor=case_outsider,
            fund_line="living",
            amount=Decimal("100"),
            purpose="生活救助",
            paid_on=filed_case.filed_at.date(),
        ),
    ]
    for call in calls:
        with pytest.raises(ServiceError) as exc:
            call()
        assert exc.value.code == "forbidden"
    filed_case.refresh_from_db()
    assert filed_case.state == Case.State.FILED and filed_case.category == "deep"
    assert not selectors.overdue_reviews(case_outsider).exists()
