"""Fixed-window rate limits on the cache (Redis in production)."""

from django.core.cache import cache
from django.utils import timezone

_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'5/h' -> (5, 3600)."""
    count, _, unit = rate.partition("/")
    return int(count), _UNITS[unit]


def hit(bucket: str, rate: str) -> bool:
    """Count one hit in `bucket`; return False when the rate is exceeded."""
    limit, period = parse_rate(rate)
    window = int(timezone.now().timestamp()) // period
    key = f"rl:{bucket}:{window}"
    cache.add(key, 0, timeout=period + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=period + 5)
        count = 1
    return count <= limit


def client_ip(request) -> str:
    """The client address. Behind the proxy, the last hop it appended is the real client."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded:
        return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")
