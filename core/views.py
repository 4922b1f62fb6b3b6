"""The in-portal inbox of workers and staff, a worker's own data ("我的数据"), and the worker site's CSRF
failure and lock-out pages."""

import json

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse, HttpResponseForbidden
from django.middleware.csrf import REASON_NO_CSRF_COOKIE
from django.shortcuts import render
from django.template import loader
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.mydata import mydata_export, mydata_sections
from core.selectors import inbox_notifications
from core.services import mydata_download_record, notifications_mark_read


@never_cache
@login_required
def inbox(request):
    """The newest notifications first; showing them marks them read."""
    notes = inbox_notifications(user=request.user)
    unread = [n.pk for n in notes if n.read_at is None]
    if unread:
        notifications_mark_read(user=request.user, ids=unread)
    return render(request, "core/inbox.html", {"tab": "inbox", "notes": notes})


@never_cache
@login_required
def mydata(request):
    """ "我的数据": what the portal holds on the logged-in worker, section by section (core.mydata)."""
    return render(request, "core/mydata.html", {"tab": "me", "sections": mydata_sections(request.user)})


@never_cache
@login_required
@require_GET
def mydata_download(request):
    """The worker's own data as JSON, ID number in full (it is theirs); the download is audited."""
    now = timezone.localtime()
    data = mydata_export(request.user, generated_at=now.isoformat())
    mydata_download_record(user=request.user, fmt="json")
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2, cls=DjangoJSONEncoder),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="mydata-{now:%Y%m%d}.json"'
    return response


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: the portal's "page expired" page (403), in the worker's language, never
    Django's technical page. The middleware has already logged the reason (django.security.csrf).

    Rendered without the request, as Django renders its own: no context processor, no database.
    Its message carries data-htmx-message, which js/htmx-errors.js shows when an htmx action is
    refused this way, with a button that reloads the page (and so its token)."""
    html = loader.get_template("403_csrf.html").render({"no_cookie": reason == REASON_NO_CSRF_COOKIE})
    response = HttpResponseForbidden(html)
    add_never_cache_headers(response)
    return response


def axes_lockout(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: django-axes locks staff password logins; its lock-out page depends on
    the path. Under the admin, the admin's page (AXES_LOCKOUT_TEMPLATE); anywhere else the worker
    site's own page (templates/locked_out.html), in its style, saying how long to wait: a worker
    never lands on "Django 管理" with a link to /admin/."""
    from axes.helpers import get_client_username, get_cool_off, get_failure_limit

    cool_off = get_cool_off(request)
    context = {
        "failure_limit": get_failure_limit(request, credentials),
        "username": get_client_username(request, credentials) or "",
        "cooloff_timedelta": cool_off,
    }
    if request.path_info.startswith(reverse("admin:index")):
        return render(request, settings.AXES_LOCKOUT_TEMPLATE, context, status=429)
    minutes = max(1, int(cool_off.total_seconds() + 59) // 60) if cool_off else 0
    message = (
        ngettext(
            "Too many failed logins. For your safety, logging in is paused for %(minutes)d minute.",
            "Too many failed logins. For your safety, logging in is paused for %(minutes)d minutes.",
            minutes,
        )
        % {"minutes": minutes}
        if minutes
        else _("Too many failed logins. For your safety, logging in is paused. Please ask your union.")
    )
    return render(request, "locked_out.html", {**context, "message": message}, status=429)
