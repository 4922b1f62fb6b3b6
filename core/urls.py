from django.urls import path

from core import views

app_name = "core"

urlpatterns = [
    path("m/inbox/", views.inbox, name="inbox"),
    path("m/mydata/", views.mydata, name="mydata"),
    path("m/mydata/download.json", views.mydata_download, name="mydata-download"),
]
