from django.urls import path

from members import views

app_name = "members"

urlpatterns = [
    path("", views.home, name="home"),
    path("m/login/", views.login_view, name="login"),
    path("m/login/code/", views.login_code, name="login-code"),
    path("m/logout/", views.logout_view, name="logout"),
    path("m/elder/", views.elder_mode, name="elder-mode"),
    path("m/me/", views.me, name="me"),
    path("join/", views.join, name="join"),
    path("join/s/<slug:station_code>/", views.join, name="station-join"),
    path("join/unions/", views.union_options, name="union-options"),
    path("m/application/", views.application, name="application"),
    path("m/card/", views.card, name="card"),
    path("m/verify/<str:token>/", views.card_verify, name="card-verify"),
    path("m/transfer/", views.transfer, name="transfer"),
    path("m/consents/", views.consents, name="consents"),
    path("m/correction/", views.correction, name="correction"),
    path("m/wechat/login/", views.wechat_login, name="wechat-login"),
    path("m/wechat/bind/", views.wechat_bind, name="wechat-bind"),
    path("m/wechat/complete/", views.wechat_complete, name="wechat-complete"),
    path("m/wechat/unbind/", views.wechat_unbind, name="wechat-unbind"),
    path("privacy/", views.privacy, name="privacy"),
    path("stations/<slug:code>/poster.svg", views.station_poster, name="station-poster"),
]
