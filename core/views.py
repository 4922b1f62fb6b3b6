"""The in-portal inbox of workers and staff."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from core.models import Notification
from core.services import notifications_mark_read

INBOX_SIZE = 50


@never_cache
@login_required
def inbox(request):
    """The newest notifications first; showing them marks them read."""
    notes = list(Notification.objects.filter(recipient=request.user).order_by("-created_at", "-id")[:INBOX_SIZE])
    unread = [n.pk for n in notes if n.read_at is None]
    if unread:
        notifications_mark_read(user=request.user, ids=unread)
    return render(request, "core/inbox.html", {"tab": "inbox", "notes": notes})
