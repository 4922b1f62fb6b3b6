"""The import contracts in pyproject.toml stay complete as apps grow, and no module uses another's private names.

`make lint` runs lint-imports on the contracts; these tests make sure a new app or a new door
(views, admin, api, forms, urls, serializers) cannot slip past them by not being listed.
"""

import ast
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOOR_RE = re.compile(r"^(views|admin|admin_views|api|api_\w+|forms|urls|serializers|merchant_views)$")
PROJECT_PACKAGES = ("core", "members", "hardship", "vouchers", "feedback", "workshops", "craftsmen", "unionportal")


def _contracts():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return config, {c["id"]: c for c in config["contracts"]}


def _apps():
    return sorted(p.parent.name for p in ROOT.glob("*/apps.py") if p.parent.name != "core")


def _doors(app):
    return sorted(
        f"{app}.{p.stem}"
        for p in (ROOT / app).iterdir()
        if DOOR_RE.match(p.stem) and (p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists()))
    )


def test_every_app_is_a_root_package_and_core_may_import_none_of_them():
    config, contracts = _contracts()
    for app in _apps():
        assert app in config["root_packages"], app
        assert app in contracts["core-independent"]["forbidden_modules"], app


def test_every_door_of_every_app_is_forbidden_to_the_other_apps():
    _, contracts = _contracts()
    for app in _apps():
        doors = _doors(app)
        if not doors:
            continue
        contract = contracts[f"doors-{app}"]
        assert sorted(contract["forbidden_modules"]) == doors, app
        assert sorted(contract["source_modules"]) == sorted(a for a in _apps() if a != app), app


def test_every_app_with_modules_is_checked_for_cycles():
    _, contracts = _contracts()
    for app in _apps():
        if len(list((ROOT / app).glob("*.py"))) > 3:
            assert app in contracts["no-cycles"]["ancestors"], app


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _is_project_module(dotted: str) -> bool:
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def private_uses(source: str, here: str) -> list[str]:
    """`from x import _name`, and `module._name` on a project module imported here."""
    tree = ast.parse(source)
    modules = {}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PROJECT_PACKAGES:
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__") and node.module != here:
                    found.append(f"{here}: from {node.module} import {alias.name}")
                if _is_project_module(f"{node.module}.{alias.name}"):
                    modules[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PROJECT_PACKAGES and alias.asname:
                    modules[alias.asname] = alias.name
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and modules[node.value.id] != here
        ):
            found.append(f"{here}: {modules[node.value.id]}.{node.attr}")
    return found


def test_no_module_uses_another_modules_private_names():
    offences = []
    for package in PROJECT_PACKAGES:
        if not (ROOT / package).exists():
            continue
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                offences += private_uses(path.read_text(), _module_name(path))
    assert offences == []


def test_the_private_names_check_sees_both_kinds_of_offence():
    source = "from members.services import _identity\nfrom vouchers.services import claims\nclaims._window_outcome(1)\n"
    assert private_uses(source, "hardship.services") == [
        "hardship.services: from members.services import _identity",
        "hardship.services: vouchers.services.claims._window_outcome",
    ]
    assert private_uses("from vouchers.models import Campaign\nCampaign._meta\n", "vouchers.admin") == []
