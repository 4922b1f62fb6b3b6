"""The hardship admin: scope, search-first cases, the access log, the worklist actions, the case
page's small forms, aid approval, warmth batches, uploads and the cycle page."""

import datetime as dt
import hashlib
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook
from PIL import Image

from core.errors import ServiceError
from core.models import Agency, AuditEntry
from hardship import services
from hardship.admin import PushUploadForm, WarmthBatchForm
from hardship.models import (
    AccessLog,
    Aid,
    Candidate,
    Case,
    CaseDocument,
    CycleRun,
    DataPush,
    HardshipSettings,
    PushRow,
    Referral,
    ScreeningRule,
    WarmthBatch,
    WarmthRosterEntry,
)
from tests.factories import AgencyFactory, MemberFactory, StaffFactory, UserFactory
from tests.hardship.conftest import grant_hardship

D = Decimal
ADMIN = "/admin/hardship/"
CANDIDATES = ADMIN + "candidate/"
CASES = ADMIN + "case/"
AID = ADMIN + "aid/"
ACCESS = ADMIN + "accesslog/"
PUSHES = ADMIN + "datapush/"
BATCHES = ADMIN + "warmthbatch/"
CYCLES = ADMIN + "cyclerun/"

# What hardship staff hold in the admin (the demo group gets the same).
STAFF_PERMS = (
    "view_case",
    "add_case",
    "change_case",
    "view_candidate",
    "change_candidate",
    "view_aid",
    "change_aid",
    "view_datapush",
    "add_datapush",
    "view_warmthbatch",
    "add_warmthbatch",
    "change_warmthbatch",
    "view_warmthrosterentry",
    "view_referral",
    "view_cyclerun",
    "change_cyclerun",
    "view_accesslog",
    "view_screeningrule",
    "change_screeningrule",
    "view_hardshipsettings",
    "change_hardshipsettings",
)


@pytest.fixture
def hs(staff):
    """G1 hardship staff (the maker)."""
    return grant_hardship(staff, *STAFF_PERMS)


@pytest.fixture
def city_hs(city_staff):
    """City hardship staff: the screening rules and the cycle are the whole city's."""
    return grant_hardship(city_staff, *STAFF_PERMS)


@pytest.fixture
def checker(tree):
    return grant_hardship(StaffFactory(username="g1check", union=tree.g1), *STAFF_PERMS)


@pytest.fixture
def outsider(other_staff):
    """南浔区 staff with every hardship permission: still an outsider to 吴兴区."""
    return grant_hardship(other_staff, *STAFF_PERMS)


@pytest.fixture
def supervisor(district_staff):
    return grant_hardship(district_staff, *STAFF_PERMS, "list_all_cases")


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def rule(db):
    return ScreeningRule.objects.create(
        name="自付医疗费用≥5万", kind="medical_oop_12m", threshold_amount=D("50000.00"), adds_to_warmth_roster=True
    )


@pytest.fixture
def candidate(member, rule):
    evidence = {
        "rows": [1, 2],
        "sources": ["nhsa"],
        "period": "2025-03",
        "total": "154184.67",
        "threshold": "50000.00",
        "amounts": [{"row": 1, "period": "2025-02", "out_of_pocket": "100000.00"}],
        "facts": ["abc"],
    }
    return Candidate.objects.create(
        member=member, union=member.union, rule=rule, period="2025-03", evidence=evidence, evidence_key="k1"
    )


def login(client, user):
    client.force_login(user)
    return client


def act(client, url, action, *pks, **extra):
    return client.post(url, {"action": action, "_selected_action": [str(pk) for pk in pks], **extra})


def rows(resp) -> list:
    return list(resp.context["cl"].result_list)


# --- Who may come in --------------------------------------------------------------------------


def test_staff_without_hardship_permissions_are_refused_every_hardship_page(client, staff, candidate):
    login(client, staff)
    for url in (CANDIDATES, CASES, AID, PUSHES, BATCHES, CYCLES, ACCESS, CASES + "report/", PUSHES + "add/"):
        assert client.get(url).status_code == 403, url


def test_the_outsider_sees_no_candidates_and_no_cases(client, outsider, candidate, open_case):
    login(client, outsider)

    assert rows(client.get(CANDIDATES)) == []
    assert rows(client.get(CASES, {"q": open_case.case_no})) == []
    assert client.get(f"{CASES}{open_case.pk}/change/").status_code == 404
    assert client.get(f"{CANDIDATES}{candidate.pk}/change/").status_code == 302  # not found: back to the list
    act(client, CANDIDATES, "confirm", candidate.pk)
    candidate.refresh_from_db()
    assert candidate.state == Candidate.State.OPEN
    assert not AccessLog.objects.filter(user=outsider).exists()


