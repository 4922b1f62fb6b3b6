"""Answers that carry personal data are never stored by a browser or a proxy.

`Cache-Control: no-store` (with Django's other never-cache headers) on every API answer, and on
every page whose view read a signed-in session: the member's own pages, the merchant's, the admin.
A shared WeChat phone, a browser's back button after logging out, or a caching proxy in between
must not keep an e-card, an ID number or a case. A view that set its own Cache-Control keeps it;
public pages that never read the session (the privacy policy, a station poster) stay cacheable.
"""

from django.utils.cache import add_never_cache_headers

API_PREFIX = "/api/"


def carries_personal_data(request) -> bool:
    if request.path.startswith(API_PREFIX):
        return True
    session = getattr(request, "session", None)
    # `accessed`: the view (or a middleware) read the session, so the page may depend on who it is.
    return session is not None and session.accessed and "_auth_user_id" in session


class NoStoreMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Cache-Control" not in response and carries_personal_data(request):
            add_never_cache_headers(response)
        return response
