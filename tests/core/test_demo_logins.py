"""`manage.py demo_logins` prints what each app registers in core.seed; members imports no app above it."""

import ast
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from core import seed

ROOT = Path(__file__).resolve().parents[2]


def test_demo_logins_print_each_registered_section_in_order(db, monkeypatch, development):
    monkeypatch.setattr(seed, "_SECTIONS", {})
    seed.demo_logins_section("later", order=90)(lambda base_url: [f"  later at {base_url}"])
    seed.demo_logins_section("empty", order=50)(lambda base_url: [])
    seed.demo_logins_section("first", order=10)(lambda base_url: ["  first"])
    monkeypatch.setattr(seed, "autodiscover_modules", lambda *names: None)
    out = StringIO()
    call_command("demo_logins", "--base-url", "http://demo.test", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[lines.index("  first") - 1] == ""
    assert lines.index("  first") < lines.index("  later at http://demo.test")
    assert sum(1 for line in lines if line == "") == 3  # before the banner and before each section with lines


def test_members_imports_no_app_built_on_it():
    """members is the base every other app builds on (their seeds use its demo city); its demo
    logins are one section of core.seed's registry, the merchant's another, in vouchers."""
    above = {p.parent.name for p in ROOT.glob("*/apps.py")} - {"core", "members"}
    found = []
    for path in (ROOT / "members").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            found += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] in above]
    assert found == []


@pytest.mark.parametrize("command", ["demo_logins", "seed_demo"])
def test_it_refuses_the_demo_commands_with_debug_off(db, settings, command):
    """They make accounts with known passwords and print live agency and merchant keys."""
    from core.models import ApiKey
    from members.models import User

    settings.DEBUG = False
    out = StringIO()
    with pytest.raises(CommandError, match="development only"):
        call_command(command, stdout=out)
    assert ApiKey.objects.count() == 0
    assert User.objects.count() == 0
    assert "key" not in out.getvalue().lower()