def test_the_outsider_cannot_post_to_a_case_form(client, outsider, open_case):
    resp = login(client, outsider).post(
        f"{CASES}{open_case.pk}/do/transition/", {"transition-to_state": "contacted", "transition-note": ""}
    )
    assert resp.status_code == 404
    open_case.refresh_from_db()
    assert open_case.state == Case.State.CANDIDATE


# --- The candidate worklist -------------------------------------------------------------------


def test_the_worklist_shows_open_candidates_first_with_readable_evidence(client, hs, candidate, other_member, rule):
    decided = Candidate.objects.create(
        member=candidate.member, union=candidate.union, rule=rule, period="2025-04", evidence={}, evidence_key="k0",
        state="dismissed",
    )  # fmt: skip
    resp = login(client, hs).get(CANDIDATES)

    assert rows(resp) == [candidate, decided]
    html = resp.content.decode()
    assert "¥154,184.67" in html and "¥50,000.00" in html
    assert candidate.member.masked_name in html
    detail = client.get(f"{CANDIDATES}{candidate.pk}/change/").content.decode()
    assert "¥154,184.67" in detail


def test_confirming_a_candidate_opens_a_case(client, hs, candidate):
    resp = act(login(client, hs), CANDIDATES, "confirm", candidate.pk)

    assert resp.status_code == 302
    candidate.refresh_from_db()
    assert candidate.state == Candidate.State.CONFIRMED and candidate.decided_by == hs
    case = Case.objects.get(head=candidate.member)
    assert case.events.filter(kind="evidence").exists()


def test_dismissing_asks_for_a_note_then_dismisses(client, hs, candidate):
    login(client, hs)
    page = act(client, CANDIDATES, "dismiss", candidate.pk)
    assert page.status_code == 200
    assert 'name="note"' in page.content.decode()

    again = act(client, CANDIDATES, "dismiss", candidate.pk, apply="1", note="")
    assert again.status_code == 200  # no note: asked again
    candidate.refresh_from_db()
    assert candidate.state == Candidate.State.OPEN

    act(client, CANDIDATES, "dismiss", candidate.pk, apply="1", note="已在送温暖名单")
    candidate.refresh_from_db()
    assert (candidate.state, candidate.note) == (Candidate.State.DISMISSED, "已在送温暖名单")
    assert not Case.objects.exists()


# --- Cases: search first ----------------------------------------------------------------------


def test_the_case_list_is_empty_until_staff_search(client, hs, open_case, member):
    login(client, hs)
    resp = client.get(CASES)
    assert rows(resp) == []
    assert "search-first" in resp.content.decode()

    assert rows(client.get(CASES, {"q": open_case.case_no})) == [open_case]
    assert rows(client.get(CASES, {"q": member.member_no})) == [open_case]
    assert rows(client.get(CASES, {"q": "nobody"})) == []


def test_a_searched_id_number_is_replaced_by_its_blind_index_in_the_url(client, hs, open_case, member, outsider):
    login(client, hs)
    resp = client.get(CASES, {"q": member.id_number})
    assert resp.status_code == 302
    assert member.id_number not in resp["Location"] and member.id_index in resp["Location"]
    assert rows(client.get(resp["Location"])) == [open_case]

    login(client, outsider)
    assert rows(client.get(resp["Location"])) == []


def test_a_supervisor_lists_every_case_of_the_district(client, supervisor, open_case, other_member, outsider):
    nx_case = Case.objects.create(head=other_member, union=other_member.union, case_no="KNX")
    resp = login(client, supervisor).get(CASES)

    assert rows(resp) == [open_case]
    assert nx_case not in rows(resp)
    assert "search-first" not in resp.content.decode()


def test_opening_a_case_writes_an_access_log_row(client, hs, open_case):
    login(client, hs)
    assert client.get(f"{CASES}{open_case.pk}/change/").status_code == 200
    client.get(f"{CASES}{open_case.pk}/change/")

    logs = list(AccessLog.objects.filter(case=open_case).order_by("at", "pk"))
    assert [(log.user, log.action) for log in logs] == [(hs, "open"), (hs, "open")]
    assert rows(client.get(CASES)) == []  # listing writes nothing and shows nothing
    assert AccessLog.objects.filter(case=open_case).count() == 2


def test_the_case_page_shows_figures_categories_and_evidence(client, hs, filed_case, member):
    agency = AgencyFactory(code="nhsa", name="医保局")
    push = DataPush.objects.create(
        agency=agency, kind="medical", period="2025-02", batch_id="b1", row_count=1, sha256="0" * 64, source="api_json"
    )
    PushRow.objects.create(
        push=push, agency=agency, kind="medical", period="2025-02", line=2, source_key="r1", id_number="x",
        id_index=member.id_index, member=member,
        payload={"total_cost": "439305.46", "reimbursed": "285120.79", "out_of_pocket": "154184.67", "name": "周建新"},
    )  # fmt: skip
    html = login(client, hs).get(f"{CASES}{filed_case.pk}/change/").content.decode()

    assert "¥154,184.67" in html and "¥439,305.46" in html  # the assessment and the evidence, formatted
    assert 'id="computed-category"' in html and str(Case.Category.DEEP.label) in html
    assert "周建新" not in html  # the masked name only
    assert member.masked_name in html


