"""The in-portal inbox of workers and staff, and the worker site's CSRF failure page."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponseForbidden
from django.middleware.csrf import REASON_NO_CSRF_COOKIE
from django.shortcuts import render
from django.template import loader
from django.utils.cache import add_never_cache_headers
from django.views.decorators.cache import never_cache

from core.selectors import inbox_notifications
from core.services import notifications_mark_read


@never_cache
@login_required
def inbox(request):
    """The newest notifications first; showing them marks them read."""
    notes = inbox_notifications(user=request.user)
    unread = [n.pk for n in notes if n.read_at is None]
    if unread:
        notifications_mark_read(user=request.user, ids=unread)
    return render(request, "core/inbox.html", {"tab": "inbox", "notes": notes})


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
