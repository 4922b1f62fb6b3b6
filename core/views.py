"""The in-portal inbox of workers and staff, and a worker's own data ("我的数据")."""

import json

from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
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
