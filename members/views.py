from django.http import HttpResponse


def home(request):
    return HttpResponse("home")


def login_view(request):
    return HttpResponse("login")
