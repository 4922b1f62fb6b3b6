"""Shared services: audit log, notifications, health, settings from the environment."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from core import sms
from core.models import AuditEntry, Notification
from core.services import audit_log, notification_send
from core.sms import mask_mobile
from core.tasks import deliver_notification

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_audit_entries_are_append_only(member, staff):
    entry = audit_log(action="members.member.changed", obj=member, actor=staff, old={"a": 1}, new={"a": 2})
    entry.refresh_from_db()
    assert (entry.actor, entry.object_type, entry.object_id, entry.old, entry.new) == (
        staff, "members.member", str(member.pk), {"a": 1}, {"a": 2},
    )  # fmt: skip
    entry.action = "members.member.hidden"
    with pytest.raises(ValueError):
        entry.save()
    with pytest.raises(ValueError):
        entry.delete()


@pytest.mark.django_db
def test_audit_action_codes_are_dotted(member):
    with pytest.raises(ValueError):
        audit_log(action="approved", obj=member)
    assert AuditEntry.objects.count() == 0


@pytest.mark.django_db
def test_a_notification_is_queued_only_after_commit(member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notification_send(recipient_ids=[member.user_id], kind="test.kind", title="t", sms=True)
    assert Notification.objects.count() == 0 and len(callbacks) == 1
    callbacks[0]()
    assert Notification.objects.filter(recipient=member.user).count() == 1
    assert sms.outbox[-1]["mobile"] == member.mobile


@pytest.mark.django_db
def test_a_retried_delivery_creates_one_notification_and_one_sms(member):
    payload = {"kind": "k.k", "title": "t", "body": "b", "link": "", "sms": True}
    deliver_notification(member.user_id, payload, "same-key")
    deliver_notification(member.user_id, payload, "same-key")
    assert Notification.objects.filter(recipient=member.user).count() == 1
    assert len(sms.outbox) == 1


def test_sms_refuses_a_malformed_number():
    with pytest.raises(ValueError):
        sms.send_sms("12345", "hi")


@pytest.mark.django_db
def test_healthz_says_only_ok_to_the_public(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.json() == {"status": "ok"}
    assert resp["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_healthz_fails_when_redis_is_unreachable_and_names_it_only_in_the_log(client, settings, caplog):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    with caplog.at_level(logging.ERROR, logger="core.health"):
        resp = client.get("/healthz")
    assert resp.status_code == 503 and resp.json() == {"status": "error"}
    assert b"redis" not in resp.content.lower() and b"database" not in resp.content.lower()
    assert "redis=error: ConnectionError" in caplog.text and "database=ok" in caplog.text


@pytest.mark.django_db
def test_healthz_fails_when_the_database_is_unreachable(client, monkeypatch, caplog):
    from core import health

    monkeypatch.setattr(health, "_database", lambda: "error: OperationalError")
    with caplog.at_level(logging.ERROR, logger="core.health"):
        resp = client.get("/healthz")
    assert resp.status_code == 503 and resp.json() == {"status": "error"}
    assert "database=error: OperationalError" in caplog.text


def _manage(*args, env_overrides):
    # A clean process environment: no keys, and nothing that other tests (Playwright) set.
    dropped = (
        "DEBUG",
        "SECRET_KEY",
        "PII_ENCRYPTION_KEYS",
        "PII_INDEX_KEY",
        "TRUSTED_PROXY_COUNT",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
    )
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "x" * 20 + "production-secret-key-with-enough-entropy-1234567890",
    "PII_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "PII_INDEX_KEY": "production-index-key-0123456789abcdef",
    "ALLOWED_HOSTS": "portal.example.cn",
    "SMS_BACKEND": "core.sms.HttpSmsBackend",
    "SMS_PROVIDER_URL": "https://sms.example.cn/send",
    "SMS_PROVIDER_KEY": "production-sms-key",
    "TRUSTED_PROXY_COUNT": "1",
}


def test_deploy_check_passes_in_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env_overrides=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"SMS_BACKEND": ""}, "core.E001"),  # unset: the console default
        ({"SMS_BACKEND": "core.sms.ConsoleSmsBackend"}, "core.E001"),
        ({"SMS_PROVIDER_URL": ""}, "core.E002"),
    ],
)
def test_the_deploy_check_refuses_an_sms_backend_that_sends_nothing(overrides, error):
    env = {key: value for key, value in {**PRODUCTION, **overrides}.items() if value}
    result = _manage("check", "--deploy", env_overrides=env)
    assert result.returncode != 0
    assert error in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("overrides", "error", "message"),
    [
        ({"PII_INDEX_KEY": "k"}, "core.E003", "PII_INDEX_KEY has 1 characters"),
        ({"PII_INDEX_KEY": "x" * 31}, "core.E003", "PII_INDEX_KEY has 31 characters"),
        ({"PII_ENCRYPTION_KEYS": "not-a-key"}, "core.E004", "entry (counting from 1) 1 is not a valid Fernet key"),
        (
            {"PII_ENCRYPTION_KEYS": f"{Fernet.generate_key().decode()},{'a' * 44}"},
            "core.E004",
            "entry (counting from 1) 2 is not",
        ),
        ({"ALLOWED_HOSTS": "*"}, "core.E005", "ALLOWED_HOSTS contains '*'"),
        ({"ALLOWED_HOSTS": "portal.example.cn,*"}, "core.E005", "ALLOWED_HOSTS contains '*'"),
        ({"SMS_PROVIDER_URL": "http://sms.example.cn/send"}, "core.E006", "SMS_PROVIDER_URL is not an https://"),
        ({"TRUSTED_PROXY_COUNT": ""}, "core.E007", "TRUSTED_PROXY_COUNT is not set"),
    ],
)
def test_the_deploy_check_refuses_weak_keys_open_hosts_and_guessed_proxies(overrides, error, message):
    env = {key: value for key, value in {**PRODUCTION, **overrides}.items() if value}
    result = _manage("check", "--deploy", env_overrides=env)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and error in output and message in output, output


def test_the_deploy_check_accepts_zero_proxies_when_set():
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING", env_overrides={**PRODUCTION, "TRUSTED_PROXY_COUNT": "0"}
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "PII_ENCRYPTION_KEYS", "PII_INDEX_KEY"])
def test_production_refuses_to_start_without_its_keys(missing):
    env = {**PRODUCTION, missing: ""}
    result = _manage("check", env_overrides=env)
    assert result.returncode != 0
    assert missing in result.stderr and "ImproperlyConfigured" in result.stderr


def test_development_generates_keys_into_an_ignored_file(tmp_path):
    from unionportal import devkeys

    target = tmp_path / ".env.local"
    devkeys.ensure(target, ["SECRET_KEY", "PII_ENCRYPTION_KEYS"])
    first = target.read_text()
    devkeys.ensure(target, ["SECRET_KEY", "PII_ENCRYPTION_KEYS", "PII_INDEX_KEY"])
    lines = dict(line.split("=", 1) for line in target.read_text().splitlines() if "=" in line)
    assert first in target.read_text()  # existing keys are kept, never rotated
    Fernet(lines["PII_ENCRYPTION_KEYS"].encode())
    assert set(lines) == {"SECRET_KEY", "PII_ENCRYPTION_KEYS", "PII_INDEX_KEY"}
    assert oct(target.stat().st_mode)[-3:] == "600"
    assert ".env.local" in (ROOT / ".gitignore").read_text()


def test_production_ignores_the_development_key_file():
    # .env.local exists in this checkout (tests run with DEBUG on); with DEBUG off it must not be read.
    result = _manage("check", env_overrides={"DEBUG": "0", "ALLOWED_HOSTS": "x"})
    assert result.returncode != 0 and "ImproperlyConfigured" in result.stderr


def test_the_console_sms_backend_logs_the_masked_number_and_keeps_nothing_in_memory(caplog):
    from core import sms

    sms.ConsoleSmsBackend().send("13900000001", "code 123456")
    assert sms.outbox == []  # the outbox is the test backend's; a long-running process would grow it
    assert "139****0001" in caplog.text and "13900000001" not in caplog.text


@pytest.mark.parametrize(
    ("mobile", "shown"),
    [("13900000001", "139****0001"), ("0572-2123456", "***"), ("1390000", "***"), ("", ""), (None, "")],
)
def test_a_mobile_is_never_shown_in_clear_whatever_its_length(mobile, shown):
    assert mask_mobile(mobile) == shown


def test_healthz_alone_is_exempt_from_the_https_redirect_in_production():
    script = (
        "from django.test import Client; c = Client(HTTP_HOST='portal.example.cn'); "
        "print(c.get('/healthz').status_code, c.get('/m/login/').status_code)"
    )
    result = _manage("shell", "-c", script, env_overrides=PRODUCTION)
    health, page = result.stdout.strip().splitlines()[-1].split()
    assert health in ("200", "503") and page == "301", result.stdout + result.stderr
