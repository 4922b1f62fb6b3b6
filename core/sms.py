"""The pluggable SMS sender. settings.SMS_BACKEND names the class."""

import json
import logging
import urllib.request

from django.conf import settings
from django.utils.module_loading import import_string

from core.parsing import MOBILE_RE

logger = logging.getLogger("core.sms")

# Test backends append here, as Django's locmem mail backend does.
outbox: list[dict] = []


def mask_mobile(mobile: str | None) -> str:
    """13900000001 -> 139****0001; any other non-empty text -> *** (never shown in clear); none -> ""."""
    if not mobile:
        return ""
    return mobile[:3] + "****" + mobile[-4:] if len(mobile) == 11 else "***"


class BaseSmsBackend:
    def send(self, mobile: str, text: str) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class ConsoleSmsBackend(BaseSmsBackend):
    """Development: writes the message to the log (the mobile number is masked). `manage.py check
    --deploy` refuses it (core.checks)."""

    def send(self, mobile: str, text: str) -> None:
        logger.warning("SMS to %s: %s", mask_mobile(mobile), text)


class LocmemSmsBackend(BaseSmsBackend):
    """Tests: keeps messages in `core.sms.outbox`."""

    def send(self, mobile: str, text: str) -> None:
        outbox.append({"mobile": mobile, "text": text})


class HttpSmsBackend(BaseSmsBackend):
    """Production: POSTs JSON to the provider's gateway (SMS_PROVIDER_URL, SMS_PROVIDER_KEY)."""

    def send(self, mobile: str, text: str) -> None:
        if not settings.SMS_PROVIDER_URL:
            raise RuntimeError("SMS_PROVIDER_URL is not set")
        body = json.dumps({"mobile": mobile, "text": text}).encode()
        req = urllib.request.Request(  # noqa: S310 - the URL comes from settings
            settings.SMS_PROVIDER_URL,
            data=body,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {settings.SMS_PROVIDER_KEY}"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310
            if resp.status >= 300:
                raise RuntimeError(f"SMS provider answered {resp.status}")


def get_backend() -> BaseSmsBackend:
    return import_string(settings.SMS_BACKEND)()


def send_sms(mobile: str, text: str) -> None:
    if not MOBILE_RE.fullmatch(mobile):
        raise ValueError("not a mainland mobile number")
    get_backend().send(mobile, text)
