"""Staff pages of the hardship app, mounted at /hardship/ (see unionportal/urls.py)."""

from django.urls import path

from hardship import views

app_name = "hardship"

urlpatterns = [
    path("documents/<int:pk>/", views.document, name="document"),
]
