"""Rules that had two or three copies have one home: a copy cannot come back unnoticed."""

import datetime as dt
import re
from pathlib import Path

from django.utils import timezone

from core import parsing
from members.models import SmsCode

ROOT = Path(__file__).resolve().parents[2]
APPS = ("core", "members", "hardship", "vouchers", "workshops", "feedback", "craftsmen", "unionportal")


def app_sources():
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                yield path, path.read_text(encoding="utf-8")


def test_the_mobile_number_pattern_is_written_only_in_core_parsing():
    copies = [str(p.relative_to(ROOT)) for p, text in app_sources() if "1[3-9][0-9]{9}" in text]
    assert copies == ["core/parsing.py"]


def test_the_sms_sender_the_validators_and_the_identity_search_share_the_pattern():
    from core import admin_kit, sms
    from members import validators

    assert validators.MOBILE_RE is parsing.MOBILE_RE
    assert sms.MOBILE_RE is parsing.MOBILE_RE and admin_kit.MOBILE_RE is parsing.MOBILE_RE


def test_month_keys_are_built_by_period_not_by_strftime():
    pattern = re.compile(r"""strftime\(\s*["']%Y-%m["']\s*\)""")
    copies = [str(p.relative_to(ROOT)) for p, text in app_sources() if pattern.search(text)]
    assert copies == []


def test_the_reconcile_command_rebuilds_the_campaigns_members_see():
    from vouchers.management.commands import vouchers_reconcile
    from vouchers.selectors import campaigns

    assert vouchers_reconcile.VISIBLE_STATES is campaigns.VISIBLE_STATES


def test_an_sms_code_never_shows_a_mobile_number_that_is_not_eleven_digits():
    at = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)
    assert str(SmsCode(mobile="13900000001", created_at=at)).startswith("139****0001 ")
    # The old mask showed the first three and the last four of anything: all of "1390001".
    assert str(SmsCode(mobile="1390001", created_at=at)).startswith("*** ")


def test_a_month_key_is_the_period_of_the_local_day():
    now = dt.datetime(2026, 11, 30, 17, 0, tzinfo=dt.UTC)  # 1 December in Asia/Shanghai
    assert str(parsing.Period.of(timezone.localtime(now))) == "2026-12"


def test_the_money_cell_format_of_exports_is_written_only_in_core_xlsx():
    copies = [str(p.relative_to(ROOT)) for p, text in app_sources() if "#,##0.00" in text]
    assert copies == ["core/xlsx.py"]


def test_every_hardship_list_and_the_push_list_use_the_large_table_settings():
    from django.contrib import admin

    from core.admin_kit import LargeTableMixin
    from core.paginator import LargeTablePaginator
    from hardship.admin.base import HardshipAdmin
    from hardship.admin.pushes import DataPushAdmin

    hardship_admins = [m for m in admin.site._registry.values() if isinstance(m, HardshipAdmin | DataPushAdmin)]
    assert any(isinstance(m, DataPushAdmin) for m in hardship_admins) and len(hardship_admins) > 3
    for model_admin in hardship_admins:
        assert isinstance(model_admin, LargeTableMixin), model_admin
        assert model_admin.paginator is LargeTablePaginator, model_admin
        assert model_admin.show_full_result_count is False and model_admin.list_per_page == 50
