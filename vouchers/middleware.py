"""The rush's turned-away claims, answered ahead of the session, locale and CSRF middleware.

On union benefit day most claims arrive after the campaign is sold out. Once this process knows
it (``vouchers.services.sold_out_flag``: its memo of the flag, no round trip), a claim's answer is the
same for everyone and changes nothing, so nothing needs to run for it: no session or user is read,
no CSRF token checked (there is no state to protect; the answer says only what the campaign page
shows). Everything else goes on down the stack. Place it after SecurityMiddleware and WhiteNoise.
"""

import re
from functools import cache

from django.http import HttpResponse
from django.urls import reverse
from django.utils import translation
from django.utils.cache import add_never_cache_headers, patch_vary_headers

from vouchers.services import sold_out_flag
from vouchers.views import sold_out_fragment


@cache
def _claim_path() -> re.Pattern:
    sample = reverse("vouchers:claim", kwargs={"pk": 987654321})
    # [0-9] as the URL's own converter (\d also takes "٣", which int() reads as 3), at most 18 of
    # them (int() refuses a text of over 4,300 digits).
    return re.compile(re.escape(sample).replace("987654321", r"([0-9]{1,18})"))


class SoldOutClaimMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST":
            match = _claim_path().fullmatch(request.path_info)
            if match and sold_out_flag(int(match[1])):
                return self._sold_out(request)
        return self.get_response(request)

    def _sold_out(self, request) -> HttpResponse:
        language = translation.get_language_from_request(request)
        with translation.override(language):
            response = HttpResponse(sold_out_fragment(language))
        # What the middleware below and the view's decorators would have added.
        add_never_cache_headers(response)
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        response.headers.setdefault("Content-Language", language)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers["Content-Length"] = str(len(response.content))  # as CommonMiddleware would
        return response
