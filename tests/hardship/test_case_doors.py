"""Doors of issue 10 in the hardship app: cancelling a wrong warmth batch, the roster taking only
cases assessed in hardship, the yearly review list and form, revealing a case's person."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.errors import ServiceError
from core.models import AuditEntry
from hardship import screening, selectors, services
from hardship.models import AccessLog, Aid, Case, WarmthBatch, WarmthRosterEntry
from tests.factories import MemberFactory, StaffFactory
from tests.hardship.conftest import grant_hardship

D = Decimal
ADMIN = "/admin/hardship/"
CASES = ADMIN + "case/"
BATCHES = ADMIN + "warmthbatch/"
REVIEWS = CASES + "reviews/"

STAFF_PERMS = (
    "view_case",
    "add_case",
    "change_case",
    "view_candidate",
    "view_aid",
    "change_aid",
    "view_warmthbatch",
    "add_warmthbatch",
    "change_warmthbatch",
    "view_warmthrosterentry",
    "view_referral",
)


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def hs(staff):
    return grant_hardship(staff, *STAFF_PERMS)


@pytest.fixture
def outsider(other_staff):
    """南浔区 staff with the same permissions: still an outsider to 吴兴区's cases and batches."""
    return grant_hardship(other_staff, *STAFF_PERMS, "reveal_person")


@pytest.fixture
def revealer(tree):
    """G1 staff who may reveal a case's person."""
    return grant_hardship(StaffFactory(username="g1reveal", union=tree.g1), *STAFF_PERMS, "reveal_person")


def refused(call, **kwargs) -> ServiceError:
    with pytest.raises(ServiceError) as exc:
        call(**kwargs)
    return exc.value


# --- 1. Cancelling a wrong warmth batch ------------------------------------------------------------


@pytest.fixture
def roster(tree, member):
    people = [member, MemberFactory(union=tree.g1, name="李娜"), MemberFactory(union=tree.g1, name="陈静")]
    for m in people:
        WarmthRosterEntry.objects.create(member=m, union=m.union, year=2025, source="case")
    return people


@pytest.fixture
def maker(district_staff):
    return grant_hardship(district_staff, *STAFF_PERMS)


@pytest.fixture
def checker(tree):
    return grant_hardship(StaffFactory(username="wxcheck", union=tree.wx), *STAFF_PERMS)


def draw_up(tree, actor, amount="716.00", name="2025年春节送温暖"):
    return services.warmth_batch_create(
        union=tree.wx, period="2025-01", amount_per_person=amount, actor=actor, name=name
    )


@pytest.mark.parametrize("approved", [False, True])
def test_it_cancels_a_wrong_batch_and_frees_its_month_for_the_corrected_one(tree, roster, maker, checker, approved):
    wrong = draw_up(tree, maker, amount="7160.00")
    if approved:
        services.warmth_batch_approve(batch=wrong, actor=checker)
    assert refused(draw_up, tree=tree, actor=maker).code == "already_paid"  # the wrong batch blocks the month

    services.warmth_batch_cancel(batch=wrong, actor=checker, reason="金额多打了一个零")

    wrong.refresh_from_db()
    assert (wrong.state, wrong.cancelled_by, wrong.cancel_reason) == ("cancelled", checker, "金额多打了一个零")
    assert set(Aid.objects.filter(batch=wrong).values_list("state", flat=True)) == {"rejected"}
    entry = AuditEntry.objects.get(action="hardship.warmth_batch.cancelled")
    assert entry.old["state"] == ("approved" if approved else "draft") and entry.new["aid_rejected"] == 3
    corrected = draw_up(tree, maker, name="2025年春节送温暖（更正）")
    assert corrected.recipients == 3 and corrected.total == D("2148.00")
    for m in roster:  # nobody is paid twice for the month
        assert Aid.objects.filter(member=m, period="2025-01").exclude(state="rejected").count() == 1


def test_it_refuses_to_cancel_without_a_reason_a_paid_or_a_cancelled_batch(tree, roster, maker, checker):
    b = draw_up(tree, maker)
    assert refused(services.warmth_batch_cancel, batch=b, actor=checker, reason="  ").code == "reason_required"
    services.warmth_batch_cancel(batch=b, actor=checker, reason="名单有误")
    assert refused(services.warmth_batch_cancel, batch=b, actor=checker, reason="名单有误").code == "not_cancellable"
    assert refused(services.warmth_batch_approve, batch=b, actor=checker).code == "batch_cancelled"
    paid = draw_up(tree, maker)
    WarmthBatch.objects.filter(pk=paid.pk).update(state="paid")
    assert refused(services.warmth_batch_cancel, batch=paid, actor=checker, reason="名单有误").code == (
        "already_paid_out"
    )


