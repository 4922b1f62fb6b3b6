from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VouchersConfig(AppConfig):
    name = "vouchers"
    verbose_name = _("Vouchers")

    def ready(self):
        # Inside ready(): the models these modules import are loaded only once the registry is.
        from core.api_auth import register_holder, register_key_check, register_scopes
        from vouchers.selectors import merchant_key_usable, merchant_of_key
        from vouchers.services import (
            MERCHANT_HOLDER,
            REDEEM_SCOPE,
            claim_facts,  # noqa: F401 - connects the campaign cache invalidation
        )
        from vouchers.waiting import register as register_waiting

        register_holder(MERCHANT_HOLDER, label=_("merchant"), find=lambda key: merchant_of_key(key) is not None)
        register_scopes(REDEEM_SCOPE, holder=MERCHANT_HOLDER)
        register_key_check(merchant_key_usable)
        register_waiting()  # the cards of the admin's landing page
