"""Server time and SQL queries of the membership pages, on a large and a small demo database.

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/up_bench \\
        .venv/bin/python bench/members.py [--members 680000] [--requests 200] [--small 2000]

For each database (the one in DATABASE_URL with --members members, and `<name>_small` with
--small members) it creates the database when missing, migrates, seeds it unless the demo data
is already there, then sends the requests in-process through django.test.Client: the measured
time is Django's whole request cycle (middleware, session, view, template), not the network.
Each figure comes from a child process (one per database); the parent prints both side by side.
See bench/README.md for the figures.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESULT_MARK = "BENCH-RESULT "


def _db_url_with_name(url: str, name: str) -> str:
    base, _, _old = url.rpartition("/")
    return f"{base}/{name}"


def _ensure_database(url: str) -> None:
    import environ
    import psycopg2

    cfg = environ.Env.db_url_config(url)
    if "postgresql" not in cfg["ENGINE"]:
        return
    conn = psycopg2.connect(
        dbname="postgres", user=cfg["USER"], password=cfg["PASSWORD"], host=cfg["HOST"], port=cfg["PORT"] or 5432
    )
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{cfg["NAME"]}"')
    conn.close()


# --- the child: one database ---------------------------------------------------------------


def child(args) -> dict:
    # The verify endpoint is throttled (120/min by default); the benchmark measures time, not throttling.
    os.environ["API_RATE_VERIFY"] = "1000000/min"
    os.environ["API_RATE_PER_KEY"] = "1000000/min"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "unionportal.settings")
    _ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from members.seed.demo import demo_tree_exists

    seed_seconds = None
    if not demo_tree_exists():
        started = time.monotonic()
        call_command("seed_demo", members=args.members, seed=args.seed)
        seed_seconds = time.monotonic() - started

    # Measure as production runs: DEBUG off (no SQL logging, no template debug data).
    settings.DEBUG = False
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from core.models import Agency
    from core.services import api_key_create, api_key_revoke
    from members.models import Member, User
    from members.seed.demo import DEMO_WORKER_USERNAME, DemoStaff
    from members.seed.generate import DEMO_GRASSROOTS_CODE

    total = Member.objects.count()
    rng = random.Random(args.seed)
    max_id = Member.objects.order_by("-id").values_list("id", flat=True).first()
    sample_ids = rng.sample(range(1, max_id + 1), min(args.requests, max_id))
    id_numbers = list(Member.objects.filter(pk__in=sample_ids).values_list("id_number", flat=True))
    mobiles = list(Member.objects.filter(pk__in=sample_ids[:20]).values_list("mobile", flat=True))
    names = list(Member.objects.filter(pk__in=sample_ids[:20]).values_list("name", flat=True))
    agency, _ = Agency.objects.get_or_create(code="mca", defaults={"name": "民政局"})
    key, secret = api_key_create(agency=agency, scopes=["members:verify"], name="bench")

    def logged_in(username: str) -> Client:
        client = Client()
        client.force_login(User.objects.get(username=username))
        return client

    worker = logged_in(DEMO_WORKER_USERNAME)
    staff = {a[0]: logged_in(a[0]) for a in DemoStaff.ACCOUNTS}
    grassroots = f"g-{DEMO_GRASSROOTS_CODE.lower()}"
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    changelist = reverse("admin:members_member_changelist")
    counter = iter(range(10**9))

    def verify():
        number = id_numbers[next(counter) % len(id_numbers)]
        return api.post("/api/v1/members/verify", {"id_number": number}, content_type="application/json")

    cases = [
        ("worker home /", lambda: worker.get("/")),
        ("e-card /m/card/", lambda: worker.get(reverse("members:card"))),
        ("admin member list (city)", lambda: staff["city"].get(changelist)),
        ("admin member list (district)", lambda: staff["wuxing"].get(changelist)),
        ("admin member list (grassroots)", lambda: staff[grassroots].get(changelist)),
        (
            "admin search by mobile (city)",
            lambda: staff["city"].get(changelist, {"q": mobiles[next(counter) % len(mobiles)]}),
        ),
        (
            "admin search by name (city)",
            lambda: staff["city"].get(changelist, {"q": names[next(counter) % len(names)]}),
        ),
        ("API POST members/verify", verify),
    ]
    results = {}
    for name, call in cases:
        try:
            results[name] = _measure(call, args.requests, CaptureQueriesContext, connection)
        except Exception as exc:  # noqa: BLE001 - a page that is not ready is reported, not fatal
            results[name] = {"error": f"{type(exc).__name__}: {exc}"[:200]}
    api_key_revoke(key=key)
    return {"members": total, "seed_seconds": seed_seconds, "results": results}


def _measure(call, requests: int, capture, connection) -> dict:
    for _ in range(5):  # warm up: imports, template loading, connection
        response = call()
        if response.status_code != 200:
            return {"error": f"HTTP {response.status_code}"}
    queries = []
    for _ in range(3):
        with capture(connection) as ctx:
            call()
        queries.append(len(ctx.captured_queries))
    times, cpu = [], []
    for _ in range(requests):
        started, cpu_started = time.perf_counter(), time.process_time()
        response = call()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        if response.status_code != 200:
            return {"error": f"HTTP {response.status_code}"}
    times.sort()
    return {
        "p50": statistics.median(times),
        "p95": times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)],
        "max": times[-1],
        # Python time in this process alone: not inflated when other processes compete for the CPU.
        "cpu50": statistics.median(cpu),
        "queries": max(queries),
    }


# --- the parent: both databases, one table ---------------------------------------------------


def run_child(url: str, members: int, args) -> dict:
    env = {**os.environ, "DATABASE_URL": url}
    cmd = [sys.executable, __file__, "--child", "--members", str(members), "--requests", str(args.requests)]
    cmd += ["--seed", str(args.seed)]
    print(f"== {url.rpartition('/')[2]}: {members:,} members", flush=True)
    proc = subprocess.run(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    result = None
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            result = json.loads(line[len(RESULT_MARK) :])
        else:
            print(line)
    if proc.returncode or result is None:
        sys.exit(f"benchmark child failed (exit {proc.returncode})")
    return result


def fmt(value, spec=".1f") -> str:
    return "-" if value is None else format(value, spec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=680_000)
    parser.add_argument("--small", type=int, default=2_000, help="members in the small database (0: skip it)")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(RESULT_MARK + json.dumps(child(args)), flush=True)
        return

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database, e.g. postgres://postgres@127.0.0.1:5432/up_bench")
    load_before = f"{os.getloadavg()[0]:.2f}"
    big = run_child(url, args.members, args)
    small = None
    if args.small:
        small = run_child(_db_url_with_name(url, url.rpartition("/")[2] + "_small"), args.small, args)

    print()
    if big["seed_seconds"] is not None:
        print(f"Seeded {big['members']:,} members in {big['seed_seconds']:.0f} s.")
    head = f"{'request':<32} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'cpu p50':>8} {'queries':>8}"
    if small:
        head += f" {'queries':>8} {'p95 ms':>8}"
        print(f"{'':<32} {big['members']:>43,} members {small['members']:>8,} members")
    print(head)
    print("-" * len(head))
    for name, r in big["results"].items():
        s = (small or {}).get("results", {}).get(name, {})
        if "error" in r:
            print(f"{name:<32} not measured: {r['error']}")
            continue
        line = f"{name:<32} {fmt(r['p50']):>8} {fmt(r['p95']):>8} {fmt(r['max']):>8} {fmt(r['cpu50']):>8} {r['queries']:>8}"
        if small:
            line += f" {fmt(s.get('queries'), 'd'):>8} {fmt(s.get('p95')):>8}"
        print(line)
    print(f"\n{args.requests} requests each after 5 warm-up requests; in-process django.test.Client, DEBUG off.")
    print(f"Load average {load_before} before, {os.getloadavg()[0]:.2f} after ({os.cpu_count()} CPUs).")


if __name__ == "__main__":
    main()
