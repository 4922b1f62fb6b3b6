from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HardshipConfig(AppConfig):
    name = "hardship"
    verbose_name = _("Hardship assistance")

    def ready(self):
        # Imported here: the API modules import models, which cannot be loaded before the apps are.
        from core.api_auth import AGENCY, register_scopes
        from hardship.api.outbound import PUSH_SCOPE
        from hardship.api.referrals import REFERRALS_SCOPE
        from hardship.waiting import register as register_waiting

        register_scopes(PUSH_SCOPE, REFERRALS_SCOPE, holder=AGENCY)
        register_waiting()  # the cards of the admin's landing page
