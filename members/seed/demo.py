"""The members app's seed steps: the demo city with its members, and the demo logins."""

import time

from django.contrib.auth.models import Group, Permission
from django.db import connection, transaction

from core.models import Agency, ApiKey
from core.seed import SeedContext, demo_logins_section, seed_step
from core.services import api_key_create, api_key_revoke
from members.models import (
    Enterprise,
    Member,
    MembershipApplication,
    MutualAidEnrolment,
    Station,
    Transfer,
    Union,
    User,
)
from members.seed.generate import (
    CITY_CODE,
    DEMO_GRASSROOTS_CODE,
    DEMO_WORKER_MOBILE,
    build_tree,
    iter_members,
)
from members.seed.load import check_member_columns, insert_members, insert_tree

# Development only: every demo staff account has this password (see README, "Demo logins").
DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105
STAFF_GROUP = "会员工作人员"
DEMO_WORKER_USERNAME = f"m{DEMO_WORKER_MOBILE}"
DEMO_API_KEY_NAME = "demo"


class DemoStaff:
    """username, union code (None: superuser), display name, what they see."""

    ACCOUNTS = (
        ("admin", None, "系统管理员", "superuser: every union, every member"),
        ("city", CITY_CODE, "市总工会干部", "city staff: the whole city"),
        ("wuxing", "WX", "吴兴区总工会干部", "district staff: 吴兴区 only, not 南浔区, 德清县 …"),
        (
            f"g-{DEMO_GRASSROOTS_CODE.lower()}",
            DEMO_GRASSROOTS_CODE,
            "企业工会干部",
            "grassroots staff: this union only",
        ),
    )


def demo_tree_exists(ctx: SeedContext | None = None) -> bool:
    return Union.objects.filter(code=CITY_CODE).exists()


def _reset_city(ctx: SeedContext) -> None:
    """Delete the demo tree and everything in it (members by a raw DELETE: there may be 680,000)."""
    prefix = f"{CITY_CODE}/"
    with transaction.atomic():
        MembershipApplication.objects.filter(union__path__startswith=prefix).delete()
        Transfer.objects.filter(member__union__path__startswith=prefix).delete()
        aid = MutualAidEnrolment.objects.filter(member__union__path__startswith=prefix)
        aid._raw_delete(aid.db)
        # The demo users stay (audit entries may point at them); they lose their union and member.
        User.objects.filter(union__path__startswith=prefix).update(union=None)
        members = Member.objects.filter(union__path__startswith=prefix)
        members._raw_delete(members.db)
        Station.objects.filter(union__path__startswith=prefix).delete()
        Enterprise.objects.filter(union__path__startswith=prefix).delete()
        for kinds in (Union.MEMBER_KINDS, ("industry", "street"), ("district",), ("city",)):
            Union.objects.filter(path__startswith=prefix, kind__in=kinds).delete()
    ctx.log("Deleted the demo city.")


@seed_step("members.city", order=100, done=demo_tree_exists, reset=_reset_city)
def seed_city(ctx: SeedContext) -> None:
    """The union tree, enterprises, 506 stations, members and their 2025 mutual-aid enrolments."""
    check_member_columns()
    started = time.monotonic()
    tree = build_tree(ctx.seed)
    with transaction.atomic():
        ids = insert_tree(tree)
        ctx.log(
            f"Created {len(tree.unions)} unions, {len(tree.enterprises)} enterprises, {len(tree.stations)} stations."
        )
        count = insert_members(
            iter_members(ctx.seed, ctx.members, tree), total=ctx.members, ids=ids, progress=ctx.progress
        )
    if connection.vendor == "postgresql":
        # After a bulk load: fresh statistics for the planner (and the admin's row estimate), and, outside
        # a transaction, a vacuum that sets the visibility map so counts can use index-only scans.
        tables = ", ".join(m._meta.db_table for m in (Union, Enterprise, Station, Member, MutualAidEnrolment))
        with connection.cursor() as cur:
            cur.execute(f"ANALYZE {tables}" if connection.in_atomic_block else f"VACUUM ANALYZE {tables}")
    ctx.log(f"Created {count} members in {time.monotonic() - started:.1f} s.")


def _staff_in_place(ctx: SeedContext | None = None) -> bool:
    wanted = {username: code for username, code, *_ in DemoStaff.ACCOUNTS}
    found = dict(User.objects.filter(username__in=wanted, is_staff=True).values_list("username", "union__code"))
    worker_linked = Member.objects.filter(mobile=DEMO_WORKER_MOBILE, user__username=DEMO_WORKER_USERNAME).exists()
    return found == wanted and worker_linked


