"""The shared admin pieces and the seed registry live in core, which imports no domain app; the
apps' admins take them from core, and the big tables keep their no-count lists."""

import ast
from pathlib import Path

import pytest
from django.contrib import admin
from django.utils.module_loading import autodiscover_modules

from core.models import AuditEntry
from core.paginator import LargeTablePaginator
from core.seed import registered_steps
from hardship.models import AccessLog, Aid, Case, WarmthRosterEntry
from members.models import Member, MembershipApplication, MutualAidEnrolment, User
from vouchers.models import Redemption, Voucher

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_APPS = {"members", "hardship", "vouchers", "workshops", "feedback"}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (lazy imports in functions included)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", ["core/admin_kit.py", "core/seed.py", "core/admin.py"])
def test_core_admin_pieces_and_seed_registry_import_no_domain_app(module):
    domain = {name for name in imported_modules(ROOT / module) if name.split(".")[0] in DOMAIN_APPS}
    assert not domain, f"{module} imports {sorted(domain)}"


def test_hardship_and_vouchers_take_the_admin_pieces_from_core_not_from_members():
    offenders = {}
    for app in ("hardship", "vouchers"):
        for path in (ROOT / app).rglob("*.py"):
            found = {n for n in imported_modules(path) if n in {"members.admin", "members.admin_scope"}}
            if found:
                offenders[str(path.relative_to(ROOT))] = sorted(found)
    assert not offenders


# model: rows per page
LARGE_TABLES = {
    AuditEntry: 100,
    Member: 25,
    MembershipApplication: 50,
    MutualAidEnrolment: 25,
    User: 100,
    Case: 50,
    Aid: 50,
    WarmthRosterEntry: 50,
    AccessLog: 100,
    Voucher: 100,
    Redemption: 100,
}


@pytest.mark.parametrize("model", LARGE_TABLES, ids=lambda m: m._meta.label)
def test_a_large_table_is_listed_without_counting_it_whole(model):
    model_admin = admin.site._registry[model]
    assert model_admin.paginator is LargeTablePaginator
    assert model_admin.show_full_result_count is False
    assert model_admin.show_facets is admin.ShowFacets.NEVER
    assert model_admin.list_per_page == LARGE_TABLES[model]


def test_the_seed_registry_finds_the_steps_of_every_app():
    autodiscover_modules("seed")
    apps = {step.name.split(".")[0] for step in registered_steps()}
    assert {"members", "hardship", "vouchers"} <= apps
