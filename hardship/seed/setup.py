"""`hardship.setup`: the four partner agencies, the default screening rules, the settings row, the
local minimum living standards, and the hardship staff groups given to the demo staff."""

from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from core.models import Agency
from core.seed import SeedContext, seed_step
from hardship.models import HardshipSettings, LocalStandard
from hardship.screening.rules import rules_ensure_defaults
from members.models import Union, User

TZ = ZoneInfo("Asia/Shanghai")
D = Decimal

AGENCIES = (("mca", "民政局"), ("hrss", "人社局"), ("nhsa", "医保局"), ("cdpf", "残联"))
HARDSHIP_GROUP = "帮扶工作人员"
SUPERVISOR_GROUP = "帮扶主管"
# What hardship staff do in the admin; supervisors may also list every case and read the access log.
STAFF_CODENAMES = (
    "view_case", "add_case", "change_case", "view_candidate", "change_candidate", "view_aid", "change_aid",
    "view_datapush", "view_warmthbatch", "add_warmthbatch", "change_warmthbatch",
    "view_warmthrosterentry", "view_referral", "change_referral", "view_cyclerun", "view_screeningrule", "view_localstandard",
    "view_casedocument", "view_caseevent", "view_paymentbatch",
    # Caseworkers visit and call households: they may reveal a case's person, with a reason (access log).
    "reveal_person",
)  # fmt: skip
SUPERVISOR_CODENAMES = (
    "list_all_cases", "view_accesslog", "change_cyclerun", "change_screeningrule", "add_localstandard",
    "change_localstandard", "view_hardshipsettings", "add_paymentbatch", "change_paymentbatch",
)  # fmt: skip
# The settings row (the maker–checker threshold among them) is the whole city's: city-level staff only
# (the admin also refuses anyone outside the city federation's own union).
CITY_SETTINGS_GROUP = "帮扶市级设置"
CITY_SETTINGS_CODENAMES = ("view_hardshipsettings", "change_hardshipsettings", "change_second_approval")
DEMO_CITY_SETTINGS_STAFF = ("city",)
# Uploading a file on an agency's behalf: city-level staff only (hardship.selectors.can_upload_agency_data).
CITY_UPLOAD_GROUP = "帮扶数据代传"
CITY_UPLOAD_CODENAMES = ("view_datapush", "add_datapush", "upload_agency_data")
# Demo staff of the members app (members.seed.demo.DemoStaff) who get the hardship groups.
DEMO_HARDSHIP_STAFF = {"city": True, "wuxing": True, "g-g0001": False}  # username: supervisor?
DEMO_BATCH_PREFIX = "demo-"
STANDARDS = {2025: D("1245.00"), 2026: D("1310.00")}  # 低保标准, CNY a month


def hardship_basics() -> None:
    """Agencies, default rules and the settings row (idempotent)."""
    for code, name in AGENCIES:
        Agency.objects.get_or_create(code=code, defaults={"name": name})
    rules_ensure_defaults()
    HardshipSettings.get()


def hardship_groups() -> tuple[Group, Group]:
    staff, _ = Group.objects.get_or_create(name=HARDSHIP_GROUP)
    staff.permissions.set(Permission.objects.filter(content_type__app_label="hardship", codename__in=STAFF_CODENAMES))
    supervisor, _ = Group.objects.get_or_create(name=SUPERVISOR_GROUP)
    supervisor.permissions.set(
        Permission.objects.filter(content_type__app_label="hardship", codename__in=SUPERVISOR_CODENAMES)
    )
    return staff, supervisor


def hardship_city_settings_group() -> Group:
    group, _ = Group.objects.get_or_create(name=CITY_SETTINGS_GROUP)
    group.permissions.set(
        Permission.objects.filter(content_type__app_label="hardship", codename__in=CITY_SETTINGS_CODENAMES)
    )
    return group


def hardship_city_upload_group() -> Group:
    group, _ = Group.objects.get_or_create(name=CITY_UPLOAD_GROUP)
    group.permissions.set(
        Permission.objects.filter(content_type__app_label="hardship", codename__in=CITY_UPLOAD_CODENAMES)
    )
    return group


def local_standards(union: Union) -> None:
    for year, amount in STANDARDS.items():
        LocalStandard.objects.get_or_create(union=union, year=year, defaults={"monthly_amount": amount})


def _city_districts():
    return Union.objects.filter(kind=Union.Kind.DISTRICT, parent__isnull=False)


def _setup_done(ctx: SeedContext | None = None) -> bool:
    return (
        Group.objects.filter(name=HARDSHIP_GROUP).exists()
        and Agency.objects.filter(code="cdpf").exists()
        and (LocalStandard.objects.filter(union__in=_city_districts()).exists() or not _city_districts().exists())
    )


def _reset_setup(ctx: SeedContext) -> None:
    LocalStandard.objects.filter(union__in=_city_districts()).delete()


@seed_step("hardship.setup", order=300, done=_setup_done, reset=_reset_setup)
def seed_setup(ctx: SeedContext) -> None:
    """Agencies, rules, settings, local standards of the demo city's districts, and staff groups."""
    with transaction.atomic():
        hardship_basics()
        staff_group, supervisor_group = hardship_groups()
        for union in _city_districts():
            local_standards(union)
        for user in User.objects.filter(username__in=DEMO_HARDSHIP_STAFF):
            user.groups.add(staff_group)
            if DEMO_HARDSHIP_STAFF[user.username]:
                user.groups.add(supervisor_group)
            if user.username in DEMO_CITY_SETTINGS_STAFF:
                user.groups.add(hardship_city_settings_group(), hardship_city_upload_group())
    ctx.log(f"Hardship staff groups given to {', '.join(DEMO_HARDSHIP_STAFF)}.")