def test_the_case_page_forms_each_call_their_service(client, hs, open_case, local_standard, tree):
    login(client, hs)
    url = f"{CASES}{open_case.pk}/do/"
    assert client.post(url + "transition/", {"transition-to_state": "contacted"}).status_code == 302
    resp = client.post(
        url + "assess/",
        {
            "assess-household_size": "3",
            "assess-annual_income": "60000",
            "assess-medical": "154184.67",
            "assess-schooling": "0",
            "assess-sudden_accident": "on",
        },
    )
    assert resp.status_code == 302
    open_case.refresh_from_db()
    assert (open_case.state, open_case.computed_category) == (Case.State.ASSESSING, Case.Category.DEEP)

    refused = client.post(url + "category/", {"category-category": "relative", "category-reason": ""})
    assert refused.status_code == 200  # the reason is required
    client.post(url + "category/", {"category-category": "relative", "category-reason": "家庭另有储蓄"})
    open_case.refresh_from_db()
    assert (open_case.computed_category, open_case.category) == (Case.Category.DEEP, Case.Category.RELATIVE)

    client.post(url + "transition/", {"transition-to_state": "filed"})
    cdpf = AgencyFactory(code="cdpf", name="残联")
    client.post(url + "refer/", {"refer-agency": cdpf.pk, "refer-benefit": "disability_insurance", "refer-note": ""})
    assert Referral.objects.get(case=open_case).agency == cdpf

    png = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(png, "PNG")
    png.seek(0)
    png.name = "diagnosis.png"
    resp = client.post(url + "document/", {"document-title": "诊断证明", "document-file": png})
    assert resp.status_code == 302
    doc = CaseDocument.objects.get(case=open_case)
    page = client.get(f"{CASES}{open_case.pk}/change/").content.decode()
    assert f"/hardship/documents/{doc.pk}/" in page


def test_a_filed_case_assessed_as_not_in_hardship_is_flagged_and_refuses_aid(client, hs, filed_case):
    login(client, hs)
    page = client.get(f"{CASES}{filed_case.pk}/change/").content.decode()
    assert 'id="not-in-hardship"' not in page

    resp = client.post(
        f"{CASES}{filed_case.pk}/do/assess/",
        {
            "assess-household_size": "1",
            "assess-annual_income": "900000",
            "assess-medical": "0",
            "assess-schooling": "0",
        },
    )
    assert resp.status_code == 302
    assert [m.level_tag for m in resp.wsgi_request._messages] == ["success", "warning"]
    page = client.get(f"{CASES}{filed_case.pk}/change/").content.decode()
    assert 'id="not-in-hardship"' in page

    refused = aid_post(client, filed_case, **{"aid-amount": "3000"})
    assert refused.status_code == 200 and "errornote" in refused.content.decode()
    assert not Aid.objects.exists()


def test_a_refused_service_shows_its_message_on_the_page(client, hs, open_case):
    resp = login(client, hs).post(f"{CASES}{open_case.pk}/do/transition/", {"transition-to_state": "filed"})

    assert resp.status_code == 200
    assert "errornote" in resp.content.decode()
    open_case.refresh_from_db()
    assert open_case.state == Case.State.CANDIDATE


# --- Aid: the double-aid check and maker–checker ----------------------------------------------


@pytest.fixture
def other_body_aid(member):
    agency = AgencyFactory(code="mca", name="民政局")
    push = DataPush.objects.create(
        agency=agency,
        kind="aid_given",
        period="2025-03",
        batch_id="a1",
        row_count=1,
        sha256="0" * 64,
        source="api_json",
    )
    return PushRow.objects.create(
        push=push, agency=agency, kind="aid_given", period="2025-03", line=2, source_key="a1", id_number="x",
        id_index=member.id_index, member=member,
        payload={"body": "民政局", "purpose": "临时救助", "fund_line": "illness", "amount": "3000.00", "date": "2025-03-02"},
    )  # fmt: skip


def aid_post(client, case, **extra):
    data = {"aid-fund_line": "illness", "aid-amount": "27000", "aid-purpose": "大病救助", "aid-paid_on": "2025-03-15"}
    data.update(extra)
    return client.post(f"{CASES}{case.pk}/do/aid/", data)


def test_aid_approved_at_once_is_refused_until_the_double_aid_check_is_acknowledged(
    client, hs, filed_case, other_body_aid
):
    login(client, hs)
    resp = aid_post(client, filed_case, **{"aid-amount": "3000"})  # at or below the threshold: approved at once

    assert resp.status_code == 200
    page = resp.content.decode()
    assert "此人本期间已获得 1 笔同一用途的其他帮扶" in page  # the service's refusal (double_aid_unacknowledged)
    assert "临时救助" in page and "double-aid" in page  # and the aid it found
    assert not Aid.objects.exists()

    assert aid_post(client, filed_case, **{"aid-amount": "3000", "aid-acknowledge": "on"}).status_code == 302
    assert Aid.objects.get().state == Aid.State.APPROVED


