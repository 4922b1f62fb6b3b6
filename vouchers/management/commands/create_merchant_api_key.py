"""Issue an API key to an approved merchant (for its tills and POS systems).

    manage.py create_merchant_api_key 91330502AY4CL12THY [--scopes vouchers:redeem] [--name "收银系统"]

The key is printed once, alone on the last line; revoke it with `manage.py create_api_key --revoke`.
The rules are the services': the merchant approved (`vouchers.services.merchants.merchant_api_key_create`),
the key's scopes and name (`core.services.api_key_validate`).
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from core.errors import ServiceError
from core.management.commands.create_api_key import print_new_key
from core.parsing import credit_code_parse
from vouchers.models import Merchant
from vouchers.services import REDEEM_SCOPE, merchant_api_key_create


class Command(BaseCommand):
    help = "Create an API key for an approved merchant (printed once, on the last line)."

    def add_arguments(self, parser):
        parser.add_argument("credit_code", help="The merchant's unified social credit code.")
        parser.add_argument("--scopes", default=REDEEM_SCOPE, help="Comma-separated scopes (vouchers:redeem).")
        parser.add_argument("--name", default="", help="A label for the key, e.g. which till uses it.")

    def handle(self, *args, credit_code, scopes, name, **options):
        try:
            code = credit_code_parse(credit_code)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        merchant = Merchant.objects.filter(credit_code=code).first()
        if merchant is None:
            raise CommandError(_("No merchant with the credit code %(code)s.") % {"code": credit_code})
        try:
            key, secret = merchant_api_key_create(merchant=merchant, actor=None, name=name, scopes=scopes.split(","))
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        print_new_key(self.stdout, owner=merchant, key=key, secret=secret)
