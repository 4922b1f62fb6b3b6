"""Issue 10: approved aid could not be voided, and nothing ever marked aid paid. Void (with a reason,
audited) and payment batches (the bank file, confirmation marks the aid paid)."""

import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from core.errors import ServiceError
from core.models import AuditEntry
from hardship import services
from hardship.models import AccessLog, Aid, PaymentBatch, WarmthBatch, WarmthRosterEntry
from members.models import Member
from tests.factories import StaffFactory
from tests.hardship.conftest import grant_hardship
from tests.hardship.factories import AidFactory
from tests.hardship.test_admin import STAFF_PERMS, act, login

AID = "/admin/hardship/aid/"
BATCHES = "/admin/hardship/paymentbatch/"
PAY_PERMS = (*STAFF_PERMS, "view_paymentbatch", "add_paymentbatch", "change_paymentbatch")


def approved(case, actor, amount="1000.00", **kw):
    made = services.aid_create(
        case=case,
        actor=actor,
        fund_line=kw.pop("fund_line", "illness"),
        amount=amount,
        purpose=kw.pop("purpose", "大病救助"),
        paid_on=timezone.localdate(),
        double_aid_acknowledged=True,
        **kw,
    )
    assert made.state == Aid.State.APPROVED
    return made


def refused(call, code, **kw):
    with pytest.raises(ServiceError) as exc:
        call(**kw)
    assert exc.value.code == code, exc.value.message
    return exc.value


@pytest.fixture
def hs(staff):
    return grant_hardship(staff, *PAY_PERMS)


@pytest.fixture
def outsider(other_staff):
    """南浔区 staff holding every permission here: outside 吴兴区's cases, aid and batches."""
    return grant_hardship(other_staff, *PAY_PERMS)


# --- Void -----------------------------------------------------------------------------------------


def test_it_voids_approved_aid_with_a_reason_on_the_timeline_and_in_the_audit_log(filed_case, case_staff):
    a = approved(filed_case, case_staff, "5000.00")
    services.aid_void(aid=a, actor=case_staff, reason="金额录入错误")
    a.refresh_from_db()
    assert a.state == Aid.State.VOIDED and a.voided_by == case_staff and a.voided_at is not None
    assert a.void_reason == "金额录入错误"
    entry = AuditEntry.objects.get(action="hardship.aid.voided", object_id=str(a.pk))
    assert entry.old == {"state": "approved"} and entry.new["state"] == "voided" and "金额" not in str(entry.new)
    event = filed_case.events.get(kind="aid_voided")
    assert event.text == "金额录入错误" and event.data["aid"] == a.pk


def test_voided_aid_counts_neither_toward_the_threshold_nor_the_double_aid_check(filed_case, case_staff):
    a = approved(filed_case, case_staff, "5000.00")
    services.aid_void(aid=a, actor=case_staff, reason="重复录入")
    assert services.household_aid_total(case=filed_case) == 0
    period = a.period
    assert (
        services.double_aid_check(member=filed_case.head, fund_line="illness", purpose="大病救助", period=period) == []
    )
    # Without the void this 5,000 would make 10,000, above the threshold.
    assert approved(filed_case, case_staff, "5000.00").state == Aid.State.APPROVED


def test_it_refuses_a_void_without_a_reason_in_the_service_and_the_admin(client, filed_case, hs):
    a = approved(filed_case, hs)
    refused(services.aid_void, "reason_required", aid=a, actor=hs, reason="  ")
    login(client, hs)
    resp = act(client, AID, "void", a.pk, apply="1", note="")
    assert resp.status_code == 200 and "请填写备注" in resp.content.decode()
    a.refresh_from_db()
    assert a.state == Aid.State.APPROVED


def test_it_voids_through_the_admin_action(client, filed_case, hs):
    a = approved(filed_case, hs)
    login(client, hs)
    resp = act(client, AID, "void", a.pk, apply="1", note="受助人已去世")
    assert resp.status_code == 302
    a.refresh_from_db()
    assert a.state == Aid.State.VOIDED


def test_it_refuses_to_void_aid_waiting_for_approval_or_already_paid(filed_case, case_staff):
    a = approved(filed_case, case_staff, "100.00", fund_line="living", purpose="生活")
    pending = services.aid_create(
        case=filed_case, actor=case_staff, fund_line="illness", amount="9000", purpose="x", paid_on=timezone.localdate()
    )
    refused(services.aid_void, "not_approved", aid=pending, actor=case_staff, reason="r")
    Aid.objects.filter(pk=a.pk).update(state="paid", paid_at=timezone.now())
    refused(services.aid_void, "not_approved", aid=a, actor=case_staff, reason="r")


