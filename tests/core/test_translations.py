"""Every marked string has a Chinese translation, and the compiled catalog matches the source."""

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
SKIP_DIRS = {".venv", "node_modules", "staticfiles", "var", ".git", ".pytest_cache", ".ruff_cache", "bench"}


@pytest.fixture(scope="module")
def fresh_catalog(tmp_path_factory):
    """Run makemessages on a copy of the source, merging the committed catalog."""
    if not shutil.which("xgettext") or not shutil.which("msgmerge"):
        pytest.skip("GNU gettext is not installed (apt-get install gettext); CI installs it")
    copy = tmp_path_factory.mktemp("src")
    for item in ROOT.iterdir():
        if item.name in SKIP_DIRS or item.name.startswith(".env"):
            continue
        if item.is_dir():
            shutil.copytree(item, copy / item.name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(item, copy / item.name)
    (copy / ".env.local").write_text((ROOT / ".env.local").read_text() if (ROOT / ".env.local").exists() else "")
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete", "--no-location"],
        cwd=copy,
        env={"DEBUG": "1", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(copy)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return polib.pofile(str(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))


def test_every_marked_string_has_a_chinese_translation(fresh_catalog):
    missing = [e.msgid for e in fresh_catalog.untranslated_entries()]
    fuzzy = [e.msgid for e in fresh_catalog.fuzzy_entries()]
    assert not missing, f"{len(missing)} strings lack a Chinese translation (run `make messages`): {missing[:20]}"
    assert not fuzzy, f"fuzzy translations to review: {fuzzy[:20]}"


def test_the_compiled_catalog_matches_the_source_catalog():
    po = polib.pofile(str(PO))
    mo = {(e.msgctxt, e.msgid): (e.msgstr, e.msgstr_plural) for e in polib.mofile(str(MO))}
    stale = [e.msgid for e in po.translated_entries() if mo.get((e.msgctxt, e.msgid)) != (e.msgstr, e.msgstr_plural)]
    assert not stale, f"django.mo is out of date (run `make messages`): {stale[:10]}"


def test_chinese_is_the_default_language(client, db):
    resp = client.get("/m/login/")
    assert resp.headers["Content-Language"] == "zh-hans"
    resp = client.get("/m/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert resp.headers["Content-Language"] == "en"
