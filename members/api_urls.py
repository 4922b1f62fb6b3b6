"""Mounted at /api/v1/members/ (see unionportal/urls.py)."""

from django.urls import path

from members import api

urlpatterns = [
    path("", api.MemberListView.as_view(), name="api-members-list"),
    path("verify", api.VerifyMemberView.as_view(), name="api-members-verify"),
    path("cards/verify", api.VerifyCardView.as_view(), name="api-members-cards-verify"),
    path("applications/", api.ApplicationListView.as_view(), name="api-members-applications"),
    path("applications/<int:pk>/approve", api.ApplicationApproveView.as_view(), name="api-members-application-approve"),
    path("applications/<int:pk>/reject", api.ApplicationRejectView.as_view(), name="api-members-application-reject"),
    # Last: a member number is any other single path segment.
    path("<str:member_no>", api.MemberDetailView.as_view(), name="api-members-detail"),
]
