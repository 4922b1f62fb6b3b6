from django.urls import path

from members import api

urlpatterns = [
    path("verify", api.VerifyMemberView.as_view(), name="api-members-verify"),
]
