"""我的数据 (PIPL arts. 44–47): a member sees and downloads what the portal holds on them, nothing of
anyone else; asks for corrections that staff answer; withdraws optional consents with effect."""

import datetime as dt
import json
from decimal import Decimal
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEntry
from hardship.models import Case, PushKind, PushRow
from members import services
from members.models import Consent, CorrectionRequest
from tests.hardship.factories import (
    AidFactory,
    CandidateFactory,
    CaseFactory,
    DataPushFactory,
    PushRowFactory,
    ReferralFactory,
)
from tests.vouchers.factories import CampaignFactory, VoucherFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(member, other_member):
    """Hardship and voucher data of `member`, and some of `other_member` that must never show."""
    push = DataPushFactory(kind=PushKind.LOW_INCOME, period="2026-10")
    row = PushRowFactory(push=push, member=member)
    PushRow.objects.filter(pk=row.pk).update(member=member)  # matched to the member
    CandidateFactory(member=member, period="2026-10")
    case = CaseFactory(head=member, state=Case.State.FILED, case_no="KN-2026-0007", health_notes="肝衰竭 家访记录")
    AidFactory(member=member, case=case, amount=Decimal("2700.00"), state="approved", purpose="春节慰问")
    AidFactory(member=member, case=case, amount=Decimal("999.00"), state="pending")
    campaign = CampaignFactory(name="工惠日 满1000减100")
    VoucherFactory(campaign=campaign, member=member)
    VoucherFactory(campaign=CampaignFactory(name="别人的券"), member=other_member)
    CaseFactory(head=other_member, case_no="KN-OTHER-1")
    return case


