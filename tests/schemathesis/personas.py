"""The callers schemathesis plays, made through the services on a freshly seeded database.

Prints one `NAME<TAB>HEADER: VALUE[<TAB>HEADER: VALUE…]` line per persona for run.sh:
- one agency key per agency scope the apps registered (`core.api_auth.known_scopes()`);
- a merchant's key (`vouchers:redeem`, through `vouchers.services.merchant_api_key_create`);
- the demo city's staff, signed in (a session cookie, with a CSRF cookie and header so that its
  POSTs reach the views).

Run from the repository root, after `manage.py migrate` and `manage.py seed_demo`.
"""

import os
import secrets
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "unionportal.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import login  # noqa: E402
from django.http import HttpRequest  # noqa: E402
from django.utils.module_loading import import_string  # noqa: E402

from core.api_auth import AGENCY as AGENCY_HOLDER  # noqa: E402
from core.api_auth import known_scopes, scope_holder  # noqa: E402
from core.models import Agency  # noqa: E402
from core.services import api_key_create  # noqa: E402
from members.models import User  # noqa: E402
from vouchers.models import Merchant  # noqa: E402
from vouchers.services import merchant_api_key_create  # noqa: E402

AGENCY = "mca"  # seed_demo's 民政局: it has pushes and published periods
STAFF = "city"  # seed_demo's city staff: sees every member and application


def bearer(secret: str) -> str:
    return f"Authorization: Bearer {secret}"


def staff_session(username: str) -> list[str]:
    user = User.objects.get(username=username)
    request = HttpRequest()
    request.session = import_string(f"{settings.SESSION_ENGINE}.SessionStore")()
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session.save()
    csrf = secrets.token_hex(16)  # a CSRF secret of 32 characters, sent unmasked as cookie and header
    return [
        f"Cookie: {settings.SESSION_COOKIE_NAME}={request.session.session_key}; {settings.CSRF_COOKIE_NAME}={csrf}",
        f"X-CSRFToken: {csrf}",
    ]


def main() -> None:
    agency = Agency.objects.get(code=AGENCY)
    rows = []
    for scope in known_scopes():
        if scope_holder(scope) != AGENCY_HOLDER:
            continue  # a merchant scope: the merchant's key below holds it
        _key, secret = api_key_create(agency=agency, scopes=[scope], name=f"schemathesis {scope}")
        rows.append((f"agency[{scope}]", [bearer(secret)]))
    merchant = Merchant.objects.filter(state=Merchant.State.APPROVED).order_by("pk").first()
    _key, secret = merchant_api_key_create(merchant=merchant, actor=None, name="schemathesis")
    rows.append(("merchant", [bearer(secret)]))
    rows.append(("staff", staff_session(STAFF)))
    for name, headers in rows:
        print("\t".join([name, *headers]))


if __name__ == "__main__":
    main()
