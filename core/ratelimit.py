"""Fixed-window rate limits on the cache (Redis in production)."""

import ipaddress

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'5/h' -> (5, 3600); '20/10min' -> (20, 600)."""
    count, _, unit = rate.partition("/")
    digits = len(unit) - len(unit.lstrip("0123456789"))
    return int(count), int(unit[:digits] or 1) * _UNITS[unit[digits:]]


def exceeded(bucket: str, rate: str) -> int | None:
    """Seconds until the bucket's window ends when its count already reached the rate's limit
    (nothing is counted), else None."""
    limit, period = parse_rate(rate)
    if (cache.get(_key(bucket, period)) or 0) < limit:
        return None
    return max(1, int(period - timezone.now().timestamp() % period))


def hit(bucket: str, rate: str) -> bool:
    """Count one hit in `bucket`; return False when the rate is exceeded."""
    return hit_all([(bucket, rate)])


def _key(bucket: str, period: int) -> str:
    return f"rl:{bucket}:{int(timezone.now().timestamp()) // period}"


def hit_all(limits: list[tuple[str, str]]) -> bool:
    """Count one hit in each (bucket, rate); return False when any rate is exceeded.

    On Redis all the counters move in one round trip (INCR and EXPIRE NX in a pipeline)."""
    raw_client = getattr(cache, "raw_client", None)
    if raw_client is None:
        return all([_hit_cache(bucket, rate) for bucket, rate in limits])
    pipe = raw_client().pipeline(transaction=False)
    ceilings = []
    for bucket, rate in limits:
        limit, period = parse_rate(rate)
        key = cache.make_and_validate_key(_key(bucket, period))
        pipe.incr(key).expire(key, period + 5, nx=True)
        ceilings.append(limit)
    counts = pipe.execute()[::2]
    return all(count <= limit for count, limit in zip(counts, ceilings, strict=True))


def redis_counters(limits: list[tuple[str, str]]) -> list[tuple[str, int, int]]:
    """(Redis key, limit, seconds) of each (bucket, rate), for a Lua script that counts the hits
    itself in the same round trip as its own work (see vouchers.services.redis_stock.CLAIM_LUA)."""
    counters = []
    for bucket, rate in limits:
        limit, period = parse_rate(rate)
        counters.append((cache.make_and_validate_key(_key(bucket, period)), limit, period + 5))
    return counters


def _hit_cache(bucket: str, rate: str) -> bool:
    limit, period = parse_rate(rate)
    key = _key(bucket, period)
    cache.add(key, 0, timeout=period + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=period + 5)
        count = 1
    return count <= limit


def client_ip(request) -> str:
    """The client address, for rate limits and django-axes (AXES_CLIENT_IP_CALLABLE).

    Behind settings.TRUSTED_PROXY_COUNT proxies that each append to X-Forwarded-For, the client is
    that many entries from the right; entries further left were sent by the client and are not
    trusted. Without proxies (0) the header is ignored. A missing or malformed entry falls back to
    the peer address."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if len(hops) >= proxies and hops[-proxies]:
            try:
                return str(ipaddress.ip_address(hops[-proxies]))
            except ValueError:
                pass
    return remote
