"""A province's month: 1,000,000 medical rows pushed as ONE CSV, then ingest + match + screen,
against the 680,000 members of the demo database (PostgreSQL).

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/up_bench \\
        .venv/bin/python bench/hardship_cycle.py [--rows 1000000] [--match 0.15] [--processes 2]

1. The database must hold the seeded members (`bench/members.py` or `seed_demo`); this script never
   seeds, migrates or drops it. The two push tables (hardship_datapush, hardship_pushrow) must match
   the models: when they don't (the hardship migration is regenerated at the end of the work) and
   hold nothing but this benchmark's pushes, they are recreated from the models.
2. The CSV is written once (deterministic for --seed; kept in var/bench/): GB-style Chinese headers,
   UTF-8; --match of the rows carry the ID numbers of real members (a random sample of members,
   decrypted), the others valid numbers of non-members from elsewhere in the province; 0.1% of the
   rows are bad (a wrong check character, a negative amount).
3. Baseline: PostgreSQL's COPY of the same CSV into a bare temp table with text columns.
4. The cycle, on the push of the CSV through `hardship.ingest.push_receive_file` (SHA-256, row count,
   stored encrypted: 202 pending), `push_ingest`, `hardship.screening.match_rows` and `screen`.
   The previous run's push, rows and candidates of the period are removed first.
5. Peak memory: the maximum resident set of this process (and of its worker processes, if any).
See bench/README.md for the figures.
"""

import argparse
import csv
import hashlib
import io
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PERIOD = "2025-03"
BATCH_PREFIX = "bench-cycle-"
HEADER = ["记录编号", "身份证号", "姓名", "医疗总费用", "医保报销", "个人自付", "疾病类别"]
ILLNESSES = ["高血压", "糖尿病", "冠心病", "慢性肾病", "恶性肿瘤", "肝衰竭", "脑卒中", "骨折", "肺炎", "白内障"]
FAMILY = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国"
# Non-members live elsewhere in Zhejiang (members of the demo city hold Huzhou numbers, 3305xx).
OTHER_REGIONS = ("330102", "330106", "330203", "330302", "330402", "330602", "330702", "330802", "331002")


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "unionportal.settings")
    import django

    django.setup()


def csv_path(args) -> Path:
    return ROOT / "var" / "bench" / f"hardship_medical_{args.rows}_{args.match}_{args.seed}.csv"


# --- 1. The push tables ---------------------------------------------------------------------


def ensure_push_tables() -> str:
    from django.db import connection

    from hardship.models import DataPush, PushRow

    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        if "members_member" not in tables:
            sys.exit("No members table: seed the database first (bench/members.py or manage.py seed_demo).")
        present = {DataPush._meta.db_table, PushRow._meta.db_table} <= set(tables)
        if present:
            columns = {c.name for c in connection.introspection.get_table_description(cursor, DataPush._meta.db_table)}
            columns |= {
                f"pushrow.{c.name}"
                for c in connection.introspection.get_table_description(cursor, PushRow._meta.db_table)
            }
            have = connection.introspection.get_constraints(cursor, PushRow._meta.db_table)
    if present:
        wanted = {f.column for f in DataPush._meta.local_fields} | {
            f"pushrow.{f.column}" for f in PushRow._meta.local_fields
        }
        names = {c.name for c in PushRow._meta.constraints} | {i.name for i in PushRow._meta.indexes}
        indexes = [n for n, c in have.items() if c["index"] or c["unique"] or c["primary_key"]]
        foreign = [n for n, c in have.items() if c["foreign_key"]]
        wanted_foreign = [f for f in PushRow._meta.local_fields if f.remote_field and f.db_constraint]
        # The model's own indexes and foreign keys, and nothing else (no leftover ones).
        if (
            wanted <= columns
            and names <= set(have)
            and len(indexes) == len(names) + 1
            and len(foreign) == len(wanted_foreign)
        ):
            return "the push tables match the models"
        others = DataPush.objects.exclude(batch_id__startswith=BATCH_PREFIX).exists()
        if others:
            sys.exit("The push tables differ from the models and hold other data: migrate them first.")
    with connection.schema_editor() as editor:
        if present:
            editor.delete_model(PushRow)
            editor.delete_model(DataPush)
        editor.create_model(DataPush)
        editor.create_model(PushRow)
    return "the push tables were (re)created from the models"


# --- 2. The CSV ------------------------------------------------------------------------------


