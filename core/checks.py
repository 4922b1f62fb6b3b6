"""System checks of the portal's own settings (`manage.py check --deploy`)."""

from django.conf import settings
from django.core.checks import Error, Tags, register

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
    return []
