from django.urls import path  # noqa: F401 - routes are added below

from hardship import api_outbound, api_pushes, api_referrals  # noqa: E402

urlpatterns = [
    path("referrals", api_referrals.ReferralListView.as_view(), name="api-hardship-referrals"),
    path(
        "referrals/<int:pk>/outcome", api_referrals.ReferralOutcomeView.as_view(), name="api-hardship-referral-outcome"
    ),
    path("outbound", api_outbound.OutboundListView.as_view(), name="api-hardship-outbound"),
    path("pushes", api_pushes.PushListCreateView.as_view(), name="api-hardship-pushes"),
    path("pushes/<int:pk>", api_pushes.PushDetailView.as_view(), name="api-hardship-push"),
]
