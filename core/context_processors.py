def portal(request):
    """Elder mode (长辈模式) is kept in a cookie so it holds before login too."""
    return {"elder_mode": request.COOKIES.get("elder") == "1"}
