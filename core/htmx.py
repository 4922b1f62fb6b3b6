"""htmx requests that need a login are sent to the login page of the page the worker is on.

An htmx action (the voucher claim, a code request…) sent after the session ended gets the usual
redirect to the login page. htmx would follow it inside the page (the login page nested in the
campaign) and the login's `next` would be the htmx endpoint, so after logging in the worker would
land on a POST-only address: a blank 405. Here such a redirect becomes a 401 whose `HX-Redirect`
header sends the whole browser to the login page, with `next` the page the worker was on
(htmx's `HX-Current-URL`), so after login they come back to it.
"""

from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import resolve_url
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

_REDIRECTS = {301, 302, 303, 307, 308}


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-Boosted")


def _current_page(request) -> str:
    """The page the htmx request came from (path and query), if it is on this site; else home."""
    url = request.headers.get("HX-Current-URL", "")
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=False):
        parts = urlsplit(url)
        if parts.path.startswith("/"):
            return parts.path + (f"?{parts.query}" if parts.query else "")
    return "/"


class HtmxLoginRedirectMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code in _REDIRECTS and _is_htmx(request):
            login = resolve_url(settings.LOGIN_URL)
            if urlsplit(response.get("Location", "")).path == login:
                return self._to_login(request, login)
        return response

    def _to_login(self, request, login: str) -> HttpResponse:
        message = _("Your session has ended. Please log in again.")
        response = HttpResponse(
            format_html('<p data-htmx-message data-htmx-action="login">{}</p>', message), status=401
        )
        response["HX-Redirect"] = f"{login}?{urlencode({'next': _current_page(request)})}"
        add_never_cache_headers(response)
        return response
