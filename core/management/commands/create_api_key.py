"""Issue an API key to a partner agency, or revoke one.

    manage.py create_api_key mca --scopes members:verify [--name "民政局 低保核对"]
    manage.py create_api_key --merchant 91330502AY4CL12THY --scopes vouchers:redeem
    manage.py create_api_key --revoke 1a2b3c4d5e6f

The key is printed once, alone on the last line (scripts can take it with `tail -n 1`);
only its SHA-256 digest is stored.
"""

import re

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from core.models import Agency, ApiKey
from core.services import api_key_create, api_key_revoke

SCOPE_RE = re.compile(r"[a-z][a-z_]*:[a-z][a-z_]*")


class Command(BaseCommand):
    help = "Create an API key for a partner agency (printed once, on the last line), or revoke one."

    def add_arguments(self, parser):
        parser.add_argument("agency_code", nargs="?", help="The agency's code, e.g. mca, hrss, nhsa, cdpf.")
        parser.add_argument("--scopes", default="", help="Comma-separated scopes, e.g. members:verify.")
        parser.add_argument("--name", default="", help="A label for the key, e.g. who uses it.")
        parser.add_argument("--revoke", metavar="KEY_ID", help="Revoke the key with this id (or the whole key).")
        parser.add_argument(
            "--merchant", metavar="CREDIT_CODE", help="Issue the key to the merchant with this credit code instead."
        )

    def handle(self, *args, agency_code=None, scopes="", name="", revoke=None, merchant=None, **options):
        if revoke:
            if agency_code or scopes:
                raise CommandError(_("--revoke takes no agency code or scopes."))
            return self._revoke(revoke)
        if merchant:
            if agency_code:
                raise CommandError(_("Give either an agency code or --merchant, not both."))
            return self._merchant_key(merchant, scopes, name)
        if not agency_code:
            raise CommandError(_("Give the agency's code, or --revoke KEY_ID."))
        agency = Agency.objects.filter(code=agency_code).first()
        if agency is None:
            known = ", ".join(Agency.objects.order_by("code").values_list("code", flat=True)) or "-"
            raise CommandError(
                _("Unknown agency code %(code)s. Known codes: %(known)s.") % {"code": agency_code, "known": known}
            )
        if not agency.is_active:
            raise CommandError(_("The agency %(agency)s is inactive.") % {"agency": agency})
        scope_list = [s.strip() for s in scopes.split(",") if s.strip()]
        if not scope_list:
            raise CommandError(_("Give at least one scope with --scopes, e.g. members:verify."))
        bad = [s for s in scope_list if not SCOPE_RE.fullmatch(s)]
        if bad:
            raise CommandError(
                _("Malformed scope(s): %(scopes)s. A scope looks like members:verify.") % {"scopes": ", ".join(bad)}
            )
        key, secret = api_key_create(agency=agency, scopes=scope_list, name=name)
        self.stdout.write(_("API key created for %(agency)s.") % {"agency": agency})
        self.stdout.write(
            _("Key id: %(id)s; scopes: %(scopes)s.") % {"id": key.key_id, "scopes": ", ".join(key.scopes)}
        )
        self.stdout.write(_("Store the key now: it is shown only once. Send it as: Authorization: Bearer <key>"))
        self.stdout.write(secret)

    def _scope_list(self, scopes: str) -> list[str]:
        scope_list = [s.strip() for s in scopes.split(",") if s.strip()]
        if not scope_list:
            raise CommandError(_("Give at least one scope with --scopes, e.g. members:verify."))
        bad = [s for s in scope_list if not SCOPE_RE.fullmatch(s)]
        if bad:
            raise CommandError(
                _("Malformed scope(s): %(scopes)s. A scope looks like members:verify.") % {"scopes": ", ".join(bad)}
            )
        return scope_list

    def _merchant_key(self, credit_code: str, scopes: str, name: str) -> None:
        from vouchers.models import Merchant

        merchant = Merchant.objects.filter(credit_code=credit_code.strip().upper()).first()
        if merchant is None:
            raise CommandError(_("No merchant with the credit code %(code)s.") % {"code": credit_code})
        if merchant.state != Merchant.State.APPROVED:
            raise CommandError(_("The merchant %(merchant)s is not approved.") % {"merchant": merchant})
        key, secret = api_key_create(agency=None, merchant=merchant, scopes=self._scope_list(scopes), name=name)
        self.stdout.write(_("API key created for %(agency)s.") % {"agency": merchant})
        self.stdout.write(
            _("Key id: %(id)s; scopes: %(scopes)s.") % {"id": key.key_id, "scopes": ", ".join(key.scopes)}
        )
        self.stdout.write(_("Store the key now: it is shown only once. Send it as: Authorization: Bearer <key>"))
        self.stdout.write(secret)

    def _revoke(self, value: str) -> None:
        # Accept the bare id or a whole key (upk_<id>_<secret>).
        key_id = value.split("_")[1] if value.startswith(f"{ApiKey.PREFIX}_") else value
        key = ApiKey.objects.select_related("agency").filter(key_id=key_id).first()
        if key is None:
            raise CommandError(_("No API key with the id %(id)s.") % {"id": key_id})
        api_key_revoke(key=key)
        self.stdout.write(_("API key %(key)s revoked.") % {"key": key})