def test_aid_waiting_for_a_second_approver_is_entered_without_acknowledging_the_double_aid_check(
    client, hs, filed_case, other_body_aid
):
    # The service's rule: the second approver acknowledges what the check finds, at approval. The
    # case page used to ask the maker as well, for aid that was not approved yet.
    login(client, hs)
    resp = aid_post(client, filed_case)  # 27,000 CNY, above the 5,000 threshold

    assert resp.status_code == 302
    assert Aid.objects.get().state == Aid.State.PENDING_APPROVAL


def test_a_case_form_shown_again_with_the_case_file_is_written_to_the_access_log(
    client, hs, filed_case, other_body_aid
):
    login(client, hs)
    # An invalid form, a refusal by the service and the double-aid question each show the whole file.
    invalid = client.post(f"{CASES}{filed_case.pk}/do/assess/", {"assess-household_size": ""})
    not_a_pdf = SimpleUploadedFile("scan.pdf", b"not a pdf at all", content_type="application/pdf")
    refused = client.post(
        f"{CASES}{filed_case.pk}/do/document/", {"document-title": "诊断书", "document-file": not_a_pdf}
    )
    double_aid = aid_post(client, filed_case, **{"aid-amount": "3000"})

    for resp in (invalid, refused, double_aid):
        assert resp.status_code == 200 and "154,184.67" in resp.content.decode()
    assert not CaseDocument.objects.exists()
    logs = AccessLog.objects.filter(case=filed_case, user=hs, action="open").order_by("at", "pk")
    assert [log.detail for log in logs] == ["form assess", "form document", "form aid"]


def test_aid_approval_is_maker_checker_after_the_double_aid_page(client, hs, checker, filed_case, other_body_aid):
    login(client, hs)
    aid_post(client, filed_case, **{"aid-acknowledge": "on"})
    aid = Aid.objects.get()

    act(client, AID, "approve", aid.pk, apply="1", acknowledge="yes")  # the maker
    aid.refresh_from_db()
    assert aid.state == Aid.State.PENDING_APPROVAL

    login(client, checker)
    page = act(client, AID, "approve", aid.pk)
    assert page.status_code == 200 and "临时救助" in page.content.decode()
    act(client, AID, "approve", aid.pk, apply="1")  # not acknowledged
    aid.refresh_from_db()
    assert aid.state == Aid.State.PENDING_APPROVAL

    act(client, AID, "approve", aid.pk, apply="1", acknowledge="yes")
    aid.refresh_from_db()
    assert (aid.state, aid.approver) == (Aid.State.APPROVED, checker)


def test_approving_without_acknowledging_approves_the_aid_with_no_findings_and_shows_the_services_refusal(
    client, hs, checker, filed_case, other_body_aid
):
    login(client, hs)
    aid_post(client, filed_case)  # illness, 大病救助: the other body's 临时救助 of the same fund line is found
    aid_post(client, filed_case, **{"aid-fund_line": "schooling", "aid-purpose": "助学", "aid-amount": "6000"})
    found, clean = Aid.objects.order_by("pk")
    assert {found.state, clean.state} == {Aid.State.PENDING_APPROVAL}

    resp = act(login(client, checker), AID, "approve", found.pk, clean.pk, apply="1")  # not acknowledged

    found.refresh_from_db()
    clean.refresh_from_db()
    assert (clean.state, clean.approver) == (Aid.State.APPROVED, checker)
    assert found.state == Aid.State.PENDING_APPROVAL
    shown = [(m.level_tag, m.message) for m in resp.wsgi_request._messages]
    assert ("error", f"{found}：此人本期间已获得 1 笔同一用途的其他帮扶。请查看多头援助核查结果并确认。") in shown
    assert ("success", "已处理 1 条记录。") in shown


def test_the_outsider_cannot_see_or_approve_aid(client, hs, outsider, filed_case):
    login(client, hs)
    aid_post(client, filed_case)
    aid = Aid.objects.get()

    login(client, outsider)
    assert rows(client.get(AID)) == []
    act(client, AID, "approve", aid.pk, apply="1", acknowledge="yes")
    aid.refresh_from_db()
    assert aid.state == Aid.State.PENDING_APPROVAL


# --- The access log ---------------------------------------------------------------------------


