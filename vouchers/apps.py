from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VouchersConfig(AppConfig):
    name = "vouchers"
    verbose_name = _("Vouchers")

    def ready(self):
        from core.api_auth import register_key_check, register_scopes
        from vouchers import claims  # noqa: F401 - connects the campaign cache invalidation
        from vouchers.merchants import REDEEM_SCOPE
        from vouchers.selectors import merchant_key_usable

        register_scopes(REDEEM_SCOPE)
        register_key_check(merchant_key_usable)
