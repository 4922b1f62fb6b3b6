"""Issue an API key to a partner agency, or revoke one.

    manage.py create_api_key mca --scopes members:verify [--name "民政局 低保核对"]
    manage.py create_api_key --revoke 1a2b3c4d5e6f

A merchant's key is issued by vouchers (`manage.py create_merchant_api_key`). The key is printed
once, alone on the last line (scripts can take it with `tail -n 1`); only its SHA-256 digest is
stored. The rules for a key (scopes, name, agency) are `core.services.api_key_validate`'s.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from core.errors import ServiceError
from core.models import Agency, ApiKey
from core.services import api_key_create, api_key_revoke


def print_new_key(stdout, *, owner, key: ApiKey, secret: str) -> None:
    """The lines every key-issuing command prints: the secret last and alone."""
    stdout.write(_("API key created for %(agency)s.") % {"agency": owner})
    stdout.write(_("Key id: %(id)s; scopes: %(scopes)s.") % {"id": key.key_id, "scopes": ", ".join(key.scopes)})
    stdout.write(_("Store the key now: it is shown only once. Send it as: Authorization: Bearer <key>"))
    stdout.write(secret)


class Command(BaseCommand):
    help = "Create an API key for a partner agency (printed once, on the last line), or revoke one."

    def add_arguments(self, parser):
        parser.add_argument("agency_code", nargs="?", help="The agency's code, e.g. mca, hrss, nhsa, cdpf.")
        parser.add_argument("--scopes", default="", help="Comma-separated scopes, e.g. members:verify.")
        parser.add_argument("--name", default="", help="A label for the key, e.g. who uses it.")
        parser.add_argument("--revoke", metavar="KEY_ID", help="Revoke the key with this id (or the whole key).")

    def handle(self, *args, agency_code=None, scopes="", name="", revoke=None, **options):
        if revoke:
            if agency_code or scopes:
                raise CommandError(_("--revoke takes no agency code or scopes."))
            return self._revoke(revoke)
        if not agency_code:
            raise CommandError(_("Give the agency's code, or --revoke KEY_ID."))
        agency = Agency.objects.filter(code=agency_code).first()
        if agency is None:
            known = ", ".join(Agency.objects.order_by("code").values_list("code", flat=True)) or "-"
            raise CommandError(
                _("Unknown agency code %(code)s. Known codes: %(known)s.") % {"code": agency_code, "known": known}
            )
        try:
            key, secret = api_key_create(agency=agency, scopes=scopes.split(","), name=name)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        print_new_key(self.stdout, owner=agency, key=key, secret=secret)

    def _revoke(self, value: str) -> None:
        # Accept the bare id or a whole key (upk_<id>_<secret>).
        key_id = value.split("_")[1] if value.startswith(f"{ApiKey.PREFIX}_") else value
        key = ApiKey.objects.select_related("agency").filter(key_id=key_id).first()
        if key is None:
            raise CommandError(_("No API key with the id %(id)s.") % {"id": key_id})
        api_key_revoke(key=key)
        self.stdout.write(_("API key %(key)s revoked.") % {"key": key})