def test_the_outsider_cannot_cancel_a_batch(tree, roster, maker, outsider):
    b = draw_up(tree, maker)
    assert refused(services.warmth_batch_cancel, batch=b, actor=outsider, reason="名单有误").code == "forbidden"
    b.refresh_from_db()
    assert b.state == "draft"


def test_only_one_live_batch_per_union_and_month_in_the_database(tree, roster, maker):
    b = draw_up(tree, maker)
    with pytest.raises(IntegrityError), transaction.atomic():
        WarmthBatch.objects.create(name="x", union=tree.wx, period="2025-01", created_by=maker)
    WarmthBatch.objects.filter(pk=b.pk).update(state="cancelled")
    WarmthBatch.objects.create(name="x", union=tree.wx, period="2025-01", created_by=maker)


def test_it_cancels_a_batch_through_the_admin_action_with_a_reason(client, tree, roster, maker, checker, outsider):
    b = draw_up(tree, maker)
    login(client, checker)
    ask = client.post(BATCHES, {"action": "cancel", "_selected_action": [b.pk]})
    assert ask.status_code == 200 and 'name="note"' in ask.content.decode()
    empty = client.post(BATCHES, {"action": "cancel", "_selected_action": [b.pk], "apply": "1", "note": ""})
    assert empty.status_code == 200
    b.refresh_from_db()
    assert b.state == "draft"
    done = client.post(BATCHES, {"action": "cancel", "_selected_action": [b.pk], "apply": "1", "note": "名单有误"})
    assert done.status_code == 302
    b.refresh_from_db()
    assert b.state == "cancelled"
    # The outsider does not even see it.
    other = draw_up(tree, maker, name="更正")
    login(client, outsider)
    client.post(BATCHES, {"action": "cancel", "_selected_action": [other.pk], "apply": "1", "note": "名单有误"})
    other.refresh_from_db()
    assert other.state == "draft"


# --- 2. The warmth roster takes only cases assessed in hardship ----------------------------------


def _reassess(case, actor, income):
    return services.case_assess(
        case=case,
        actor=actor,
        household_size=1,
        annual_income=income,
        medical_expenditure="0",
        schooling_expenditure="0",
        sudden_accident=False,
    )


def test_the_roster_refresh_takes_only_open_cases_assessed_in_hardship(tree, case_staff, local_standard, member):
    year = timezone.localdate().year
    never = services.case_open(head=MemberFactory(union=tree.g1), actor=case_staff)
    not_in = services.case_open(head=MemberFactory(union=tree.g1), actor=case_staff)
    in_hardship = services.case_open(head=member, actor=case_staff)
    for case in (not_in, in_hardship):
        services.case_transition(case=case, to_state="contacted", actor=case_staff)
    _reassess(not_in, case_staff, "900000")  # far above twice the standard: not in hardship
    _reassess(in_hardship, case_staff, "1000")  # deep

    screening.roster_refresh(year=year)

    on_roster = set(WarmthRosterEntry.objects.filter(year=year, is_active=True).values_list("member_id", flat=True))
    assert on_roster == {member.pk}
    assert never.head_id not in on_roster and not_in.head_id not in on_roster


def test_a_case_reassessed_as_not_in_hardship_leaves_the_roster(filed_case, case_staff, member):
    year = timezone.localdate().year
    screening.roster_refresh(year=year)
    assert WarmthRosterEntry.objects.get(member=member, year=year).is_active
    _reassess(filed_case, case_staff, "900000")
    screening.roster_refresh(year=year)
    assert not WarmthRosterEntry.objects.get(member=member, year=year).is_active


def test_it_refuses_to_put_a_never_assessed_case_on_the_roster(open_case, case_staff):
    assert refused(services.warmth_roster_add_case, case=open_case, actor=case_staff).code == "not_assessed"
    assert not WarmthRosterEntry.objects.exists()


def test_it_refuses_to_put_a_case_assessed_as_not_in_hardship_on_the_roster(open_case, case_staff, local_standard):
    services.case_transition(case=open_case, to_state="contacted", actor=case_staff)
    _reassess(open_case, case_staff, "900000")
    assert refused(services.warmth_roster_add_case, case=open_case, actor=case_staff).code == "not_in_hardship"
    assert not WarmthRosterEntry.objects.exists()


def test_it_puts_a_case_in_hardship_on_the_roster_from_the_case_page(client, hs, filed_case, member, outsider):
    year = timezone.localdate().year
    assert login(client, outsider).post(f"{CASES}{filed_case.pk}/do/roster/").status_code == 404
    assert not WarmthRosterEntry.objects.exists()
    resp = login(client, hs).post(f"{CASES}{filed_case.pk}/do/roster/")
    assert resp.status_code == 302
    entry = WarmthRosterEntry.objects.get(member=member, year=year)
    assert (entry.is_active, entry.source) == (True, "case")
    assert filed_case.events.filter(kind="warmth_roster").exists()


