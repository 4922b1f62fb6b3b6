from functools import cache

from core.selectors import inbox_unread_count


def portal(request):
    """Elder mode (长辈模式) is kept in a cookie so it holds before login too.

    `inbox_unread` (the inbox tab's badge) is counted only when a page shows the tab bar and only
    for a signed-in user: one COUNT query, none for visitors or fragments."""

    @cache
    def inbox_unread() -> int:
        user = getattr(request, "user", None)
        return inbox_unread_count(user=user) if user is not None and user.is_authenticated else 0

    return {"elder_mode": request.COOKIES.get("elder") == "1", "inbox_unread": inbox_unread}