def generate(args) -> None:
    """Write the CSV and its manifest (run in a child process: its memory is not the cycle's)."""
    setup_django()
    from members.idgen import make_id_number
    from members.models import Member

    rng = random.Random(args.seed)
    ids = list(Member.objects.order_by("pk").values_list("pk", flat=True))
    sample = sorted(rng.sample(ids, min(len(ids), int(args.rows * args.match * 0.8) or 1)))
    numbers = []
    for i in range(0, len(sample), 20_000):
        batch = Member.objects.filter(pk__in=sample[i : i + 20_000]).values_list("id_number", flat=True)
        numbers.extend(batch)  # decrypted by the field
    print(f"   sampled {len(numbers):,} members' ID numbers", flush=True)
    del ids

    path = csv_path(args)
    path.parent.mkdir(parents=True, exist_ok=True)
    digest, rows = hashlib.sha256(), 0
    with path.open("wb") as out:
        buf = io.StringIO(newline="")
        writer = csv.writer(buf)
        writer.writerow(HEADER)
        random_, choice = rng.random, rng.choice
        for i in range(args.rows):
            if random_() < args.match:
                number = choice(numbers)
            else:
                number = make_id_number(rng, region=choice(OTHER_REGIONS))
            total = round(min(rng.lognormvariate(7.5, 1.4), 2_000_000), 2)
            reimbursed = round(total * (0.5 + 0.35 * random_()), 2)
            out_of_pocket = round(total - reimbursed, 2)
            bad = random_()
            if bad < 0.0005:
                number = number[:17] + ("0" if number[17] != "0" else "1")
            elif bad < 0.001:
                out_of_pocket = -out_of_pocket
            name = choice(FAMILY) + choice(GIVEN) + (choice(GIVEN) if random_() < 0.6 else "")
            writer.writerow(
                [
                    f"YB{PERIOD.replace('-', '')}{i:09d}",
                    number,
                    name,
                    f"{total:.2f}",
                    f"{reimbursed:.2f}",
                    f"{out_of_pocket:.2f}",
                    choice(ILLNESSES),
                ]
            )
            rows += 1
            if rows % 50_000 == 0:
                data = buf.getvalue().encode()
                out.write(data)
                digest.update(data)
                buf.seek(0)
                buf.truncate()
        data = buf.getvalue().encode()
        out.write(data)
        digest.update(data)
    meta = {"rows": rows, "sha256": digest.hexdigest(), "bytes": path.stat().st_size}
    path.with_suffix(".json").write_text(json.dumps(meta))
    print(f"   wrote {path.name}: {rows:,} rows, {meta['bytes'] / 1e6:.0f} MB", flush=True)


# --- 3. Baseline, 4. the cycle -----------------------------------------------------------------


def copy_baseline(path: Path, *, temp: bool = True) -> float:
    """PostgreSQL's own COPY of the CSV into a bare table with text columns (a temp table: no WAL)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE {'TEMP ' if temp else ''}TABLE bench_copy (source_key text, id_number text, name text, "
            "total_cost text, reimbursed text, out_of_pocket text, illness_category text)"
        )
        try:
            started = time.perf_counter()
            with path.open("rb") as fh:
                cursor.copy_expert("COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true, ENCODING 'UTF8')", fh)
            seconds = time.perf_counter() - started
            cursor.execute("SELECT count(*) FROM bench_copy")
            assert cursor.fetchone()[0] > 0
        finally:
            cursor.execute("DROP TABLE bench_copy")
    return seconds


def storage_floor(push_id: int) -> dict[str, float]:
    """The time PostgreSQL alone takes to store this push's rows as they are kept (the two AES-GCM
    tokens, the blind index, the source key): read back with COPY TO, then COPY into a bare logged
    table with no index, no constraint and nothing else in the transaction. Once for all the
    accepted rows, as the issue's design keeps them (non-members' rows too, for the monthly match
    of people who join later), and once for the members' rows only."""
    import tempfile

    from django.db import connection, transaction

    columns = "push_id, agency_id, kind, period, line, source_key, id_number, id_index, payload, member_id"
    out = {}
    for label, where in (("all", ""), ("members", " AND member_id IS NOT NULL")):
        with tempfile.TemporaryFile() as fh, connection.cursor() as cursor:
            cursor.copy_expert(
                f"COPY (SELECT {columns} FROM hardship_pushrow WHERE push_id = {int(push_id)}{where}) TO STDOUT", fh
            )
            fh.seek(0)
            cursor.execute(
                "CREATE TABLE bench_floor (push_id bigint, agency_id bigint, kind text, period text, line int, "
                "source_key text, id_number text, id_index text, payload text, member_id bigint)"
            )
            try:
                started = time.perf_counter()
                with transaction.atomic():
                    cursor.copy_expert(f"COPY bench_floor ({columns}) FROM STDIN", fh)
                out[label] = time.perf_counter() - started
            finally:
                cursor.execute("DROP TABLE bench_floor")
    return out