def test_the_case_page_shows_the_roster_refusal(client, hs, open_case):
    resp = login(client, hs).post(f"{CASES}{open_case.pk}/do/roster/")
    assert resp.status_code == 200
    assert "Assess the household first" in resp.content.decode() or "先" in resp.content.decode()
    assert not WarmthRosterEntry.objects.exists()


# --- 3. The yearly review: a list for caseworkers and a form on the case page ---------------------


def _overdue(case, days=40):
    Case.objects.filter(pk=case.pk).update(review_due=timezone.localdate() - dt.timedelta(days=days))


def test_an_overdue_review_is_cleared_through_the_admin_and_leaves_the_overdue_count(client, hs, filed_case):
    _overdue(filed_case)
    login(client, hs)
    page = client.get(REVIEWS)
    assert page.status_code == 200
    assert page.context["overdue"] == 1 and f'data-case="{filed_case.pk}"' in page.content.decode()
    assert selectors.overdue_reviews(hs).count() == 1

    resp = client.post(
        f"{CASES}{filed_case.pk}/do/review/", {"review-outcome": "still_in_hardship", "review-note": "入户复核，仍困难"}
    )

    assert resp.status_code == 302
    filed_case.refresh_from_db()
    assert filed_case.review_due > timezone.localdate()
    assert selectors.overdue_reviews(hs).count() == 0
    assert client.get(REVIEWS).context["overdue"] == 0
    event = filed_case.events.get(kind="review")
    assert (event.text, event.data["outcome"]) == ("入户复核，仍困难", "still_in_hardship")


@pytest.mark.parametrize(("outcome", "state"), [("no_longer_in_hardship", "exited"), ("closed", "withdrawn")])
def test_a_review_can_exit_or_close_the_case(client, hs, filed_case, outcome, state):
    _overdue(filed_case)
    resp = login(client, hs).post(
        f"{CASES}{filed_case.pk}/do/review/", {"review-outcome": outcome, "review-note": "已搬离本市"}
    )
    assert resp.status_code == 302
    filed_case.refresh_from_db()
    assert filed_case.state == state and filed_case.closed_at is not None
    assert client.get(REVIEWS).context["overdue"] == 0


def test_a_review_without_a_note_is_refused(client, hs, filed_case):
    _overdue(filed_case)
    resp = login(client, hs).post(f"{CASES}{filed_case.pk}/do/review/", {"review-outcome": "closed", "review-note": ""})
    assert resp.status_code == 200
    filed_case.refresh_from_db()
    assert filed_case.state == "filed" and not filed_case.events.filter(kind="review").exists()
    assert refused(services.case_review, case=filed_case, actor=hs, note="", outcome="closed").code == "reason_required"


def test_the_outsider_neither_sees_nor_clears_a_review(client, hs, outsider, filed_case):
    _overdue(filed_case)
    login(client, outsider)
    page = client.get(REVIEWS)
    assert page.status_code == 200 and page.context["overdue"] == 0
    assert f'data-case="{filed_case.pk}"' not in page.content.decode()
    resp = client.post(
        f"{CASES}{filed_case.pk}/do/review/", {"review-outcome": "still_in_hardship", "review-note": "仍困难"}
    )
    assert resp.status_code == 404
    assert selectors.overdue_reviews(hs).count() == 1


def test_staff_without_hardship_permissions_cannot_open_the_review_list(client, staff):
    assert login(client, staff).get(REVIEWS).status_code == 403


def test_the_review_list_makes_the_same_queries_for_one_case_or_many(
    client, hs, filed_case, tree, django_assert_num_queries
):
    _overdue(filed_case)
    login(client, hs)
    client.get(REVIEWS)  # warm the session and permission caches
    with CaptureQueriesContext(connection) as one:
        client.get(REVIEWS)
    for _ in range(5):
        case = services.case_open(head=MemberFactory(union=tree.g1), actor=hs)
        Case.objects.filter(pk=case.pk).update(state="filed", review_due=timezone.localdate())
    with django_assert_num_queries(len(one.captured_queries)):
        resp = client.get(REVIEWS)
    assert len(resp.context["rows"]) == 6


# --- 4. Revealing the person of a case ------------------------------------------------------------


def reveal(client, case, reason="电话回访核实情况"):
    return client.post(f"{CASES}{case.pk}/reveal/", {"reveal-reason": reason})


