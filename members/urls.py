from django.urls import path

from members import views

app_name = "members"

urlpatterns = [
    path("", views.home, name="home"),
    path("m/login/", views.login_view, name="login"),
]
