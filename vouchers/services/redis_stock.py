"""Voucher stock in Redis: one Lua script takes a voucher atomically during the rush.

Keys per campaign (the braces keep them in one Redis Cluster slot):
    vch:{<id>}:stock    remaining stock (a counter; absent = not prepared)
    vch:{<id>}:members  hash member id -> vouchers claimed in this campaign
    vch:{<id>}:soldout  the sold-out flag, set when the stock reaches 0
    vch:{<id>}:next     the highest place in the stock handed out (Voucher.slot)
    vch:{<id>}:free     places handed out and given back (a claim whose voucher was not kept)

Redis only answers the rush quickly: the database is the source of truth, and
``vouchers.services.stock.reconcile_campaign`` rebuilds these keys from it.
"""

from functools import cache

import redis
from django.conf import settings

# KEYS: stock, members, soldout, next, free, then the claim's rate-limit counters.
# ARGV: member id, limit per member, then a (limit, seconds) pair per rate-limit counter.
# Returns {outcome, seq, left, slot}: outcome is "claimed" (seq = the member's claim number, left =
# the stock left after it, slot = the voucher's place in the stock: a place given back first, else
# the next one), "sold_out", "rate_limited", "limit_reached" (seq = the member's count) or
# "unprepared" (no stock key). A sold-out answer counts against no rate limit.
CLAIM_LUA = """
if redis.call('EXISTS', KEYS[3]) == 1 then return {'sold_out', 0, 0, 0} end
local stock = redis.call('GET', KEYS[1])
if not stock then return {'unprepared', 0, 0, 0} end
for i = 6, #KEYS do
  local hits = redis.call('INCR', KEYS[i])
  if hits == 1 then redis.call('EXPIRE', KEYS[i], ARGV[2 * (i - 5) + 2]) end
  if hits > tonumber(ARGV[2 * (i - 5) + 1]) then return {'rate_limited', 0, 0, 0} end
end
local count = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if count >= tonumber(ARGV[2]) then return {'limit_reached', count, tonumber(stock), 0} end
if tonumber(stock) <= 0 then
  redis.call('SET', KEYS[3], '1')
  return {'sold_out', 0, 0, 0}
end
local left = redis.call('DECR', KEYS[1])
local seq = redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
local slot = redis.call('LPOP', KEYS[5])
if slot then slot = tonumber(slot) else slot = redis.call('INCR', KEYS[4]) end
if left <= 0 then redis.call('SET', KEYS[3], '1') end
return {'claimed', seq, left, slot}
"""

# Gives back what CLAIM_LUA took when the database did not keep the voucher.
# KEYS: stock, members, soldout, next, free. ARGV: member id, "1" to give the stock (and the
# place, ARGV[3] when not 0) back too.
RELEASE_LUA = """
local c = redis.call('HINCRBY', KEYS[2], ARGV[1], -1)
if c <= 0 then redis.call('HDEL', KEYS[2], ARGV[1]) end
if ARGV[2] == '1' and redis.call('EXISTS', KEYS[1]) == 1 then
  if tonumber(ARGV[3]) > 0 then redis.call('RPUSH', KEYS[5], ARGV[3]) end
  if redis.call('INCR', KEYS[1]) > 0 then redis.call('DEL', KEYS[3]) end
end
return c
"""

# Loads a campaign unless it is loaded already (or always when ARGV[2] == "1": reconciliation).
# KEYS: stock, members, soldout, next, free. ARGV: stock, force, the highest place written, the
# number n of free places below it, those n places, then member id, count pairs.
LOAD_LUA = """
if ARGV[2] ~= '1' and redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[5])
redis.call('SET', KEYS[4], ARGV[3])
local n = tonumber(ARGV[4])
for i = 5, 4 + n do redis.call('RPUSH', KEYS[5], ARGV[i]) end
for i = 5 + n, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
redis.call('SET', KEYS[1], ARGV[1])
if tonumber(ARGV[1]) <= 0 then redis.call('SET', KEYS[3], '1') end
return 1
"""


@cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2, health_check_interval=30)


def client() -> redis.Redis:
    return _client(settings.REDIS_URL)


@cache
def _scripts(url: str):
    r = _client(url)
    # register_script loads each script once (SCRIPT LOAD) and calls it by EVALSHA.
    return r.register_script(CLAIM_LUA), r.register_script(RELEASE_LUA), r.register_script(LOAD_LUA)


def keys(campaign_id: int) -> list[str]:
    """stock, members, soldout, next, free (see the module's docstring)."""
    return [f"vch:{{{campaign_id}}}:{name}" for name in ("stock", "members", "soldout", "next", "free")]


def take(
    *, campaign_id: int, member_id: int, limit: int, rate_limits: list[tuple[str, int, int]] = ()
) -> tuple[str, int, int, int]:
    """(outcome, seq, stock left, slot); see CLAIM_LUA. `rate_limits`: (counter key, limit, seconds)."""
    args = [member_id, limit]
    for _key, ceiling, seconds in rate_limits:
        args += [ceiling, seconds]
    script = _scripts(settings.REDIS_URL)[0]
    outcome, seq, left, slot = script(keys=keys(campaign_id) + [key for key, _c, _s in rate_limits], args=args)
    return outcome.decode() if isinstance(outcome, bytes) else outcome, int(seq), int(left), int(slot)


def release(*, campaign_id: int, member_id: int, stock: bool = True, slot: int | None = None) -> None:
    """Give back the member's count and, with `stock`, the stock and the place `slot`."""
    _scripts(settings.REDIS_URL)[1](keys=keys(campaign_id), args=[member_id, "1" if stock else "0", slot or 0])


def load(*, campaign_id: int, stock: int, member_counts: dict[int, int], slots=(), force: bool = False) -> bool:
    """Load the stock, the members' counts and, from `slots` (the places of the vouchers written),
    the highest place handed out and the free places below it."""
    taken = set(slots)
    highest = max(taken, default=0)
    free = [place for place in range(1, highest + 1) if place not in taken]
    args: list = [stock, "1" if force else "0", highest, len(free), *free]
    for member_id, count in member_counts.items():
        args += [member_id, count]
    return bool(_scripts(settings.REDIS_URL)[2](keys=keys(campaign_id), args=args))


def drop(campaign_id: int) -> None:
    """Delete a campaign's keys (a campaign back to draft is loaded afresh when scheduled again)."""
    client().delete(*keys(campaign_id))


def set_member_count(*, campaign_id: int, member_id: int, count: int) -> None:
    if count > 0:
        client().hset(keys(campaign_id)[1], member_id, count)
    else:
        client().hdel(keys(campaign_id)[1], member_id)


def snapshot(campaign_id: int) -> dict:
    """What Redis holds for a campaign (for reconciliation reports)."""
    stock_key, members_key, soldout_key, _next, _free = keys(campaign_id)
    pipe = client().pipeline()
    pipe.get(stock_key).hgetall(members_key).exists(soldout_key)
    stock, members, soldout = pipe.execute()
    return {
        "stock": None if stock is None else int(stock),
        "members": {int(k): int(v) for k, v in members.items()},
        "sold_out": bool(soldout),
    }