def test_staff_with_the_permission_reveal_the_person_with_a_reason_logged(client, revealer, filed_case, member):
    Case.objects.filter(pk=filed_case.pk).update(address="织里镇大港路88号3幢")
    resp = reveal(login(client, revealer), filed_case)

    assert resp.status_code == 200
    assert "no-store" in resp["Cache-Control"]
    html = resp.content.decode()
    block = html[html.index('id="revealed-person"') :]
    block = block[: block.index("</div>")]
    for value in (member.name, member.id_number, member.mobile, "织里镇大港路88号3幢"):
        assert value in block
    # The rest of the page stays masked: the full name and ID number appear only in the reveal.
    rest = html.replace(block, "")
    assert member.name not in rest and member.id_number not in rest
    assert member.masked_name in rest and member.id_masked in rest
    (log,) = AccessLog.objects.filter(action="reveal")
    assert (log.user, log.case, log.detail) == (revealer, filed_case, "电话回访核实情况") and log.at
    assert AuditEntry.objects.filter(action="hardship.case.person_revealed").count() == 1


def test_the_case_page_itself_stays_masked_and_is_not_cached(client, revealer, filed_case, member):
    resp = login(client, revealer).get(f"{CASES}{filed_case.pk}/change/")
    html = resp.content.decode()
    assert 'id="reveal"' in html and 'id="revealed-person"' not in html
    assert member.name not in html and member.id_number not in html and member.mobile not in html
    assert "no-store" in resp["Cache-Control"]


def test_it_refuses_a_reveal_without_the_permission_and_logs_nothing(client, hs, filed_case, member):
    resp = reveal(login(client, hs), filed_case)
    assert resp.status_code == 403
    assert member.name not in resp.content.decode() and member.id_number not in resp.content.decode()
    assert not AccessLog.objects.exists()
    page = client.get(f"{CASES}{filed_case.pk}/change/").content.decode()
    assert 'id="reveal"' not in page  # no form for staff without the permission


@pytest.mark.parametrize("reason", ["", "看看", "   "])
def test_it_refuses_a_reveal_without_a_sensible_reason(client, revealer, filed_case, member, reason):
    resp = reveal(login(client, revealer), filed_case, reason=reason)
    assert resp.status_code == 200
    html = resp.content.decode()
    assert member.name not in html and member.id_number not in html and member.mobile not in html
    assert not AccessLog.objects.filter(action="reveal").exists()


def test_the_outsider_cannot_reveal_a_case_of_another_union(client, outsider, filed_case, member):
    resp = reveal(login(client, outsider), filed_case)
    assert resp.status_code == 404
    assert member.name not in resp.content.decode()
    assert not AccessLog.objects.exists()
    error = refused(services.case_reveal_person, case=filed_case, actor=outsider, reason="电话回访核实情况")
    assert error.code == "forbidden"
    assert not AccessLog.objects.exists()


def test_a_reveal_is_a_post(client, revealer, filed_case):
    assert login(client, revealer).get(f"{CASES}{filed_case.pk}/reveal/").status_code == 404
    assert not AccessLog.objects.filter(action="reveal").exists()


def test_the_address_is_kept_with_the_assessment(client, hs, open_case, local_standard):
    login(client, hs)
    client.post(f"{CASES}{open_case.pk}/do/transition/", {"transition-to_state": "contacted"})
    resp = client.post(
        f"{CASES}{open_case.pk}/do/assess/",
        {
            "assess-household_size": "3",
            "assess-annual_income": "60000",
            "assess-medical": "0",
            "assess-schooling": "0",
            "assess-address": "织里镇大港路88号",
        },
    )
    assert resp.status_code == 302
    open_case.refresh_from_db()
    assert open_case.address == "织里镇大港路88号"
    assert "织里镇大港路88号" not in client.get(f"{CASES}{open_case.pk}/change/").content.decode()


# --- 6. Same classes elsewhere: a referral sent by mistake can be withdrawn --------------------------


@pytest.fixture
def wrong_referral(filed_case, case_staff):
    from tests.factories import AgencyFactory

    return services.referral_send(
        case=filed_case,
        agency=AgencyFactory(code="cdpf", name="残联"),
        benefit="disability_insurance",
        actor=case_staff,
    )


def test_it_refuses_to_withdraw_without_a_reason_or_an_answered_referral(wrong_referral, case_staff):
    assert refused(services.referral_withdraw, referral=wrong_referral, actor=case_staff, reason=" ").code == (
        "reason_required"
    )
    services.referral_answer(referral=wrong_referral, agency=wrong_referral.agency, granted=False)
    assert refused(services.referral_withdraw, referral=wrong_referral, actor=case_staff, reason="错发").code == (
        "already_answered"
    )
