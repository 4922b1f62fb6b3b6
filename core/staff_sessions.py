"""Staff sessions end after STAFF_SESSION_IDLE_SECONDS without a request (30 minutes) and, however
busy, STAFF_SESSION_MAX_SECONDS after the password was given (12 hours): OWASP ASVS 4.0 level 2,
V3.3.2. An admin session left open on a shared office computer reaches every member of the union's
subtree; workers' sessions on their own phones last 30 days (SESSION_COOKIE_AGE).

The login stamps the session (`user_logged_in`); `StaffSessionTimeoutMiddleware` checks the stamps
on each request of a stamped session only, so a worker's request costs nothing more. The idle
clock is written at most once a minute (`TOUCH_SECONDS`), not on every request.
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

LOGIN_AT = "staff_login_at"
SEEN_AT = "staff_seen_at"
TOUCH_SECONDS = 60
# The stored session outlives the idle limit by this much, so that the middleware, not the session
# store, ends it and can say why.
GRACE_SECONDS = 600


def _expiry() -> int:
    return settings.STAFF_SESSION_IDLE_SECONDS + GRACE_SECONDS


@receiver(user_logged_in)
def _staff_session_stamp(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session") or not (user.is_staff or user.is_superuser):
        return
    now = int(time.time())
    request.session[LOGIN_AT] = now
    request.session[SEEN_AT] = now
    request.session.set_expiry(_expiry())


def staff_session_ended(session, now: float) -> str:
    """'' while the staff session is live; else why it ended: 'idle' or 'max'."""
    login_at = session.get(LOGIN_AT)
    if login_at is None:
        return ""
    if now - login_at >= settings.STAFF_SESSION_MAX_SECONDS:
        return "max"
    if now - session.get(SEEN_AT, login_at) >= settings.STAFF_SESSION_IDLE_SECONDS:
        return "idle"
    return ""


class StaffSessionTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and LOGIN_AT in session:
            now = time.time()
            ended = staff_session_ended(session, now)
            if ended:
                logout(request)  # flushes the session: a new, empty one
                messages.warning(
                    request,
                    _("You were signed out after 30 minutes without activity. Please sign in again.")
                    if ended == "idle"
                    else _("You were signed out: a staff session lasts at most 12 hours. Please sign in again."),
                )
                login = reverse("admin:login")
                return HttpResponseRedirect(f"{login}?{urlencode({'next': request.get_full_path()})}")
            if now - session.get(SEEN_AT, 0) >= TOUCH_SECONDS:
                session[SEEN_AT] = int(now)
                # The cookie and the stored expiry move with the activity.
                session.set_expiry(_expiry())
        return self.get_response(request)