def test_aid_in_a_payment_batch_is_voided_only_once_the_batch_is_cancelled(tree, filed_case, hs):
    a = approved(filed_case, hs)
    batch = services.payment_batch_create(union=tree.g1, actor=hs)
    refused(services.aid_void, "in_payment_batch", aid=a, actor=hs, reason="r")
    services.payment_batch_cancel(batch=batch, actor=hs, reason="银行文件有误")
    services.aid_void(aid=a, actor=hs, reason="改为下月发放")
    a.refresh_from_db()
    assert a.state == Aid.State.VOIDED and a.payment_batch is None


def test_the_outsider_cannot_void_aid_in_the_service_or_the_admin(client, filed_case, case_staff, outsider):
    a = approved(filed_case, case_staff)
    refused(services.aid_void, "forbidden", aid=a, actor=outsider, reason="r")
    login(client, outsider)
    act(client, AID, "void", a.pk, apply="1", note="越权作废")
    a.refresh_from_db()
    assert a.state == Aid.State.APPROVED


# --- Payment batches ------------------------------------------------------------------------------------


def test_a_batch_takes_the_approved_unpaid_aid_of_the_unions_subtree(tree, filed_case, hs, other_member):
    a1 = approved(filed_case, hs, "1000.00")
    a2 = approved(filed_case, hs, "2000.00", fund_line="living", purpose="生活")
    voided = approved(filed_case, hs, "300.00", fund_line="schooling", purpose="助学")
    services.aid_void(aid=voided, actor=hs, reason="r")
    AidFactory(member=filed_case.head, maker=hs)  # waiting for approval
    elsewhere = AidFactory(member=other_member, state="approved", maker=hs)  # 南浔区's
    batch = services.payment_batch_create(union=tree.g1, actor=hs)
    assert batch.state == PaymentBatch.State.DRAFT and batch.aid_count == 2 and str(batch.total) == "3000.00"
    assert set(batch.aid.values_list("pk", flat=True)) == {a1.pk, a2.pk}
    elsewhere.refresh_from_db()
    assert elsewhere.payment_batch is None
    # The same aid is never in two live batches.
    refused(services.payment_batch_create, "nothing_to_pay", union=tree.g1, actor=hs)
    assert AuditEntry.objects.filter(action="hardship.payment_batch.created", object_id=str(batch.pk)).exists()


def test_the_bank_file_sends_the_batch_and_holds_names_masked_ids_and_escaped_text(tree, filed_case, hs, member):
    Member.objects.filter(pk=member.pk).update(name='=HYPERLINK("http://x","付款")')
    a = approved(filed_case, hs, "1234.50")
    batch = services.payment_batch_create(union=tree.g1, actor=hs)
    content = services.payment_batch_bank_file(batch=batch, actor=hs)
    batch.refresh_from_db()
    assert batch.state == PaymentBatch.State.SENT and batch.sent_at is not None
    ws = load_workbook(io.BytesIO(content)).active
    rows = [r for r in ws.iter_rows(values_only=True) if any(v is not None for v in r)]
    row = next(r for r in rows if r[0] == f"AID{a.pk:08d}")
    assert row[1] == '\'=HYPERLINK("http://x","付款")'  # shown as text, never run
    assert row[2] == member.member_no and row[3] == member.id_masked and float(row[6]) == 1234.50
    assert member.id_number not in repr(rows)
    assert rows[-1][0] in ("合计", "Total") and float(rows[-1][6]) == 1234.50
    assert AccessLog.objects.filter(user=hs, action="export", detail=f"payment batch {batch.pk}").exists()
    # Again: the same file, the batch stays sent.
    services.payment_batch_bank_file(batch=batch, actor=hs)
    assert AuditEntry.objects.filter(action="hardship.payment_batch.sent").count() == 1


def test_confirming_marks_every_aid_paid_and_a_fully_paid_warmth_batch_paid(tree, filed_case, hs, case_checker, member):
    a = approved(filed_case, hs)
    WarmthRosterEntry.objects.create(member=member, union=tree.g1, year=2025, source="case")
    warmth = services.warmth_batch_create(
        union=tree.g1, period="2025-01", amount_per_person="500", actor=hs, name="春节"
    )
    services.warmth_batch_approve(batch=warmth, actor=case_checker)
    batch = services.payment_batch_create(union=tree.g1, actor=hs)
    assert batch.aid_count == 2
    refused(services.payment_batch_confirm, "not_sent", batch=batch, actor=hs)
    services.payment_batch_bank_file(batch=batch, actor=hs)
    services.payment_batch_confirm(batch=batch, actor=case_checker)
    batch.refresh_from_db()
    assert batch.state == PaymentBatch.State.CONFIRMED and batch.confirmed_by == case_checker
    assert set(Aid.objects.filter(payment_batch=batch).values_list("state", flat=True)) == {"paid"}
    assert all(p is not None for p in Aid.objects.filter(payment_batch=batch).values_list("paid_at", flat=True))
    assert AuditEntry.objects.filter(action="hardship.aid.paid").count() == 2
    assert filed_case.events.filter(kind="aid_paid", data__aid=a.pk).exists()
    warmth.refresh_from_db()
    assert warmth.state == WarmthBatch.State.PAID
    refused(services.payment_batch_confirm, "not_sent", batch=batch, actor=hs)
    refused(services.payment_batch_cancel, "already_confirmed", batch=batch, actor=hs, reason="r")