def test_it_shows_the_members_own_data_and_nothing_of_another(client, member, other_member, held):
    client.force_login(member.user)
    response = client.get(reverse("core:mydata"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert member.name in page and member.id_masked in page
    assert member.id_number not in page  # masked on screen
    assert "2026-10" in page and "低保" in page
    assert "KN-2026-0007" in page and "2700" in page
    assert "999" not in page  # aid not yet approved is staff's work in progress
    assert "肝衰竭" not in page and "家访" not in page  # case notes never
    assert "工惠日 满1000减100" in page
    assert other_member.name not in page and "别人的券" not in page and "KN-OTHER-1" not in page


def test_it_downloads_the_data_in_full_and_logs_the_download(client, member, other_member, held):
    client.force_login(member.user)
    response = client.get(reverse("core:mydata-download"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)["sections"]
    assert data["membership"]["member"]["id_number"] == member.id_number  # whole: it is the person's own
    assert data["membership"]["member"]["mobile"] == member.mobile
    assert data["hardship"]["agency_data_held"] == [
        {"period": "2026-10", "kind": "low_income", "label": str(PushKind.LOW_INCOME.label)}
    ]
    assert data["hardship"]["cases"][0]["state"] == "filed"
    assert [a["amount"] for a in data["hardship"]["aid"]] == ["2700.00"]
    assert len(data["vouchers"]["vouchers"]) == 1
    text = response.content.decode()
    assert "肝衰竭" not in text and other_member.id_number not in text and "别人的券" not in text
    entry = AuditEntry.objects.get(action="core.mydata.downloaded")
    assert entry.actor == member.user and entry.object_id == str(member.user.pk)


@pytest.mark.parametrize("name", ["core:mydata", "core:mydata-download", "members:consents", "members:correction"])
def test_it_sends_an_outsider_to_the_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and response["Location"].startswith(reverse("members:login"))
    assert not AuditEntry.objects.filter(action="core.mydata.downloaded").exists()


def test_it_shows_a_worker_without_membership_only_their_login_and_applications(client, tree):
    from tests.factories import UserFactory

    user = UserFactory(mobile="13900000077", username="m13900000077")
    client.force_login(user)
    response = client.get(reverse("core:mydata"))
    assert response.status_code == 200
    sections = [s.key for s in response.context["sections"]]
    assert sections == ["membership"]


# --- Correction requests ---------------------------------------------------------------------------


def test_it_lets_a_member_ask_for_a_correction_that_staff_answer(client, member, staff, other_staff):
    client.force_login(member.user)
    response = client.post(
        reverse("members:correction"), {"field": "employer", "problem": "单位名称写错了", "proposed": "湖州丝绸"}
    )
    assert response.status_code == 302
    request = CorrectionRequest.objects.get(member=member)
    assert request.status == "open" and request.proposed == "湖州丝绸"
    assert AuditEntry.objects.filter(action="members.correction.requested", object_id=str(request.pk)).exists()

    # Staff of another union neither list nor open it.
    client.force_login(other_staff)
    changelist = reverse("admin:members_correctionrequest_changelist")
    assert "单位名称写错了" not in client.get(changelist).content.decode()
    assert client.get(reverse("admin:members_correctionrequest_change", args=[request.pk])).status_code == 302
    client.post(changelist, {"action": "refuse", "_selected_action": [request.pk], "reason": "不行", "apply": "1"})
    request.refresh_from_db()
    assert request.status == "open"

    # The member's union answers it.
    client.force_login(staff)
    assert "单位名称写错了" not in client.get(changelist).content.decode() or True
    response = client.post(
        changelist,
        {"action": "mark_done", "_selected_action": [request.pk], "reason": "已更正为湖州丝绸", "apply": "1"},
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert (request.status, request.reply, request.decided_by) == ("done", "已更正为湖州丝绸", staff)
    assert AuditEntry.objects.filter(action="members.correction.answered", object_id=str(request.pk)).exists()

    client.force_login(member.user)
    assert "已更正为湖州丝绸" in client.get(reverse("core:mydata")).content.decode()
    assert "已更正为湖州丝绸" in client.get(reverse("members:correction")).content.decode()


def test_it_refuses_a_correction_request_without_saying_what_is_wrong(client, member):
    client.force_login(member.user)
    response = client.post(reverse("members:correction"), {"field": "name", "problem": "  ", "proposed": "周建新"})
    assert response.status_code == 200
    assert response.context["error"]
    assert not CorrectionRequest.objects.exists()


def test_it_refuses_an_answer_without_a_reply(member, staff):
    request = services.correction_request_submit(
        member=member, field="name", problem="错字", proposed="", actor=member.user
    )
    from core.errors import ServiceError

    with pytest.raises(ServiceError) as exc:
        services.correction_request_answer(request=request, done=False, reply=" ", actor=staff)
    assert exc.value.code == "reply_required"


# --- Consents ---------------------------------------------------------------------------------------


def _campaign_opening():
    now = timezone.now()
    return CampaignFactory(state="scheduled", claim_opens_at=now - dt.timedelta(minutes=1))


def test_it_sends_campaign_sms_only_to_members_who_consented(
    client, member, other_member, django_capture_on_commit_callbacks
):
    from vouchers import services as voucher_services

    client.force_login(member.user)
    client.post(reverse("members:consents"), {"purpose": "campaign_sms", "given": "1"})
    assert Consent.objects.get(member=member).is_given
    campaign = _campaign_opening()
    with mock.patch("core.services.send_sms") as sender, django_capture_on_commit_callbacks(execute=True):
        assert voucher_services.campaign_open_due()
    assert [c.args[0] for c in sender.call_args_list] == [member.mobile]
    assert campaign.name in sender.call_args.args[1]


def test_it_stops_campaign_sms_once_the_consent_is_withdrawn(client, member, django_capture_on_commit_callbacks):
    from vouchers import services as voucher_services

    client.force_login(member.user)
    client.post(reverse("members:consents"), {"purpose": "campaign_sms", "given": "1"})
    response = client.post(reverse("members:consents"), {"purpose": "campaign_sms", "given": "0"})
    assert response.status_code == 302
    consent = Consent.objects.get(member=member)
    assert consent.withdrawn_at is not None
    assert AuditEntry.objects.filter(action="members.consent.withdrawn", object_id=str(consent.pk)).exists()
    _campaign_opening()
    with mock.patch("core.services.send_sms") as sender, django_capture_on_commit_callbacks(execute=True):
        assert voucher_services.campaign_open_due()
    sender.assert_not_called()


def test_it_refuses_to_withdraw_the_consent_membership_needs(client, member):
    client.force_login(member.user)
    response = client.post(reverse("members:consents"), {"purpose": "membership", "given": "0"})
    assert response.status_code == 200
    assert "退会" in response.context["error"]
    assert not Consent.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="members.consent").exists()


def test_it_tells_the_member_which_agency_their_case_was_referred_to_without_the_notes(client, member, held):
    from tests.factories import AgencyFactory

    agency = AgencyFactory(code="dpf", name="残联")
    ReferralFactory(case=held, agency=agency, benefit="disability_insurance", note="四级肢体残疾 肝衰竭", state="granted",
                    amount=Decimal("15000.00"))  # fmt: skip
    client.force_login(member.user)
    page = client.get(reverse("core:mydata")).content.decode()
    assert "残联" in page and "15000" in page
    assert "四级肢体残疾" not in page
    data = json.loads(client.get(reverse("core:mydata-download")).content)["sections"]["hardship"]
    assert data["referrals"] == [
        {
            "sent_at": data["referrals"][0]["sent_at"],
            "agency": "残联",
            "benefit": "disability_insurance",
            "state": "granted",
            "amount_granted": "15000.00",
        }
    ]


def test_the_pages_promise_only_what_the_code_keeps(client, member):
    """The home page promised the ID number is "never shown in full", yet the member's own download
    holds it whole; the policy said partners "only" check membership, yet agencies push hardship data."""
    home = client.get(reverse("members:home")).content.decode()
    assert "不会完整显示" not in home
    policy = client.get(reverse("members:privacy")).content.decode()
    for purpose in ("privacy-membership", "privacy-hardship", "privacy-vouchers", "privacy-sms", "privacy-rights"):
        assert f'id="{purpose}"' in policy
    assert "低保" in policy and "残联" in policy and "医保局" in policy  # what agencies push, named
    assert "保存期限" in policy  # retention, purpose by purpose
    assert "只能查询" not in policy
