from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("Membership")

    def ready(self):
        # Inside ready(): these modules import models, which load only once the registry is ready.
        from core.admin_kit import admin_hooks_register
        from core.api_auth import AGENCY, register_scopes
        from members import auth  # noqa: F401 - connects the cache invalidation of workers' user rows
        from members.admin_scope import MembersAdminHooks
        from members.api import VERIFY_SCOPE
        from members.waiting import register as register_waiting

        # The shared admin pieces of core read the union scope and the ID number index from here.
        admin_hooks_register(MembersAdminHooks())
        register_scopes(VERIFY_SCOPE, holder=AGENCY)
        register_waiting()  # the cards of the admin's landing page
