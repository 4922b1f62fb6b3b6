"""API keys sent as `Authorization: Bearer <key>`, scope checks, and the registries the apps fill.

core knows agencies only. An app whose callers hold keys of their own (vouchers: merchants) links
its owners to keys itself, and tells core two things in its AppConfig.ready:

- `register_scopes(..., holder=...)`: the scopes its endpoints check and the kind of holder that
  may hold each (`AGENCY`, or a kind the app registers, e.g. "merchant"); `api_key_create` refuses
  any other scope and any scope the key's holder may not hold.
- `register_holder(kind, label=..., find=...)`: a kind of holder other than an agency, and
  `find(key) -> bool`, True when the key is this app's holder's (a merchant's key).
- `register_key_check(check)`: `check(key) -> bool`, False when the key must not be used now (a
  suspended merchant's key). A key failing any check is refused as revoked.
"""

import hmac
import logging
from collections.abc import Callable

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from core import ratelimit
from core.models import ApiKey

AGENCY = "agency"
security_log = logging.getLogger("security")

_scope_holders: dict[str, str] = {}
_holders: dict[str, tuple[object, Callable[[ApiKey], bool] | None]] = {AGENCY: (_("partner agency"), None)}
_key_checks: list[Callable[[ApiKey], bool]] = []


def register_scopes(*scopes: str, holder: str) -> None:
    """Make scopes known, each held only by keys of `holder`'s kind: a key can be given only scopes
    some app registered for its holder."""
    for scope in scopes:
        if _scope_holders.get(scope, holder) != holder:
            raise ValueError(f"The scope {scope} is registered for two kinds of holder.")
        _scope_holders[scope] = holder


def register_holder(kind: str, *, label, find: Callable[[ApiKey], bool]) -> None:
    """Make a kind of key holder other than an agency known: `find(key)` says whether it owns the key."""
    _holders[kind] = (label, find)


def known_scopes() -> list[str]:
    return sorted(_scope_holders)


def scope_holder(scope: str) -> str | None:
    """The kind of holder that may hold `scope`, or None when no app registered it."""
    return _scope_holders.get(scope)


def holder_label(kind: str | None) -> str:
    label = _holders.get(kind or "", (None, None))[0]
    return str(label) if label is not None else str(_("no known holder"))


def key_holder(key: ApiKey) -> str | None:
    """The kind of the key's holder: AGENCY, a kind an app registered, or None (no holder found)."""
    if key.agency_id:
        return AGENCY
    for kind, (_label, find) in _holders.items():
        if find is not None and find(key):
            return kind
    return None


def scopes_not_for(scopes, holder: str | None) -> list[str]:
    """Those of `scopes` a holder of kind `holder` may not hold (unknown scopes included)."""
    return [s for s in scopes if holder is None or scope_holder(s) != holder]


def register_key_check(check: Callable[[ApiKey], bool]) -> None:
    """Add a check every key must pass on each request (besides not being revoked)."""
    if check not in _key_checks:
        _key_checks.append(check)


def key_usable(key: ApiKey) -> bool:
    """Not revoked, its agency (if any) active, every scope fit for its holder (a key made before
    that rule may carry one that is not), and every app's check passed."""
    return (
        key.is_active and not scopes_not_for(key.scopes, key_holder(key)) and all(check(key) for check in _key_checks)
    )


class ApiClient:
    """The caller behind an API key. An app that links keys to owners of its own (vouchers:
    merchants) finds the owner from `request.auth`, the key."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False

    def __init__(self, key: ApiKey):
        self.key = key
        self.agency = key.agency
        self.pk = None

    def __str__(self):
        return str(self.agency or self.key)


AUTH_FAILURE_BUCKET = "api-auth-fail"


def _key_prefix(token: str) -> str:
    """What the log may say of a presented key: its public part (`upk_<key id>`), never its secret."""
    parts = token.split("_", 2)
    if len(parts) == 3 and parts[0] == ApiKey.PREFIX:
        return f"{parts[0]}_{parts[1][:16]}"
    return token[:4] + "…" if token else ""


def _failed(request, code: str, message, token: str) -> exceptions.AuthenticationFailed:
    """A refused key: logged as a security event (client address, key prefix, path, code) and
    counted against the address (API_AUTH_FAILURES_PER_IP)."""
    ip = ratelimit.client_ip(request)
    ratelimit.hit(f"{AUTH_FAILURE_BUCKET}:{ip}", settings.API_AUTH_FAILURES_PER_IP)
    security_log.warning(
        "api.auth_failed ip=%s key=%s code=%s path=%s", ip, _key_prefix(token), code, request.path[:200]
    )
    return exceptions.AuthenticationFailed(message, code=code)


class AuthFailuresThrottled(exceptions.Throttled):
    default_code = "throttled"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <key>`. An address that sent API_AUTH_FAILURES_PER_IP wrong,
    malformed or revoked keys gets 429 `throttled` (with Retry-After) for the rest of the window,
    whatever key it sends: a right key from another address still works. Each failure and each
    such refusal is logged to the `security` logger, with the key's public prefix only."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0] != self.keyword:
            return None
        ip = ratelimit.client_ip(request)
        wait = ratelimit.exceeded(f"{AUTH_FAILURE_BUCKET}:{ip}", settings.API_AUTH_FAILURES_PER_IP)
        if wait is not None:
            security_log.warning("api.auth_throttled ip=%s path=%s", ip, request.path[:200])
            raise AuthFailuresThrottled(
                wait=wait, detail=str(_("Too many failed authentications from your address. Try again later."))
            )
        token = header[1] if len(header) > 1 else ""
        if len(header) != 2:
            raise _failed(request, "bad_auth_header", _("Malformed Authorization header."), token)
        parts = header[1].split("_", 2)
        if len(parts) != 3 or parts[0] != ApiKey.PREFIX:
            raise _failed(request, "invalid_key", _("Invalid API key."), token)
        _prefix, key_id, secret = parts
        key = ApiKey.objects.select_related("agency").filter(key_id=key_id).first()
        if key is None or not hmac.compare_digest(key.key_hash, ApiKey.digest(secret)):
            raise _failed(request, "invalid_key", _("Invalid API key."), token)
        if not key_usable(key):
            raise _failed(request, "revoked_key", _("This API key has been revoked."), token)
        now = timezone.now()
        if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        return ApiClient(key), key

    def authenticate_header(self, request):
        return self.keyword


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "core.api_auth.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "An API key issued by the union."}


def scope_required(scope: str):
    """A DRF permission class admitting only API keys that carry `scope`."""

    class HasScope(permissions.BasePermission):
        code = "missing_scope"

        def has_permission(self, request, view):
            # Translated per request, in the caller's language.
            self.message = _("This API key lacks the scope %(scope)s.") % {"scope": scope}
            return isinstance(request.auth, ApiKey) and scope in request.auth.scopes

    HasScope.__name__ = f"HasScope[{scope}]"
    return HasScope