def _reset_staff(ctx: SeedContext) -> None:
    # Keep the accounts (audit entries may point at them); the next run puts them back in place.
    User.objects.filter(username__in=[a[0] for a in DemoStaff.ACCOUNTS]).update(union=None)


@seed_step("members.logins", order=110, done=_staff_in_place, reset=_reset_staff)
def seed_logins(ctx: SeedContext) -> None:
    """The demo staff (password logins), their group, and the demo worker's login (SMS code)."""
    group, _ = Group.objects.get_or_create(name=STAFF_GROUP)
    group.permissions.set(
        Permission.objects.filter(
            content_type__app_label__in=["members", "core"], codename__regex=r"^(view|add|change)_"
        )
    )
    unions = dict(Union.objects.filter(code__in=[a[1] for a in DemoStaff.ACCOUNTS if a[1]]).values_list("code", "id"))
    for username, code, display, _sees in DemoStaff.ACCOUNTS:
        user, created = User.objects.get_or_create(username=username, defaults={"first_name": display})
        if created:
            user.set_password(DEMO_PASSWORD)
        user.is_staff = True
        user.is_superuser = code is None
        user.union_id = unions.get(code) if code else None
        user.save()
        if code:
            user.groups.add(group)
    worker, created = User.objects.get_or_create(username=DEMO_WORKER_USERNAME, defaults={"mobile": DEMO_WORKER_MOBILE})
    if created:
        worker.set_unusable_password()
        worker.save(update_fields=["password"])
    Member.objects.filter(mobile=DEMO_WORKER_MOBILE).update(user=worker)
    ctx.log(f"Demo logins ready: {', '.join(a[0] for a in DemoStaff.ACCOUNTS)} and the worker {DEMO_WORKER_MOBILE}.")


def demo_api_key(*, agency_code: str = "mca", agency_name: str = "民政局") -> tuple[Agency, str]:
    """A fresh demo key for the agency (scope members:verify); earlier demo keys are revoked."""
    with transaction.atomic():
        agency, _ = Agency.objects.get_or_create(code=agency_code, defaults={"name": agency_name})
        for key in ApiKey.objects.filter(agency=agency, name=DEMO_API_KEY_NAME, revoked_at__isnull=True):
            api_key_revoke(key=key)
        _key, secret = api_key_create(agency=agency, scopes=["members:verify"], name=DEMO_API_KEY_NAME)
    return agency, secret


@demo_logins_section("members", order=10)
def demo_logins(base_url: str) -> list[str]:
    """The worker's and the staff's demo logins, and a fresh agency key (for `manage.py demo_logins`)."""
    agency, key = demo_api_key()
    worker = Member.objects.select_related("union").filter(mobile=DEMO_WORKER_MOBILE).first()
    unions = dict(Union.objects.filter(code__in=[a[1] for a in DemoStaff.ACCOUNTS if a[1]]).values_list("code", "name"))
    existing = set(
        User.objects.filter(username__in=[a[0] for a in DemoStaff.ACCOUNTS]).values_list("username", flat=True)
    )
    out = [
        "  Worker (mobile web, log in with an SMS code):",
        f"    {base_url}/m/login/   mobile {DEMO_WORKER_MOBILE}",
        "    The SMS code appears in this terminal (console SMS backend, in the runserver log).",
    ]
    if worker:
        out.append(f"    ({worker.name}, member {worker.member_no}, {worker.union.name})")
    out += ["", f"  Staff (Django admin {base_url}/admin/), password: {DEMO_PASSWORD}"]
    for username, code, _display, sees in DemoStaff.ACCOUNTS:
        missing = "" if username in existing else "  [not created yet: run seed_demo]"
        where = f" ({unions.get(code, code)})" if code else ""
        out.append(f"    {username:<10} {sees}{where}{missing}")
    out += [
        "",
        f"  Agency API key for {agency.name} ({agency.code}), scope members:verify (new on every run; the",
        "  previous demo key is revoked):",
        f"    {key}",
    ]
    if worker:
        # Fake demo data: the only place where a whole (invented) ID number is printed.
        out += [
            "",
            "  Try it (the ID number is the invented one of the demo worker):",
            f"    curl -s -X POST {base_url}/api/v1/members/verify \\",
            f"      -H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' \\",
            f'      -d \'{{"id_number": "{worker.id_number}"}}\'',
        ]
    return out
