from django.urls import path

from vouchers import api

urlpatterns = [
    # Merchants: redemptions and refunds.
    path("redemptions", api.RedemptionCreateView.as_view(), name="api-vouchers-redemptions"),
    path("redemptions/<int:pk>/refund", api.RedemptionRefundView.as_view(), name="api-vouchers-redemption-refund"),
    # Last: a voucher code (or a scanned QR token) is any other single path segment.
    path("<str:code>", api.VoucherCheckView.as_view(), name="api-vouchers-check"),
]
