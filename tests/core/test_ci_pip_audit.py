""".ci/pip-audit: audits when a vulnerability database answers, fails CI on a finding, and says plainly
when no database is reachable (run with stand-ins for curl and pip-audit on the PATH)."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(tmp_path, *, curl_body: str | None, audit_exit: int = 0) -> subprocess.CompletedProcess:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    curl = bin_dir / "curl"
    curl.write_text("#!/bin/sh\nexit 7\n" if curl_body is None else f"#!/bin/sh\necho '{curl_body}'\n")
    audit = bin_dir / "pip-audit"
    audit.write_text(f'#!/bin/sh\necho "audit $*" > "{tmp_path}/called"\nexit {audit_exit}\n')
    for f in (curl, audit):
        f.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PIP_AUDIT_BIN_DIR": str(bin_dir)}
    return subprocess.run([str(ROOT / ".ci/pip-audit")], env=env, capture_output=True, text=True, timeout=60)


def test_it_says_plainly_that_nothing_was_audited_when_no_database_answers(tmp_path):
    result = _run(tmp_path, curl_body=None)
    assert result.returncode == 0
    assert "NOT RUN" in result.stdout and "NOT audited" in result.stdout
    assert not (tmp_path / "called").exists()


@pytest.mark.parametrize("audit_exit", [0, 1])
def test_it_audits_against_pypi_and_fails_on_a_finding(tmp_path, audit_exit):
    result = _run(tmp_path, curl_body='{"info": {}, "vulnerabilities": []}', audit_exit=audit_exit)
    assert result.returncode == audit_exit
    assert "--local --vulnerability-service pypi" in (tmp_path / "called").read_text()
