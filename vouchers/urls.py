from django.urls import path  # noqa: F401 - routes are added below

app_name = "vouchers"

urlpatterns = []

# The worker's pages (vouchers/views.py).
from vouchers import views as _worker_views  # noqa: E402

urlpatterns += [
    path("", _worker_views.campaigns, name="campaigns"),
    path("<int:pk>/", _worker_views.campaign, name="campaign"),
    path("<int:pk>/claim/", _worker_views.claim, name="claim"),
    path("<int:pk>/register/", _worker_views.register, name="register"),
    path("mine/", _worker_views.mine, name="mine"),
    path("v/<str:code>/", _worker_views.voucher, name="voucher"),
]

# Benchmark only (bench/voucher_rush.py): a trivial view, the ceiling of the rush; off unless BENCH_VIEWS=1.
from django.conf import settings as _settings  # noqa: E402

if _settings.BENCH_VIEWS:
    from django.http import HttpResponse as _HttpResponse  # noqa: E402

    def _bench_ping(request):
        return _HttpResponse("ok", content_type="text/plain")

    urlpatterns += [path("bench/ping/", _bench_ping, name="bench-ping")]

# The merchant's phone page (vouchers/merchant_views.py).
from vouchers import merchant_views as _merchant_views  # noqa: E402

urlpatterns += [
    path("merchant/", _merchant_views.scan, name="merchant"),
    path("merchant/quote/", _merchant_views.quote, name="merchant-quote"),
    path("merchant/redeem/", _merchant_views.redeem, name="merchant-redeem"),
]