def test_cancelling_needs_a_reason_and_releases_the_aid(client, tree, filed_case, hs):
    a = approved(filed_case, hs)
    batch = services.payment_batch_create(union=tree.g1, actor=hs)
    refused(services.payment_batch_cancel, "reason_required", batch=batch, actor=hs, reason="")
    login(client, hs)
    resp = act(client, BATCHES, "cancel", batch.pk, apply="1", note="")
    assert resp.status_code == 200 and "请填写备注" in resp.content.decode()
    batch.refresh_from_db()
    assert batch.state == PaymentBatch.State.DRAFT
    act(client, BATCHES, "cancel", batch.pk, apply="1", note="金额有误")
    batch.refresh_from_db()
    a.refresh_from_db()
    assert batch.state == PaymentBatch.State.CANCELLED and batch.cancel_reason == "金额有误"
    assert a.payment_batch is None and a.state == Aid.State.APPROVED
    refused(services.payment_batch_bank_file, "batch_cancelled", batch=batch, actor=hs)
    # Released aid goes into the next batch.
    assert services.payment_batch_create(union=tree.g1, actor=hs).aid_count == 1


def test_the_admin_draws_up_sends_and_confirms_a_batch(client, tree, filed_case, hs):
    a = approved(filed_case, hs)
    login(client, hs)
    resp = client.post(BATCHES + "add/", {"union": tree.g1.pk})
    batch = PaymentBatch.objects.get()
    assert resp.status_code == 302 and resp["Location"].endswith(f"/{batch.pk}/change/")
    resp = act(client, BATCHES, "bank_file", batch.pk)
    assert resp.status_code == 200 and resp["Content-Type"].startswith("application/vnd.openxmlformats")
    act(client, BATCHES, "confirm", batch.pk)
    a.refresh_from_db()
    assert a.state == Aid.State.PAID and a.paid_at is not None


def test_the_admin_add_page_shows_the_refusal_when_nothing_waits(client, tree, hs):
    login(client, hs)
    resp = client.post(BATCHES + "add/", {"union": tree.g1.pk})
    assert resp.status_code == 200 and "没有等待支付的已批准帮扶" in resp.content.decode()
    assert not PaymentBatch.objects.exists()


def test_the_outsider_can_neither_see_nor_act_on_a_batch(client, tree, filed_case, hs, outsider):
    approved(filed_case, hs)
    batch = services.payment_batch_create(union=tree.g1, actor=hs)
    refused(services.payment_batch_create, "forbidden", union=tree.g1, actor=outsider)
    refused(services.payment_batch_bank_file, "forbidden", batch=batch, actor=outsider)
    refused(services.payment_batch_confirm, "forbidden", batch=batch, actor=outsider)
    refused(services.payment_batch_cancel, "forbidden", batch=batch, actor=outsider, reason="r")
    login(client, outsider)
    assert client.get(BATCHES).context["cl"].result_count == 0
    assert client.get(f"{BATCHES}{batch.pk}/change/").status_code == 302
    resp = client.post(BATCHES + "add/", {"union": tree.g1.pk})
    assert resp.status_code == 200 and not PaymentBatch.objects.exclude(pk=batch.pk).exists()
    act(client, BATCHES, "bank_file", batch.pk)
    batch.refresh_from_db()
    assert batch.state == PaymentBatch.State.DRAFT
    assert not AccessLog.objects.filter(user=outsider).exists()


def test_the_batch_list_makes_the_same_queries_for_one_batch_or_many(
    client, tree, filed_case, hs, django_assert_num_queries, django_assert_max_num_queries
):
    def add_batch():
        approved(filed_case, hs, "10.00")
        services.payment_batch_create(union=tree.g1, actor=hs)

    add_batch()
    login(client, hs)
    client.get(BATCHES)  # warm the caches (sessions, content types)
    with django_assert_max_num_queries(40) as one:
        assert client.get(BATCHES).status_code == 200
    for _ in range(3):
        add_batch()
    other = grant_hardship(StaffFactory(username="g1other", union=tree.g1), *PAY_PERMS)
    PaymentBatch.objects.update(created_by=other, confirmed_by=hs)
    with django_assert_num_queries(len(one.captured_queries)):
        resp = client.get(BATCHES)
    assert resp.context["cl"].result_count == 4
