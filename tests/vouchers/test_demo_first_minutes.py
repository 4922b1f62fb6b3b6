"""The demo a newcomer meets: demo_logins prints the address the server really runs on and the
cashier's SMS login on the merchant page; the README's table has the cashier; a stackable campaign
is open now, so the demo worker claims, and the demo cashier, logged in by SMS, redeems."""

import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from core import sms
from core.seed import SeedContext, registered_steps
from members.models import Member
from members.seed import demo as members_demo
from members.seed.generate import DEMO_WORKER_MOBILE
from vouchers import seed
from vouchers.models import Campaign, Voucher
from vouchers.services import voucher_claim

# The demo commands run only in development (core.seed.refuse_outside_development).
pytestmark = pytest.mark.usefixtures("development")

ROOT = Path(__file__).resolve().parents[2]


def ctx() -> SeedContext:
    return SeedContext(seed=1, members=300, progress=False, log=lambda msg: None)


def run_steps(c: SeedContext) -> list[str]:
    ran = []
    for step in registered_steps():
        if step.name.startswith("vouchers.") and not step.done(c):
            step.run(c)
            ran.append(step.name)
    return ran


@pytest.fixture
def demo(db):
    c = ctx()
    members_demo.seed_city(c)
    members_demo.seed_logins(c)
    run_steps(c)
    return c


def sms_login(client, mobile, django_capture_on_commit_callbacks, next_url):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("members:login-code"), {"mobile": mobile}, HTTP_HX_REQUEST="true")
    code = re.search(r"\b(\d{6})\b", [m for m in sms.outbox if m["mobile"] == mobile][-1]["text"]).group(1)
    return client.post(reverse("members:login"), {"mobile": mobile, "sms_code": code, "next": next_url})


def test_demo_logins_print_the_address_the_server_runs_on(demo, monkeypatch):
    monkeypatch.setenv("PORT", "8123")
    out = StringIO()
    call_command("demo_logins", stdout=out)
    text = out.getvalue()
    assert "Portal: http://127.0.0.1:8123" in text and "127.0.0.1:8000" not in text
    out = StringIO()
    call_command("demo_logins", "--base-url", "http://127.0.0.1:9000/", stdout=out)
    assert "http://127.0.0.1:9000/vouchers/merchant/   mobile 13900000000" in out.getvalue()
    makefile = (ROOT / "Makefile").read_text()
    assert "demo_logins --base-url http://127.0.0.1:$(PORT)" in makefile
    assert "runserver 127.0.0.1:$(PORT)" in makefile


def test_the_cashier_is_told_to_log_in_by_sms_and_the_readme_has_the_row(demo):
    out = StringIO()
    call_command("demo_logins", stdout=out)
    cashier = [line for line in out.getvalue().splitlines() if "13900000000" in line]
    assert cashier and "password" not in " ".join(cashier).lower()
    assert "SMS" in out.getvalue()
    rows = [line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("| cashier")]
    assert len(rows) == 1 and "13900000000" in rows[0] and "/vouchers/merchant/" in rows[0]


def test_a_stackable_campaign_is_open_now_and_the_first_five_minutes_work(
    demo, client, django_capture_on_commit_callbacks
):
    campaign = seed.open_now_campaign()
    assert campaign is not None and campaign.stackable and campaign.state == Campaign.State.OPEN
    out = StringIO()
    call_command("demo_logins", "--base-url", "http://127.0.0.1:8000", stdout=out)
    assert f"http://127.0.0.1:8000/vouchers/{campaign.pk}/" in out.getvalue()

    worker = Member.objects.get(mobile=DEMO_WORKER_MOBILE)
    claims = [voucher_claim(campaign_id=campaign.pk, member=worker) for _i in range(2)]
    assert [c.outcome for c in claims] == ["claimed", "claimed"]
    codes = [c.voucher.code for c in claims]

    address = f"/vouchers/merchant/?code={codes[0]}"
    assert client.get(address).status_code == 302  # to the login, then back
    landed = sms_login(client, seed.MERCHANT_MOBILE, django_capture_on_commit_callbacks, address)
    assert landed.status_code == 302 and landed["Location"] == address
    assert codes[0] in client.get(address).content.decode()
    quote = client.post(
        reverse("vouchers:merchant-quote"), {"codes": "\n".join(codes), "order_amount": "2000"}
    ).content.decode()
    data = dict(re.findall(r'name="(codes|order_amount|order_ref|idempotency_key)" value="([^"]*)"', quote))
    done = client.post(reverse("vouchers:merchant-redeem"), data).content.decode()
    assert "200.00" in done
    assert set(Voucher.objects.filter(code__in=codes).values_list("state", flat=True)) == {"used"}


def test_the_open_campaign_is_made_once_and_again_when_it_has_closed(demo):
    assert run_steps(demo) == []
    Campaign.objects.filter(name=seed.OPEN_NOW_NAME).update(state=Campaign.State.CLOSED)
    assert run_steps(demo) == ["vouchers.open_now"]
    assert Campaign.objects.filter(name=seed.OPEN_NOW_NAME, state=Campaign.State.OPEN).count() == 1
