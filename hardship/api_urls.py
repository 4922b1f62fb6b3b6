from django.urls import path

from hardship.api import outbound, pushes, referrals

urlpatterns = [
    path("referrals", referrals.ReferralListView.as_view(), name="api-hardship-referrals"),
    path("referrals/<int:pk>/outcome", referrals.ReferralOutcomeView.as_view(), name="api-hardship-referral-outcome"),
    path("outbound", outbound.OutboundListView.as_view(), name="api-hardship-outbound"),
    path("pushes", pushes.PushListCreateView.as_view(), name="api-hardship-pushes"),
    path("pushes/<int:pk>", pushes.PushDetailView.as_view(), name="api-hardship-push"),
]
