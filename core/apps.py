from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Portal services")

    def ready(self):
        # Inside ready(): the checks read the settings and models once the registry is loaded.
        from core import (
            checks,  # noqa: F401 - registers the system checks
            staff_sessions,  # noqa: F401 - stamps staff sessions at login
            waiting,
        )

        waiting.register()  # the unread notifications card of the admin's landing page
