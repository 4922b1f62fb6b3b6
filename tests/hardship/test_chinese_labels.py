"""The Chinese admin shows no raw code on the hardship pages: the case timeline, the evidence of
the agencies, the monthly cycle (list and page), candidates' evidence, the double-aid findings."""

import re
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from hardship import services
from hardship.models import Candidate, CaseEvent, CycleRun, DataPush, PushRow, ScreeningRule
from tests.factories import AgencyFactory
from tests.hardship.conftest import grant_hardship

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
CASES = "/admin/hardship/case/"
CYCLES = "/admin/hardship/cyclerun/"
CANDIDATES = "/admin/hardship/candidate/"

STEP_CODES = ("ingest", "match", "screen", "roster", "notify", "publish")
STATE_CODES = ("queued", "running", "done", "failed")
FIGURE_CODES = (
    "pushes", "accepted", "rejected", "errors", "states", "newly_matched", "rows", "matched", "unmatched",
    "by_agency_kind", "rules", "hits", "new", "refreshed", "case_notes", "seen", "new_by_union", "year",
    "eligible", "added", "reactivated", "updated", "deactivated", "active", "by_source", "unions",
    "recipients", "without_staff", "cases_by_agency", "kind", "period",
)  # fmt: skip


class _Text(HTMLParser):
    """The text a person sees: no tags, attributes, scripts or styles."""

    def __init__(self):
        super().__init__()
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "option", "select", "textarea"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "option", "select", "textarea"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible(html: str, start: str | None = None, end: str | None = None) -> str:
    if start:
        html = html[html.index(start) :]
    if end and end in html:
        html = html[: html.index(end)]
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


def raw_codes_in(text: str, codes) -> list[str]:
    return [c for c in codes if re.search(rf"(?<![A-Za-z_]){re.escape(c)}(?![A-Za-z_])", text)]


@pytest.fixture
def hs(staff):
    return grant_hardship(
        staff, "view_case", "add_case", "change_case", "view_candidate", "change_candidate", "view_cyclerun"
    )


@pytest.fixture
def nhsa(db):
    return AgencyFactory(code="nhsa", name="医保局")


def _row(agency, member, kind, payload, line):
    push, _ = DataPush.objects.get_or_create(
        agency=agency,
        batch_id=f"b-{kind}",
        defaults={"kind": kind, "period": "2025-02", "row_count": 1, "sha256": "0" * 64, "source": "api_json"},
    )
    return PushRow.objects.create(
        push=push, agency=agency, kind=kind, period="2025-02", line=line, source_key=f"k{line}", id_number="x",
        id_index=member.id_index, member=member, payload=payload,
    )  # fmt: skip


def test_the_case_page_in_chinese_shows_no_raw_event_fund_line_or_agency_code(
    client, hs, filed_case, member, nhsa, tree
):
    mca = AgencyFactory(code="mca", name="民政局")
    _row(mca, member, "low_income", {"list": "dibao", "status": "active", "start_date": "2024-01-01"}, 1)
    _row(AgencyFactory(code="cdpf", name="残联"), member, "disability", {"type": "physical", "grade": 4}, 2)
    _row(mca, member, "aid_given", {"body": "民政局", "purpose": "临时救助", "fund_line": "living", "amount": "800"}, 3)
    # Every kind of timeline event (the services write most of them; a few are written here).
    services.case_review(case=filed_case, actor=hs, note="入户复核", outcome="still_in_hardship")
    services.warmth_roster_add_case(case=filed_case, actor=hs)
    for kind in CaseEvent.Kind.values:
        if not filed_case.events.filter(kind=kind).exists():
            CaseEvent.objects.create(case=filed_case, kind=kind, text="", data={})
    CaseEvent.objects.create(case=filed_case, kind="some_future_kind", text="")

    client.force_login(hs)
    html = client.get(f"{CASES}{filed_case.pk}/change/", **ZH).content.decode()

    timeline = visible(html, 'id="timeline"')
    assert raw_codes_in(timeline, [*CaseEvent.Kind.values, "state", "some_future_kind"]) == []
    for label in ("建档", "年度复核", "列入送温暖名单", "其他记录"):
        assert label in timeline
    evidence = visible(html, 'id="evidence"', 'id="timeline"')
    codes = ("dibao", "active", "physical", "living", "nhsa", "mca", "cdpf", "low_income", "aid_given")
    assert raw_codes_in(evidence, codes) == []
    assert "最低生活保障" in evidence and "肢体残疾" in evidence and "生活" in evidence


