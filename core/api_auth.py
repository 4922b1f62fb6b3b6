"""API keys sent as `Authorization: Bearer <key>`, and scope checks."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from core.models import ApiKey


class ApiClient:
    """The caller behind an API key: an agency (or, later, a merchant)."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False

    def __init__(self, key: ApiKey):
        self.key = key
        self.agency = key.agency
        self.merchant = key.merchant
        self.pk = None

    def __str__(self):
        return str(self.agency or self.merchant or self.key)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0] != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Malformed Authorization header."), code="bad_auth_header")
        parts = header[1].split("_", 2)
        if len(parts) != 3 or parts[0] != ApiKey.PREFIX:
            raise exceptions.AuthenticationFailed(_("Invalid API key."), code="invalid_key")
        _prefix, key_id, secret = parts
        key = ApiKey.objects.select_related("agency", "merchant").filter(key_id=key_id).first()
        import hmac

        if key is None or not hmac.compare_digest(key.key_hash, ApiKey.digest(secret)):
            raise exceptions.AuthenticationFailed(_("Invalid API key."), code="invalid_key")
        if not key.is_active:
            raise exceptions.AuthenticationFailed(_("This API key has been revoked."), code="revoked_key")
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
