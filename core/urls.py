from django.urls import path

from core import views

app_name = "core"

urlpatterns = [
    path("m/inbox/", views.inbox, name="inbox"),
]
