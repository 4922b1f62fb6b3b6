"""The claim rush of union benefit day, through HTTP on gunicorn: Redis path, database path, ceiling.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/up_rush REDIS_URL=redis://127.0.0.1:6379/8 \\
        .venv/bin/python bench/voucher_rush.py [--members 100000] [--stock 20000] [--clients 200]

It creates the database when missing, migrates, seeds `--members` members unless the demo data is
there, gives the first `--members` active members a login and a real session (SessionStore data,
sent as the session cookie; a CSRF cookie and header as a browser sends them), and makes two
first-come campaigns of `--stock` vouchers, limit 1 per member. Then, with `--clients` concurrent
keep-alive connections from one asyncio client on 127.0.0.1:

1. gunicorn (`--workers` gthread workers) with VOUCHER_CLAIM_BACKEND=redis and BENCH_VIEWS=1:
   the ceiling, a trivial Django view (GET /vouchers/bench/ping/), one request per member;
   then the rush on the Redis path: every member POSTs once to /vouchers/<id>/claim/ (the htmx door);
2. gunicorn again with VOUCHER_CLAIM_BACKEND=db: the same rush on the database-only path.

For each it prints requests per second, p50/p99 latency, the answers, and from the database the
vouchers issued, oversold (vouchers beyond the stock: must be 0), double-issued (members with more
than the limit: must be 0) and lost (answers "claimed" without a voucher row: must be 0).
The server runs with DEBUG off (set after start-up, as bench/members.py does). Rate limits are
raised for the run: every request comes from one address.
"""

import argparse
import asyncio
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GUNICORN_CONF = """
def post_worker_init(worker):
    # Measure as production runs: no SQL logging, no template debug data.
    from django.conf import settings
    settings.DEBUG = False
"""
OUTCOME_RE = re.compile(rb'data-outcome="([a-z_]*)"')
CSRF = "benchcsrf" + "x" * 23  # a 32-character CSRF secret, sent as cookie and header


def _ensure_database(url: str) -> None:
    import environ
    import psycopg2

    cfg = environ.Env.db_url_config(url)
    if "postgresql" not in cfg["ENGINE"]:
        raise SystemExit("the rush runs on PostgreSQL: set DATABASE_URL")
    conn = psycopg2.connect(dbname="postgres", user=cfg["USER"], host=cfg["HOST"], port=cfg["PORT"] or 5432)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{cfg["NAME"]}"')
    conn.close()


# --- set-up (in this process, DEBUG on) ------------------------------------------------------------


def setup(args) -> tuple[list[str], dict[str, int]]:
    os.environ["DEBUG"] = "1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "unionportal.settings")
    _ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.cached_db import SessionStore as CachedStore
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from members.models import Member, User
    from members.seed.demo import demo_tree_exists

    call_command("migrate", verbosity=0)
    if not demo_tree_exists():
        started = time.monotonic()
        try:
            call_command("seed_demo", members=args.members, seed=1, no_progress=True)
        except Exception as exc:  # noqa: BLE001 - a later app's step may fail; the members are in
            print(f"seed_demo stopped after the members: {exc!r}")
        print(f"seeded {args.members} members in {time.monotonic() - started:.0f} s")

    ids = list(
        Member.objects.filter(status=Member.Status.ACTIVE).order_by("pk").values_list("pk", flat=True)[: args.members]
    )
    if not ids:
        raise SystemExit("no active members in the database")
    # A login for every member that has none (username rush<member id>).
    missing = list(Member.objects.filter(pk__in=ids, user__isnull=True).values_list("pk", flat=True))
    if missing:
        password = make_password(None)
        User.objects.bulk_create([User(username=f"rush{mid}", password=password) for mid in missing], batch_size=5000)
        with connection.cursor() as cur:
            cur.execute(
                f"UPDATE {Member._meta.db_table} m SET user_id = u.id FROM {User._meta.db_table} u "  # noqa: S608
                "WHERE m.user_id IS NULL AND u.username = 'rush' || m.id"
            )
    # A real session per member, as a login makes it.
    Session.objects.all().delete()
    users = User.objects.filter(member__pk__in=ids).only("pk", "password")
    expire = timezone.now() + timezone.timedelta(days=1)
    store = SessionStore()
    sessions, keys, cached = [], [], {}
    for user in users.iterator(chunk_size=5000):
        key = "".join(random.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=32))
        data = {
            "_auth_user_id": str(user.pk),
            "_auth_user_backend": "members.auth.SmsCodeBackend",  # workers log in by SMS code
            "_auth_user_hash": user.get_session_auth_hash(),
        }
        sessions.append(Session(session_key=key, session_data=store.encode(data), expire_date=expire))
        keys.append(key)
        cached[CachedStore.cache_key_prefix + key] = data
    Session.objects.bulk_create(sessions, batch_size=5000)
    # With Redis the server reads sessions from the cache (cached_db), where a login puts them:
    # members who log in before the rush are there too.
    if settings.SESSION_ENGINE.endswith("cached_db"):
        items = list(cached.items())
        for start in range(0, len(items), 5000):
            cache.set_many(dict(items[start : start + 5000]), timeout=86400)
        # and the member facts the campaign page caches for the claim (vouchers.services.claimant_remember)
        from vouchers.services.claim_facts import CLAIMANT_TTL, _claimant_key

        rows = Member.objects.filter(pk__in=ids).values_list(
            "user_id", "pk", "status", "union__path", "employment_form"
        )
        facts = {_claimant_key(row[0]): tuple(row[1:]) for row in rows.iterator(chunk_size=5000)}
        # and the workers' user rows, which every page view of theirs caches (members.auth)
        from members.auth import WORKER_USER_TTL
        from members.auth import _cache_key as user_key

        facts.update(
            {user_key(user.pk): user for user in User.objects.filter(member__pk__in=ids).iterator(chunk_size=5000)}
        )
        items = list(facts.items())
        for start in range(0, len(items), 5000):
            cache.set_many(dict(items[start : start + 5000]), timeout=max(CLAIMANT_TTL, WORKER_USER_TTL) * 12)
    print(f"{len(keys)} members with a session")

    campaigns = {path: make_campaign(args, path) for path in ("redis", "db")}
    return keys, campaigns


