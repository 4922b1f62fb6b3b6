"""API throttles: fixed-window counters on the cache (Redis in production), one atomic INCR a call.

Rates come from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` and are read on every request, so a
test (or an operator's settings change) takes effect at once. A refusal is a 429 with the
structured error code ``throttled`` and a ``Retry-After`` header (see ``core.api_errors``).
"""

from django.utils import timezone
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from core import ratelimit
from core.models import ApiKey


class ApiKeyRateThrottle(BaseThrottle):
    """Every call of one API key, whatever the endpoint; a staff login or, for anonymous callers,
    the client IP otherwise."""

    scope = "api_key"

    def __init__(self):
        self._wait: float | None = None

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_ident(self, request) -> str:
        if isinstance(request.auth, ApiKey):
            return f"key:{request.auth.pk}"
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.pk is not None:
            return f"user:{user.pk}"
        return f"ip:{ratelimit.client_ip(request)}"

    def allow_request(self, request, view) -> bool:
        rate = self.get_rate()
        if not rate:
            return True
        _limit, period = ratelimit.parse_rate(rate)
        if ratelimit.hit(f"api:{self.scope}:{self.get_ident(request)}", rate):
            return True
        # The counter's window ends at the next multiple of `period` (see core.ratelimit.hit).
        self._wait = period - timezone.now().timestamp() % period
        return False

    def wait(self) -> float | None:
        return self._wait


class VerifyRateThrottle(ApiKeyRateThrottle):
    """Membership and card checks: a tighter budget per key, so no key can walk the ID space."""

    scope = "verify"