def clean_previous() -> None:
    from django.db import connection

    from hardship.models import DataPush

    for push in DataPush.objects.filter(batch_id__startswith=BATCH_PREFIX).exclude(file=""):
        push.file.delete(save=False)  # the encrypted copy of the previous run's CSV
    with connection.cursor() as cursor:
        if not DataPush.objects.exclude(batch_id__startswith=BATCH_PREFIX).exists():
            cursor.execute("TRUNCATE hardship_pushrow, hardship_datapush")
        else:
            ids = list(DataPush.objects.filter(batch_id__startswith=BATCH_PREFIX).values_list("pk", flat=True))
            if ids:
                cursor.execute("DELETE FROM hardship_pushrow WHERE push_id = ANY(%s)", [ids])
                cursor.execute("DELETE FROM hardship_datapush WHERE id = ANY(%s)", [ids])
        cursor.execute("DELETE FROM hardship_candidate WHERE period = %s", [PERIOD])
        # Autocommit (no transaction): start from clean tables and an empty WAL backlog.
        cursor.execute("VACUUM ANALYZE hardship_pushrow")
        cursor.execute("VACUUM ANALYZE hardship_candidate")
        cursor.execute("CHECKPOINT")


class Timer:
    def __init__(self):
        self.seconds: dict[str, float] = {}

    def wrap(self, module, name: str, label: str) -> None:
        real = getattr(module, name)

        def timed(*a, **kw):
            started = time.perf_counter()
            try:
                return real(*a, **kw)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - started

        setattr(module, name, timed)


def per_row_costs(path: Path, n: int = 20_000) -> dict:
    """Microseconds per row of the parts of ingestion, on the first n rows of the CSV."""
    from django.utils import timezone

    from core.crypto import aead_encryptor, blind_indexer, encrypt
    from hardship import pushformats

    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        rows = [r for _, r in zip(range(n), reader, strict=False)]
    check = pushformats.row_checker("medical", today=timezone.localdate())
    aead, index = aead_encryptor(), blind_indexer(purpose="id_number")
    checked = []
    out = {}

    def measure(label, fn):
        started = time.perf_counter()
        fn()
        out[label] = (time.perf_counter() - started) / len(rows) * 1e6

    def run_check():
        for r in rows:
            try:
                checked.append(check(r))
            except pushformats.RowRejected:
                pass

    measure("csv read + check", lambda: [None for _ in csv.reader(io.StringIO("\n".join(",".join(r) for r in rows)))])
    measure("row check (validate ID, amounts; payload JSON)", run_check)
    measure("blind index (HMAC-SHA256)", lambda: [index(c[1]) for c in checked])
    measure("AES-GCM: ID number + payload (2 tokens)", lambda: [(aead(c[1]), aead(c[2])) for c in checked])
    measure("Fernet: ID number + payload (2 tokens)", lambda: [(encrypt(c[1]), encrypt(c[2])) for c in checked])
    return out