def test_the_access_log_is_read_only_even_for_superusers(client, superuser, hs, open_case):
    login(client, hs).get(f"{CASES}{open_case.pk}/change/")
    log = AccessLog.objects.get()
    login(client, superuser)

    assert client.get(ACCESS).status_code == 200
    assert client.get(ACCESS + "add/").status_code == 403
    page = client.get(f"{ACCESS}{log.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(f"{ACCESS}{log.pk}/change/", {"detail": "x"}).status_code == 403
    assert client.post(f"{ACCESS}{log.pk}/delete/", {"post": "yes"}).status_code == 403
    act(client, ACCESS, "delete_selected", log.pk, post="yes")
    assert AccessLog.objects.filter(pk=log.pk, detail="").exists()


def test_only_supervisors_read_the_access_log_of_their_scope(client, hs, supervisor, outsider, open_case):
    login(client, hs).get(f"{CASES}{open_case.pk}/change/")

    assert client.get(ACCESS).status_code == 403  # hardship staff, not a supervisor
    assert len(rows(login(client, supervisor).get(ACCESS))) == 1
    nx_supervisor = grant_hardship(outsider, "list_all_cases")
    assert rows(login(client, nx_supervisor).get(ACCESS)) == []


# --- Uploads, rules, settings -----------------------------------------------------------------


@pytest.fixture
def uploader(city_staff):
    """City-level hardship staff who may upload an agency's data on its behalf."""
    return grant_hardship(city_staff, *STAFF_PERMS, "upload_agency_data")


def dibao_upload(member):
    csv = (
        "id_number,name,list,start_date,status,source_key\n"
        f"{member.id_number},周建新,dibao,2024-06-01,active,k1\n"
        "330502199001011234,王芳,dibao,2024-06-01,active,k2\n"
    ).encode("utf-8-sig")
    upload = io.BytesIO(csv)
    upload.name = "dibao-2025-03.csv"
    return upload


def upload_post(client, agency, member, batch_id="b-1"):
    data = {"agency": agency.pk, "kind": "low_income", "period": "2025-03", "batch_id": batch_id}
    return client.post(PUSHES + "add/", {**data, "file": dibao_upload(member)})


def test_the_upload_form_shows_each_rejected_line(client, uploader, member, db):
    hs = uploader
    mca = Agency.objects.get_or_create(code="mca", defaults={"name": "民政局"})[0]
    resp = upload_post(login(client, hs), mca, member)

    assert resp.status_code == 200
    answer = resp.context["answer"]
    assert answer["accepted"] == 1 and answer["rejected"] == 1
    assert [e["line"] for e in answer["errors"]] == [3]
    html = resp.content.decode()
    assert 'id="push-errors"' in html and answer["errors"][0]["reason"] in html
    push = DataPush.objects.get()
    assert (push.source, push.created_by) == ("admin", hs)
    detail = client.get(f"{PUSHES}{push.pk}/change/").content.decode()
    assert answer["errors"][0]["reason"] in detail
    assert "330502199001011234" not in detail


def test_district_and_grassroots_staff_cannot_upload_data_as_an_agency(client, hs, supervisor, member):
    mca = Agency.objects.get_or_create(code="mca", defaults={"name": "民政局"})[0]
    # Even holding the upload permission, staff below the city federation never act for an agency.
    supervisor = grant_hardship(supervisor, "upload_agency_data")
    for user in (hs, supervisor):
        login(client, user)
        assert client.get(PUSHES + "add/").status_code == 403
        assert upload_post(client, mca, member).status_code == 403
        assert client.get(PUSHES).context["has_add_permission"] is False
    assert not DataPush.objects.exists()


def test_city_staff_without_the_upload_permission_cannot_upload(client, city_staff, member):
    mca = Agency.objects.get_or_create(code="mca", defaults={"name": "民政局"})[0]
    login(client, grant_hardship(city_staff, *STAFF_PERMS))

    assert upload_post(client, mca, member).status_code == 403
    assert not DataPush.objects.exists()


def test_the_upload_service_refuses_and_audits_an_upload_by_staff_who_may_not_act_for_the_agency(
    hs, supervisor, uploader, member
):
    from hardship import ingest

    mca = Agency.objects.get_or_create(code="mca", defaults={"name": "民政局"})[0]
    content = dibao_upload(member).getvalue()
    manifest = {"agency": "mca", "kind": "low_income", "period": "2025-03", "batch_id": "b-1", "row_count": 2}
    manifest["sha256"] = hashlib.sha256(content).hexdigest()
    for user in (hs, grant_hardship(supervisor, "upload_agency_data")):
        with pytest.raises(ServiceError) as exc:
            ingest.push_upload(actor=user, agency=mca, manifest=manifest, content=content)
        assert exc.value.code == "forbidden"
    refused = AuditEntry.objects.filter(action="hardship.push.upload_refused").order_by("pk")
    assert [(e.actor_id, e.new["agency"], e.new["batch_id"]) for e in refused] == [
        (hs.pk, "mca", "b-1"),
        (supervisor.pk, "mca", "b-1"),
    ]
    assert not DataPush.objects.exists()

    push = ingest.push_upload(actor=uploader, agency=mca, manifest=manifest, content=content)
    assert (push.source, push.created_by, push.accepted) == ("admin", uploader, 1)
    assert AuditEntry.objects.filter(action="hardship.push.received", actor=uploader).exists()


def test_the_upload_form_lists_only_active_agencies_and_only_to_uploaders(client, hs, uploader):
    from hardship.admin.pushes import PushUploadForm

    inactive = AgencyFactory(code="old", name="旧部门", is_active=False)
    listed = PushUploadForm(user=uploader).fields["agency"].queryset
    assert set(listed) == set(Agency.objects.filter(is_active=True)) and inactive not in listed and listed.exists()
    assert not PushUploadForm(user=hs).fields["agency"].queryset.exists()


def test_a_screening_rule_needs_its_threshold(client, city_hs):
    resp = login(client, city_hs).post(
        ADMIN + "screeningrule/add/", {"name": "医疗", "kind": "medical_oop_12m", "threshold_amount": ""}
    )
    assert resp.status_code == 403  # staff change rules, adding them is not given here
    city_hs.user_permissions.add(Permission.objects.get(codename="add_screeningrule"))
    resp = login(client, type(city_hs).objects.get(pk=city_hs.pk)).post(
        ADMIN + "screeningrule/add/", {"name": "医疗", "kind": "medical_oop_12m", "threshold_amount": ""}
    )
    assert resp.status_code == 200
    assert "此规则须填写金额门槛。" in resp.content.decode()  # the refusal of services.screening_rule_check
    assert not ScreeningRule.objects.exists()


def test_the_screening_rule_service_refuses_a_grade_rule_without_its_grade(city_hs):
    city_hs.user_permissions.add(Permission.objects.get(codename="add_screeningrule"))
    actor = type(city_hs).objects.get(pk=city_hs.pk)
    rule = ScreeningRule(name="工伤", kind=ScreeningRule.Kind.WORK_INJURY_GRADE, grade_at_least=None)

    with pytest.raises(ServiceError) as refused:
        services.screening_rule_save(rule=rule, actor=actor)

    assert (refused.value.code, refused.value.details) == ("grade_required", {"field": "grade_at_least"})
    assert not ScreeningRule.objects.exists()


@pytest.mark.parametrize(
    "figures, code, message",
    [
        ({"kind": "medical_oop_12m", "threshold_amount": "-5"}, "threshold_positive", "金额门槛须大于零。"),
        ({"kind": "medical_oop_12m", "threshold_amount": "0"}, "threshold_positive", "金额门槛须大于零。"),
        ({"kind": "work_injury_grade", "grade_at_least": "0"}, "grade_range", "等级从 1（最重）到 10。"),
        ({"kind": "work_injury_grade", "grade_at_least": "11"}, "grade_range", "等级从 1（最重）到 10。"),
    ],
)
def test_it_refuses_a_screening_rule_that_would_flag_everyone_or_no_one(client, city_hs, figures, code, message):
    rule = ScreeningRule.objects.create(
        name="医疗", kind=ScreeningRule.Kind.MEDICAL_OUT_OF_POCKET, threshold_amount=Decimal("50000.00")
    )
    resp = login(client, city_hs).post(
        f"{ADMIN}screeningrule/{rule.pk}/change/", {"name": "医疗", "is_active": "on", **figures}
    )

    assert resp.status_code == 200 and message in resp.content.decode()
    rule.refresh_from_db()
    assert (rule.kind, rule.threshold_amount, rule.grade_at_least) == ("medical_oop_12m", Decimal("50000.00"), None)
    assert not AuditEntry.objects.filter(action="hardship.screening_rule.changed").exists()
    with pytest.raises(ServiceError) as refused:
        services.screening_rule_check(
            kind=figures["kind"],
            threshold_amount=Decimal(figures["threshold_amount"]) if "threshold_amount" in figures else None,
            grade_at_least=int(figures["grade_at_least"]) if "grade_at_least" in figures else None,
        )
    assert refused.value.code == code


def test_changing_a_screening_rule_in_the_admin_is_audited_with_old_and_new_values(client, city_hs):
    rule = ScreeningRule.objects.create(
        name="医疗", kind=ScreeningRule.Kind.MEDICAL_OUT_OF_POCKET, threshold_amount=Decimal("50000.00")
    )
    resp = login(client, city_hs).post(
        f"{ADMIN}screeningrule/{rule.pk}/change/",
        {"name": "医疗", "kind": "medical_oop_12m", "threshold_amount": "60000", "is_active": "on"},
    )

    assert resp.status_code == 302
    entry = AuditEntry.objects.get(action="hardship.screening_rule.changed")
    assert (entry.actor, entry.object_id) == (city_hs, str(rule.pk))
    assert entry.old == {"threshold_amount": "50000.00"} and entry.new == {"threshold_amount": "60000.00"}


@pytest.fixture
def city_settings(city_staff):
    """City federation staff holding the settings permissions, the threshold's among them."""
    return grant_hardship(city_staff, *STAFF_PERMS, "change_second_approval")


def test_the_settings_are_one_row_changed_in_place_and_audited(client, city_settings):
    login(client, city_settings)
    resp = client.get(ADMIN + "hardshipsettings/")
    row = HardshipSettings.get()
    assert resp.status_code == 302 and resp["Location"].endswith(f"/hardshipsettings/{row.pk}/change/")
    resp = client.post(
        f"{ADMIN}hardshipsettings/{row.pk}/change/", {"second_approval_above": "8000", "document_max_bytes": "1048576"}
    )
    assert resp.status_code == 302
    row.refresh_from_db()
    assert row.second_approval_above == D("8000")
    entry = AuditEntry.objects.get(action="hardship.settings.changed")
    assert entry.actor == city_settings
    assert entry.old == {"second_approval_above": "5000.00", "document_max_bytes": "10485760"}
    assert entry.new == {"second_approval_above": "8000.00", "document_max_bytes": "1048576"}
    assert client.get(ADMIN + "hardshipsettings/add/").status_code == 403


def test_the_settings_page_shows_the_services_refusal_of_a_negative_threshold(client, city_settings):
    row = HardshipSettings.get()
    resp = login(client, city_settings).post(
        f"{ADMIN}hardshipsettings/{row.pk}/change/", {"second_approval_above": "-1", "document_max_bytes": "1048576"}
    )

    assert resp.status_code == 200
    assert "金额不能为负数" in resp.content.decode()  # services.settings_values_check, not a copy in the form
    row.refresh_from_db()
    assert row.second_approval_above == D("5000") and not AuditEntry.objects.filter(action="hardship.settings.changed")

    with pytest.raises(ServiceError) as refused:
        services.settings_change(actor=city_settings, document_max_bytes=0)
    assert (refused.value.code, refused.value.details) == ("bad_size", {"field": "document_max_bytes"})


def test_a_district_supervisor_cannot_lift_the_threshold_and_then_approve_their_own_aid(
    client, filed_case, district_staff
):
    from hardship.seed import STAFF_CODENAMES, SUPERVISOR_CODENAMES
    from hardship.services import aid_create

    # Even holding every settings permission, a district is not the city.
    sup = grant_hardship(
        district_staff, *STAFF_CODENAMES, *SUPERVISOR_CODENAMES, "change_hardshipsettings", "change_second_approval"
    )
    row = HardshipSettings.get()
    resp = login(client, sup).post(
        f"{ADMIN}hardshipsettings/{row.pk}/change/",
        {"second_approval_above": "9999999", "document_max_bytes": "10485760"},
    )
    assert resp.status_code == 403
    row.refresh_from_db()
    assert row.second_approval_above == D("5000.00")
    assert not AuditEntry.objects.filter(action="hardship.settings.changed").exists()
    assert client.get(f"{ADMIN}hardshipsettings/{row.pk}/change/").status_code == 200  # read-only view

    a = aid_create(
        case=filed_case,
        actor=sup,
        fund_line="illness",
        amount="200000",
        purpose="大病救助",
        paid_on=dt.date(2025, 3, 1),
    )
    assert a.state == Aid.State.PENDING_APPROVAL and a.approver is None


def test_city_staff_without_the_threshold_permission_change_only_the_other_settings(client, city_staff):
    user = grant_hardship(city_staff, *STAFF_PERMS)
    row = HardshipSettings.get()
    resp = login(client, user).post(
        f"{ADMIN}hardshipsettings/{row.pk}/change/", {"second_approval_above": "9999999", "document_max_bytes": "2048"}
    )
    assert resp.status_code == 302
    row.refresh_from_db()
    assert (row.second_approval_above, row.document_max_bytes) == (D("5000.00"), 2048)
    entry = AuditEntry.objects.get(action="hardship.settings.changed")
    assert entry.old == {"document_max_bytes": "10485760"} and entry.new == {"document_max_bytes": "2048"}


def test_the_settings_service_refuses_the_threshold_to_anyone_but_city_staff_with_its_permission(
    tree, city_staff, district_staff
):
    from hardship.services import settings_change

    district = grant_hardship(district_staff, "change_hardshipsettings", "change_second_approval")
    city_without = grant_hardship(city_staff, "change_hardshipsettings")
    for actor in (district, city_without):
        with pytest.raises(ServiceError) as exc:
            settings_change(actor=actor, second_approval_above="9999999")
        assert exc.value.code == "forbidden"
    city_with = grant_hardship(city_without, "change_second_approval")
    assert settings_change(actor=city_with, second_approval_above="6000").second_approval_above == D("6000.00")
    assert HardshipSettings.get().second_approval_above == D("6000.00")
    assert AuditEntry.objects.filter(action="hardship.settings.changed").count() == 1


# --- Warmth batches and the cycle -------------------------------------------------------------


def test_a_warmth_batch_is_drawn_up_approved_and_exported(client, hs, checker, member, tree):
    year = 2025
    neighbour = MemberFactory(union=tree.g1, mobile="13711112222")
    for m in (member, neighbour):
        WarmthRosterEntry.objects.create(member=m, union=tree.g1, year=year, source="screening")
    login(client, hs)
    resp = client.post(
        BATCHES + "add/",
        {"name": "2025春节送温暖", "union": tree.g1.pk, "period": "2025-01", "amount_per_person": "716"},
    )
    assert resp.status_code == 302
    batch = WarmthBatch.objects.get()
    assert (batch.recipients, batch.total) == (2, D("1432.00"))

    act(login(client, checker), BATCHES, "approve", batch.pk)
    batch.refresh_from_db()
    assert batch.state == WarmthBatch.State.APPROVED

    export = act(client, BATCHES, "export_xlsx", batch.pk)
    assert export.status_code == 200
    wb = load_workbook(io.BytesIO(export.content))
    assert wb.active.max_row >= 6
    assert AccessLog.objects.filter(action="export", user=checker).exists()


def test_the_cycle_page_shows_steps_and_starts_a_month(client, city_hs):
    run = CycleRun.objects.create(
        period="2025-02",
        state="done",
        steps={"ingest": {"state": "done", "figures": {"pushes": 4, "accepted": 180}, "seconds": 0.5}},
    )
    login(client, city_hs)
    page = client.get(f"{CYCLES}{run.pk}/change/").content.decode()
    assert "cycle-steps" in page and "<b>180</b>" in page

    resp = client.post(CYCLES + "run/", {"period": "2025-03"})
    assert resp.status_code == 302
    assert CycleRun.objects.filter(period="2025-03").exists()
    assert client.post(CYCLES + "run/", {"period": "2025-3"}).status_code == 200  # a bad period is asked again


def test_the_cycle_page_reads_its_month_with_the_shared_parser_and_shows_its_refusal(client, city_hs):
    login(client, city_hs)
    refused = client.post(CYCLES + "run/", {"period": "2025-Q1"})
    assert refused.status_code == 200 and not CycleRun.objects.exists()
    assert "请按 YYYY-MM 格式填写月份" in refused.content.decode()  # core.parsing.month_parse's message

    assert client.post(CYCLES + "run/", {"period": "２０２５-０３"}).status_code == 302  # fullwidth digits
    assert CycleRun.objects.filter(period="2025-03").exists()


@pytest.mark.parametrize(
    ("form_class", "typed", "period"),
    [
        (PushUploadForm, " 2025-q1 ", "2025-Q1"),
        (PushUploadForm, "２０２５-０３", "2025-03"),
        (WarmthBatchForm, "2025-02", "2025-02"),
    ],
)
def test_the_period_forms_keep_the_shared_parsers_canonical_period(db, hs, form_class, typed, period):
    form = form_class({"period": typed}, user=hs)
    form.is_valid()
    assert form.cleaned_data["period"] == period


@pytest.mark.parametrize(
    ("form_class", "typed", "message"),
    [
        (PushUploadForm, "2025-13", "期间为月份（如 2025-03）或季度（如 2025-Q1）。"),
        (PushUploadForm, "1999-12", "期间为月份（如 2025-03）或季度（如 2025-Q1）。"),
        (WarmthBatchForm, "2025-Q1", "请按 YYYY-MM 格式填写月份，例如 2026-11。"),
    ],
)
def test_the_period_forms_show_the_shared_parsers_refusal(db, hs, form_class, typed, message):
    form = form_class({"period": typed}, user=hs)
    assert not form.is_valid()
    assert form.errors["period"] == [message]


def test_staff_without_the_cycle_permission_cannot_start_it(client, staff):
    viewer = grant_hardship(staff, "view_case", "view_cyclerun")
    login(client, viewer)
    assert client.get(CYCLES).status_code == 200
    assert client.post(CYCLES + "run/", {"period": "2025-03"}).status_code == 403
    assert not CycleRun.objects.exists()


def test_an_id_number_typed_with_fullwidth_digits_finds_the_case(client, hs, open_case, member):
    fullwidth = member.id_number.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789X"})
    resp = login(client, hs).get(CASES, {"q": fullwidth})
    assert resp.status_code == 302 and member.id_index in resp["Location"]
    assert rows(client.get(resp["Location"])) == [open_case]


def test_staff_see_why_a_push_failed(client, hs, db):
    mca = Agency.objects.get_or_create(code="mca", defaults={"name": "民政局"})[0]
    push = DataPush.objects.create(
        agency=mca, kind="low_income", period="2025-03", batch_id="gone", row_count=9, sha256="0" * 64,
        source="api_file", state="failed",
        response={"error": {"code": "stored_file_missing", "message": "The stored content is missing."}},
    )  # fmt: skip
    detail = login(client, hs).get(f"{PUSHES}{push.pk}/change/").content.decode()
    assert "stored_file_missing" in detail
