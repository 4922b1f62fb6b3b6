"""System checks of the portal's own settings (`manage.py check --deploy`)."""

from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error, Tags, register

# The blind index of ID numbers is an HMAC: a short key can be guessed, and with it every index.
PII_INDEX_KEY_MIN_LENGTH = 32

# Backends that send nothing: the console one writes every login code to the log.
DEVELOPMENT_SMS_BACKENDS = {"core.sms.ConsoleSmsBackend", "core.sms.LocmemSmsBackend"}


@register(Tags.security, deploy=True)
def sms_backend_check(app_configs, **kwargs):
    if settings.SMS_BACKEND in DEVELOPMENT_SMS_BACKENDS:
        return [
            Error(
                f"SMS_BACKEND is {settings.SMS_BACKEND}: no SMS is sent, and login codes go to the log.",
                hint="Set SMS_BACKEND (e.g. core.sms.HttpSmsBackend, with SMS_PROVIDER_URL and SMS_PROVIDER_KEY).",
                id="core.E001",
            )
        ]
    if settings.SMS_BACKEND == "core.sms.HttpSmsBackend" and not settings.SMS_PROVIDER_URL:
        return [Error("SMS_BACKEND is core.sms.HttpSmsBackend but SMS_PROVIDER_URL is not set.", id="core.E002")]
    if settings.SMS_PROVIDER_URL and urlsplit(settings.SMS_PROVIDER_URL).scheme.lower() != "https":
        return [
            Error(
                "SMS_PROVIDER_URL is not an https:// address: login codes and the gateway's key would cross "
                "the network in clear.",
                hint="Use the gateway's https:// address.",
                id="core.E006",
            )
        ]
    return []


def _is_fernet_key(key: str) -> bool:
    try:
        Fernet(key)
    except (ValueError, TypeError):
        return False
    return True


@register(Tags.security, deploy=True)
def pii_keys_check(app_configs, **kwargs):
    errors = []
    if len(settings.PII_INDEX_KEY) < PII_INDEX_KEY_MIN_LENGTH:
        errors.append(
            Error(
                f"PII_INDEX_KEY has {len(settings.PII_INDEX_KEY)} characters; it needs at least "
                f"{PII_INDEX_KEY_MIN_LENGTH}: the blind index of ID numbers is only as strong as its key.",
                hint="Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'",
                id="core.E003",
            )
        )
    bad = [str(n) for n, key in enumerate(settings.PII_ENCRYPTION_KEYS, start=1) if not _is_fernet_key(key)]
    if bad:
        errors.append(
            Error(
                f"PII_ENCRYPTION_KEYS entry (counting from 1) {', '.join(bad)} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes).",
                hint="Generate one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'",
                id="core.E004",
            )
        )
    return errors


@register(Tags.security, deploy=True)
def hosts_and_proxies_check(app_configs, **kwargs):
    errors = []
    if "*" in settings.ALLOWED_HOSTS:
        errors.append(
            Error(
                "ALLOWED_HOSTS contains '*': any Host header is accepted, so links in SMS and e-mails can "
                "point to an attacker's host.",
                hint="List the portal's own host names.",
                id="core.E005",
            )
        )
    if not settings.DEBUG and not getattr(settings, "TRUSTED_PROXY_COUNT_SET", False):
        errors.append(
            Error(
                "TRUSTED_PROXY_COUNT is not set in the environment: the rate limits would trust a guessed "
                "number of proxies, and a forged X-Forwarded-For could pass them.",
                hint="Set TRUSTED_PROXY_COUNT to the number of proxies in front of Django that append to "
                "X-Forwarded-For (0 when clients reach Django directly).",
                id="core.E007",
            )
        )
    return errors
