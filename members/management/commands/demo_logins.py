from django.core.management.base import BaseCommand

from members.models import Member, Union, User
from members.seed.demo import DEMO_PASSWORD, DEMO_WORKER_MOBILE, DemoStaff, demo_api_key
from vouchers.seed import MERCHANT_MOBILE, MERCHANT_USERNAME, demo_merchant_api_key

BASE_URL = "http://127.0.0.1:8000"


class Command(BaseCommand):
    help = "Print the demo logins (development only): worker, staff roles and a fresh agency API key."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default=BASE_URL)

    def handle(self, *args, base_url, **options):
        agency, key = demo_api_key()
        worker = Member.objects.select_related("union").filter(mobile=DEMO_WORKER_MOBILE).first()
        unions = dict(
            Union.objects.filter(code__in=[a[1] for a in DemoStaff.ACCOUNTS if a[1]]).values_list("code", "name")
        )
        existing = set(
            User.objects.filter(username__in=[a[0] for a in DemoStaff.ACCOUNTS]).values_list("username", flat=True)
        )
        out = [
            "",
            "=" * 72,
            "  Demo logins (development data only — never use these anywhere else)",
            "=" * 72,
            f"  Portal: {base_url}",
            "",
            "  Worker (mobile web, log in with an SMS code):",
            f"    {base_url}/m/login/   mobile {DEMO_WORKER_MOBILE}",
            "    The SMS code appears in this terminal (console SMS backend, in the runserver log).",
        ]
        if worker:
            out.append(f"    ({worker.name}, member {worker.member_no}, {worker.union.name})")
        out += ["", f"  Staff (Django admin {base_url}/admin/), password: {DEMO_PASSWORD}"]
        for username, code, _display, sees in DemoStaff.ACCOUNTS:
            missing = "" if username in existing else "  [not created yet: run seed_demo]"
            where = f" ({unions.get(code, code)})" if code else ""
            out.append(f"    {username:<10} {sees}{where}{missing}")
        out += [
            "",
            f"  Agency API key for {agency.name} ({agency.code}), scope members:verify (new on every run; the",
            "  previous demo key is revoked):",
            f"    {key}",
        ]
        # Vouchers: the demo merchant's staff login and a fresh merchant key (vouchers.seed).
        merchant, merchant_key = demo_merchant_api_key()
        if merchant is not None:
            out += [
                "",
                f"  Merchant staff of {merchant.name} (the merchant's phone page, 核销):",
                f"    {MERCHANT_USERNAME:<10} mobile {MERCHANT_MOBILE}, password {DEMO_PASSWORD}",
                "  Merchant API key, scope vouchers:redeem (new on every run; the previous one is revoked):",
                f"    {merchant_key}",
            ]
        if worker:
            # Fake demo data: the only place where a whole (invented) ID number is printed.
            out += [
                "",
                "  Try it (the ID number is the invented one of the demo worker):",
                f"    curl -s -X POST {base_url}/api/v1/members/verify \\",
                f"      -H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' \\",
                f'      -d \'{{"id_number": "{worker.id_number}"}}\'',
            ]
        out += ["=" * 72, ""]
        self.stdout.write("\n".join(out))
