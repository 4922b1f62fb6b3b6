"""The in-portal inbox of workers and staff."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
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