def test_the_cycle_pages_in_chinese_show_no_raw_step_state_figure_or_agency_code(client, hs, tree, nhsa):
    rule = ScreeningRule.objects.create(name="自付医疗费用≥5万", kind="medical_oop_12m", threshold_amount="50000")
    steps = {
        "ingest": {"state": "done", "figures": {"pushes": 2, "accepted": 180, "rejected": 1, "errors": 0,
                                                "states": {"ingested": 2}}},
        "match": {"state": "done", "figures": {"period": "2025-02", "newly_matched": 3, "rows": 4, "matched": 3,
                                               "unmatched": 1,
                                               "by_agency_kind": {"nhsa/medical": {"rows": 4, "matched": 3,
                                                                                   "unmatched": 1}}}},
        "screen": {"state": "done", "figures": {"period": "2025-02", "hits": 1, "new": 1, "refreshed": 0,
                                                "case_notes": 0, "seen": 0, "new_by_union": {str(tree.g1.pk): 1},
                                                "rules": {str(rule.pk): {"rule": rule.pk, "kind": rule.kind,
                                                                         "hits": 1, "new": 1, "refreshed": 0,
                                                                         "case_notes": 0, "seen": 0}}}},
        "roster": {"state": "running", "figures": {"year": 2025, "eligible": 1, "added": 1, "reactivated": 0,
                                                   "updated": 0, "deactivated": 0, "active": 1,
                                                   "by_source": {"case": 1}}},
        "notify": {"state": "failed", "figures": {"unions": 1, "recipients": 2, "without_staff": 0}},
        "publish": {"state": "queued", "figures": {"cases_by_agency": {"nhsa": 1}}},
    }  # fmt: skip
    run = CycleRun.objects.create(period="2025-02", state="done", steps=steps, started_at=timezone.now())
    client.force_login(hs)

    page = client.get(f"{CYCLES}{run.pk}/change/", **ZH).content.decode()
    table = visible(page, 'class="cycle-steps"', "</table>")
    codes = (*STEP_CODES, *STATE_CODES, *FIGURE_CODES, "nhsa", "medical", "medical_oop_12m", "case", "ingested")
    assert raw_codes_in(table, codes) == []
    for label in ("导入推送数据", "医保局", tree.g1.name, rule.name, "已匹配", "更新送温暖名单"):
        assert label in table

    listing = visible(client.get(CYCLES, **ZH).content.decode(), 'id="result_list"', "</table>")
    assert raw_codes_in(listing, (*STEP_CODES, *STATE_CODES)) == []
    assert "导入推送数据" in listing


def test_candidates_evidence_in_chinese_names_the_agency_not_its_code(client, hs, member, nhsa):
    rule = ScreeningRule.objects.create(name="低保名单", kind="low_income")
    Candidate.objects.create(
        member=member, union=member.union, rule=rule, period="2025-02",
        evidence={"sources": ["nhsa"], "list": "dibian", "rows": [1]}, evidence_key="k1",
    )  # fmt: skip
    client.force_login(hs)
    text = visible(client.get(CANDIDATES, **ZH).content.decode(), 'id="result_list"', "</table>")
    assert raw_codes_in(text, ("nhsa", "dibian")) == []
    assert "医保局" in text and "低保边缘" in text


def test_the_access_log_in_chinese_shows_what_was_opened_not_the_stored_code(client, filed_case, district_staff):
    from hardship.models import AccessLog

    supervisor = grant_hardship(district_staff, "view_case", "list_all_cases", "view_accesslog")
    for detail in ("form assess", "document 7", "warmth batch 3", "report 2025-02 WX", "电话回访核实情况"):
        AccessLog.objects.create(user=supervisor, action="open", case=filed_case, detail=detail)
    client.force_login(supervisor)
    text = visible(client.get("/admin/hardship/accesslog/", **ZH).content.decode(), 'id="result_list"', "</table>")
    assert raw_codes_in(text, ("form", "assess", "document", "warmth batch", "report")) == []
    assert "电话回访核实情况" in text and "表单：" in text and "送温暖批次 3" in text