def cycle(args) -> None:
    setup_django()
    from django.conf import settings
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to the PostgreSQL database with the members, e.g. .../up_bench")
    settings.DEBUG = False
    settings.HARDSHIP_INGEST_PROCESSES = args.processes
    from unionportal.celery import app

    app.conf.task_always_eager = False  # the queued task is not run: this script calls push_ingest itself

    from core.models import Agency
    from hardship import ingest, screening
    from members.models import Member

    print(f"== {connection.settings_dict['NAME']}: {ensure_push_tables()}", flush=True)
    members = Member.objects.count()
    path = csv_path(args)
    if not path.with_suffix(".json").exists():
        print(f"== writing the CSV ({args.rows:,} rows, {args.match:.0%} members)", flush=True)
        env = {**os.environ, "BENCH_GENERATE": "1"}
        subprocess.run([sys.executable, __file__, *sys.argv[1:]], env=env, check=True)
    meta = json.loads(path.with_suffix(".json").read_text())
    clean_previous()
    load_before = os.getloadavg()[0]

    copy_seconds = copy_baseline(path)
    print(f"== COPY of the CSV into a bare temp table: {copy_seconds:.2f} s", flush=True)

    agency, _ = Agency.objects.get_or_create(code="nhsa", defaults={"name": "医保局"})
    manifest = {
        "kind": "medical",
        "period": PERIOD,
        "batch_id": f"{BATCH_PREFIX}{int(time.time())}",
        "row_count": meta["rows"],
        "sha256": meta["sha256"],
    }
    timer = Timer()
    timer.wrap(ingest, "_all_members", "members")
    timer.wrap(ingest, "_write_rows", "write")
    timer.wrap(ingest, "_store_chunk", "store")
    steps = {}
    started = time.perf_counter()
    push = ingest.push_receive_file(agency=agency, manifest=manifest, content=path, filename=path.name)
    steps["receive (SHA-256, count rows, store encrypted)"] = time.perf_counter() - started
    assert push.state == "pending", push.state

    started = time.perf_counter()
    push = ingest.push_ingest(push_id=push.pk)
    steps["ingest (check, encrypt, match, COPY)"] = time.perf_counter() - started
    assert push.state == "ingested", push.state
    matched_at_ingest = push.rows.filter(member__isnull=False).count()

    started = time.perf_counter()
    matched = screening.match_rows(period=PERIOD)
    steps["match (screening.match_rows)"] = time.perf_counter() - started

    screening.rules_ensure_defaults()
    started = time.perf_counter()
    screened = screening.screen(period=PERIOD)
    steps["screen (screening.screen)"] = time.perf_counter() - started

    total = sum(steps.values())
    self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    load_after = os.getloadavg()[0]
    logged_copy = copy_baseline(path, temp=False)
    floor = storage_floor(push.pk)
    costs = per_row_costs(path)
    t = timer.seconds

    rows = meta["rows"]
    print()
    print(f"{rows:,} medical rows ({meta['bytes'] / 1e6:.0f} MB CSV), {members:,} members in PostgreSQL")
    print(f"{'step':<56} {'seconds':>8} {'rows/s':>10}")
    print("-" * 76)
    for name, seconds in steps.items():
        print(f"{name:<56} {seconds:>8.1f} {rows / seconds:>10,.0f}")
    print("-" * 76)
    print(f"{'whole cycle':<56} {total:>8.1f} {rows / total:>10,.0f}")
    print(
        f"{'baseline: COPY of the CSV into a bare temp table':<56} {copy_seconds:>8.1f} {rows / copy_seconds:>10,.0f}"
    )
    print(f"whole cycle / COPY: {total / copy_seconds:.1f}x (goal: 3x)")
    print()
    print("within ingest:")
    label = "read all members' blind indexes once"
    print(f"  {label:<54} {t.get('members', 0):>8.1f}")
    print(f"  {'COPY of the encrypted rows into hardship_pushrow':<54} {t.get('write', 0) - t.get('members', 0):>8.1f}")
    print(f"  {'commit, counts, duplicate check':<54} {t.get('store', 0) - t.get('write', 0):>8.1f}")
    print(
        f"  {'the rest: read, check, encrypt (overlapping the above)':<54} {steps['ingest (check, encrypt, match, COPY)'] - t.get('store', 0):>8.1f}"
    )
    print(f"for comparison, COPY of the CSV into a bare logged table: {logged_copy:.1f} s")
    print()
    goal = 3 * copy_seconds
    print(f"floors (the goal, 3x the baseline, is {goal:.1f} s):")
    print("  (storing: a COPY into a bare logged table, no index, of the rows as kept)")
    stored_all = f"  storing all {push.accepted:,} accepted rows"
    print(f"{stored_all:<56} {floor['all']:>8.1f}  = {floor['all'] / copy_seconds:.1f}x")
    stored_members = f"  storing only the {matched_at_ingest:,} members' rows"
    print(f"{stored_members:<56} {floor['members']:>8.1f}  = {floor['members'] / copy_seconds:.1f}x")
    per_row = costs["csv read + check"] + costs["blind index (HMAC-SHA256)"]
    hashing = per_row * rows / 1e6 / max(1, os.cpu_count() or 1)
    label = f"  reading and blind-indexing every row, on {os.cpu_count()} CPUs"
    print(f"{label:<56} {hashing:>8.1f}  = {hashing / copy_seconds:.1f}x")
    print()
    print(
        f"rows accepted {push.accepted:,}, rejected {push.rejected:,}; matched to members at ingest "
        f"{matched_at_ingest:,}, by match_rows {matched.get('newly_matched', 0):,}"
    )
    print(f"screening: {screened['hits']:,} hits, {screened['new']:,} new candidates")
    print(
        f"peak memory: {self_rss:,.0f} MB this process; {children_rss:,.0f} MB the largest worker process (RSS, "
        "including pages shared with this process)"
    )
    print(
        f"processes checking rows: {args.processes}; {os.cpu_count()} CPUs; load average {load_before:.2f} before, "
        f"{load_after:.2f} after"
    )
    print("\nper row, on 20,000 rows of the CSV (one process):")
    for label, micro in costs.items():
        print(f"  {label:<54} {micro:>6.1f} µs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--match", type=float, default=0.15, help="share of rows of real members")
    parser.add_argument("--processes", type=int, default=2, help="processes checking and encrypting rows")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if os.environ.get("BENCH_GENERATE"):
        generate(args)
    else:
        cycle(args)


if __name__ == "__main__":
    main()