def make_campaign(args, path: str) -> int:
    from decimal import Decimal

    from django.test import override_settings
    from django.utils import timezone

    from vouchers.models import Campaign
    from vouchers.services import campaign_prepare

    now = timezone.now()
    campaign = Campaign.objects.create(
        name=f"rush {path} {now:%H%M%S}",
        face_value=Decimal("100"),
        threshold=Decimal("1000"),
        total_stock=args.stock,
        remaining=args.stock,
        budget=Decimal("100") * args.stock,
        limit_per_member=1,
        state=Campaign.State.OPEN,
        claim_opens_at=now - timezone.timedelta(minutes=1),
        claim_closes_at=now + timezone.timedelta(days=1),
        valid_days=30,
    )
    with override_settings(VOUCHER_CLAIM_BACKEND=path):
        campaign_prepare(campaign=campaign)
    return campaign.pk


def figures(campaign_id: int, claimed_answers: int) -> dict:
    from django.db.models import Count

    from vouchers.models import Campaign, Voucher

    campaign = Campaign.objects.get(pk=campaign_id)
    issued = Voucher.objects.filter(campaign_id=campaign_id).count()
    double = (
        Voucher.objects.filter(campaign_id=campaign_id)
        .values("member_id")
        .annotate(n=Count("id"))
        .filter(n__gt=campaign.limit_per_member)
        .count()
    )
    return {
        "issued": issued,
        "remaining": campaign.remaining,
        "oversold": max(0, issued - campaign.total_stock) + (issued != campaign.total_stock - campaign.remaining),
        "double_issued": double,
        "lost": claimed_answers - issued,
    }


# --- the server ------------------------------------------------------------------------------------


def start_server(args, backend: str) -> subprocess.Popen:
    conf = Path(tempfile.gettempdir()) / "voucher_rush_gunicorn.py"
    conf.write_text(GUNICORN_CONF)
    env = {
        **os.environ,
        "DEBUG": "1",
        "BENCH_VIEWS": "1",
        "VOUCHER_CLAIM_BACKEND": backend,
        "VOUCHER_CLAIM_RATE_PER_IP": "100000000/m",
        "VOUCHER_CLAIM_RATE_PER_MEMBER": "100000/m",
    }
    cmd = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "unionportal.wsgi:application",
        "-c", str(conf),
        "--bind", f"127.0.0.1:{args.port}",
        "--workers", str(args.workers),
        "--worker-class", "gthread",
        "--threads", str(args.threads),
        "--backlog", "2048",
        "--keep-alive", "30",
        "--log-level", "warning",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    for _i in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{args.port}/healthz", timeout=1).read()
            return proc
        except OSError:
            time.sleep(0.1)
    stop_server(proc)
    raise SystemExit("gunicorn did not start")


