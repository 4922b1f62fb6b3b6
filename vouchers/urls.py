from django.conf import settings
from django.http import HttpResponse
from django.urls import path

from vouchers import merchant_views
from vouchers import views as worker_views

app_name = "vouchers"

urlpatterns = []

# The worker's pages (vouchers/views.py).
urlpatterns += [
    path("", worker_views.campaigns, name="campaigns"),
    path("<int:pk>/", worker_views.campaign, name="campaign"),
    path("<int:pk>/claim/", worker_views.claim, name="claim"),
    path("<int:pk>/register/", worker_views.register, name="register"),
    path("mine/", worker_views.mine, name="mine"),
    path("v/<str:code>/", worker_views.voucher, name="voucher"),
]

# Benchmark only (bench/voucher_rush.py): a trivial view, the ceiling of the rush; off unless BENCH_VIEWS=1.
if settings.BENCH_VIEWS:

    def _bench_ping(request):
        return HttpResponse("ok", content_type="text/plain")

    urlpatterns += [path("bench/ping/", _bench_ping, name="bench-ping")]

# The merchant's phone page (vouchers/merchant_views.py).
urlpatterns += [
    path("merchant/", merchant_views.scan, name="merchant"),
    path("merchant/quote/", merchant_views.quote, name="merchant-quote"),
    path("merchant/redeem/", merchant_views.redeem, name="merchant-redeem"),
]
