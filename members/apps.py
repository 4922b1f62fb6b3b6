from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Membership")

    def ready(self):
        from core.api_auth import register_scopes
        from members import auth  # noqa: F401 - connects the cache invalidation of workers' user rows
        from members.api import VERIFY_SCOPE

        register_scopes(VERIFY_SCOPE)