def stop_server(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# --- the client ------------------------------------------------------------------------------------


async def _read_response(reader) -> tuple[int, bytes, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length, close = 0, False
    for line in lines[1:]:
        name, _sep, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and value.strip().lower() == b"close":
            close = True
    body = await reader.readexactly(length) if length else b""
    return status, body, close


async def _rush(port: int, requests: list[bytes], clients: int) -> tuple[list[float], Counter, float]:
    latencies: list[float] = []
    answers: Counter = Counter()
    claimed_at: list[float] = []  # when each "claimed" answer arrived
    queue = iter(requests)

    async def client():
        reader = writer = None
        for request in queue:
            for _attempt in range(3):
                try:
                    if writer is None:
                        reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    started = time.perf_counter()
                    writer.write(request)
                    status, body, close = await _read_response(reader)
                    latencies.append(time.perf_counter() - started)
                    match = OUTCOME_RE.search(body)
                    answer = match.group(1).decode() if match else f"http {status}"
                    answers[answer] += 1
                    if answer == "claimed":
                        claimed_at.append(time.perf_counter())
                    if close:
                        writer.close()
                        writer = None
                    break
                except (OSError, asyncio.IncompleteReadError):
                    if writer is not None:
                        writer.close()
                    writer = None
            else:
                answers["connection error"] += 1
        if writer is not None:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _i in range(clients)))
    elapsed = time.perf_counter() - started
    return latencies, answers, elapsed, (max(claimed_at) - started if claimed_at else 0.0)


def run_phase(args, name: str, requests: list[bytes]) -> dict:
    print(f"{name}: {len(requests):,} requests …", flush=True)
    latencies, answers, elapsed, until_last_claim = asyncio.run(_rush(args.port, requests, args.clients))
    latencies.sort()
    return {
        "until_last_claim": until_last_claim,
        "name": name,
        "requests": len(latencies),
        "rate": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "answers": dict(answers.most_common()),
        "seconds": elapsed,
    }


def claim_request(port: int, campaign_id: int, session_key: str) -> bytes:
    return (
        f"POST /vouchers/{campaign_id}/claim/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Cookie: sessionid={session_key}; csrftoken={CSRF}\r\nX-CSRFToken: {CSRF}\r\n"
        "HX-Request: true\r\nContent-Length: 0\r\n\r\n"
    ).encode()


def ping_request(port: int, session_key: str) -> bytes:
    return (
        f"GET /vouchers/bench/ping/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Cookie: sessionid={session_key}; csrftoken={CSRF}\r\n\r\n"
    ).encode()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--stock", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument("--port", type=int, default=8741)
    parser.add_argument(
        "--requests", type=int, default=0, help="claims per rush, one per member (default: every member once)"
    )
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL") or not os.environ.get("DATABASE_URL"):
        raise SystemExit("set DATABASE_URL (PostgreSQL, e.g. .../up_rush) and REDIS_URL (your own db number)")

    keys, campaigns = setup(args)
    rng = random.Random(1)
    order = keys[:]
    if args.requests:
        order = rng.sample(order, min(args.requests, len(order)))
    results = []

    server = start_server(args, "redis")
    try:
        rng.shuffle(order)
        run_phase(args, "warm-up", [ping_request(args.port, k) for k in order[:2000]])
        results.append(run_phase(args, "ceiling: trivial view", [ping_request(args.port, k) for k in order]))
        rng.shuffle(order)
        phase = run_phase(args, "claim, Redis path", [claim_request(args.port, campaigns["redis"], k) for k in order])
        phase.update(figures(campaigns["redis"], phase["answers"].get("claimed", 0)))
        results.append(phase)
    finally:
        stop_server(server)

    server = start_server(args, "db")
    try:
        run_phase(args, "warm-up", [ping_request(args.port, k) for k in order[:2000]])
        rng.shuffle(order)
        phase = run_phase(args, "claim, database path", [claim_request(args.port, campaigns["db"], k) for k in order])
        phase.update(figures(campaigns["db"], phase["answers"].get("claimed", 0)))
        results.append(phase)
    finally:
        stop_server(server)

    print(
        f"\n{len(keys):,} members with a session, {len(order):,} requests per rush, stock {args.stock:,}, {args.clients} clients, "
        f"gunicorn {args.workers} gthread workers x {args.threads} threads, {os.cpu_count()} CPUs\n"
    )
    print(f"{'':24} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'issued':>7} {'oversold':>8} {'double':>7} {'lost':>5}")
    for r in results:
        extra = f"{r['issued']:>7} {r['oversold']:>8} {r['double_issued']:>7} {r['lost']:>5}" if "issued" in r else ""
        print(f"{r['name']:24} {r['rate']:>8.0f} {r['p50']:>8.1f} {r['p99']:>8.1f} {extra}")
    for r in results:
        print(f"  {r['name']}: {r['requests']:,} requests in {r['seconds']:.1f} s; answers {r['answers']}")
        if r["until_last_claim"]:
            claimed = r["answers"].get("claimed", 0)
            after = r["seconds"] - r["until_last_claim"]
            print(
                f"    until the last voucher: {r['until_last_claim']:.1f} s ({claimed / r['until_last_claim']:.0f} vouchers/s); "
                f"then {after:.1f} s for the remaining answers"
            )


if __name__ == "__main__":
    main()
