"""Phone pages in a real browser: nothing loaded from elsewhere, no sideways scrolling at 360 px,
and elder mode (长辈模式) meets its promises: text ≥ 18 px, targets ≥ 44 px, contrast ≥ 4.5:1."""

from urllib.parse import urlsplit

import pytest

from members import services
from tests.browser.helpers import page_width, shot, target_sizes, text_metrics, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ANONYMOUS_PAGES = ["/", "/m/login/", "/join/", "/join/s/wx-001/", "/privacy/", "/m/me/"]
MEMBER_PAGES = ["/", "/m/card/", "/m/inbox/", "/m/me/", "/m/transfer/", "/m/application/"]


def log_in(page, live_server, user):
    """Give the browser a session for `user` (the SMS login itself is tested in test_join_flow)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    host = urlsplit(live_server.url).hostname
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "domain": host, "path": "/"}]
    )


def member_pages(member):
    return MEMBER_PAGES + [f"/m/verify/{services.member_card_token(member)}/", "/m/verify/forged/"]


def test_pages_load_nothing_from_any_other_host(phone, live_server, member):
    host = urlsplit(live_server.url).netloc
    requests = []
    phone.on("request", lambda request: requests.append(request.url))
    for path in ANONYMOUS_PAGES:
        phone.goto(path)
    phone.goto("/m/login/")
    phone.fill("#id_mobile", "13800000077")
    phone.click("#code-btn")
    phone.wait_for_selector("#code-result .code-msg")
    log_in(phone, live_server, member.user)
    for path in member_pages(member):
        phone.goto(path)
    foreign = [u for u in requests if urlsplit(u).scheme != "data" and urlsplit(u).netloc != host]
    assert requests and not foreign
    assert any("/static/vendor/weui/weui.min.css" in u for u in requests)
    assert any("/static/vendor/htmx/htmx.min.js" in u for u in requests)
    assert any(u.endswith("/m/login/code/") for u in requests)  # the htmx call went to us too


@pytest.mark.parametrize("elder", [False, True], ids=["normal", "elder"])
def test_no_page_scrolls_sideways_at_360_px(new_phone, live_server, member, elder):
    page = new_phone(viewport={"width": 360, "height": 740})
    if elder:
        page.context.add_cookies([{"name": "elder", "value": "1", "url": live_server.url}])
    for path in ANONYMOUS_PAGES:
        page.goto(path)
        assert page_width(page) <= 360, path
    log_in(page, live_server, member.user)
    for path in member_pages(member):
        page.goto(path)
        assert page_width(page) <= 360, path


def test_elder_mode_makes_text_large_targets_tall_and_contrast_high(phone, live_server, member):
    phone.goto("/join/")
    phone.click("#elder-toggle")
    phone.wait_for_selector("body.elder")
    assert phone.locator("#elder-toggle").get_attribute("aria-pressed") == "true"
    shot(phone, "join-elder")
    checked = measured = 0
    for path in ANONYMOUS_PAGES + ["@member"] + member_pages(member):
        if path == "@member":
            log_in(phone, live_server, member.user)
            continue
        phone.goto(path)
        assert phone.locator("body.elder").count() == 1, path
        texts = text_metrics(phone)
        small = [t for t in texts if t["fontSize"] < 18]
        faint = [t for t in texts if t["contrast"] < 4.5]
        targets = target_sizes(phone)
        short = [t for t in targets if t["height"] < 44]
        assert not small, (path, small)
        assert not faint, (path, faint)
        assert not short, (path, short)
        checked += len(texts)
        measured += len(targets)
        if path == "/m/card/":
            shot(phone, "card-elder")
    assert checked > 100 and measured > 50
    # And back to normal.
    phone.click("#elder-toggle")
    phone.wait_for_selector("body:not(.elder)")


def test_normal_mode_text_also_has_enough_contrast(phone, live_server, member):
    for path in ANONYMOUS_PAGES:
        phone.goto(path)
        faint = [t for t in text_metrics(phone) if t["contrast"] < 4.5]
        assert not faint, (path, faint)
    log_in(phone, live_server, member.user)
    for path in member_pages(member):
        phone.goto(path)
        faint = [t for t in text_metrics(phone) if t["contrast"] < 4.5]
        assert not faint, (path, faint)
    shot(phone, "home-member")


def test_the_station_poster_renders_with_its_qr_code(phone, live_server, tree):
    response = phone.goto(f"/stations/{tree.station.code}/poster.svg")
    assert response.ok and response.headers["content-type"].startswith("image/svg+xml")
    assert phone.locator("svg svg path").count() >= 1
    # As printed: the poster as an image on a page of its own.
    phone.goto("/privacy/")
    phone.set_content(f'<img id="poster" src="/stations/{tree.station.code}/poster.svg" style="width:100%">')
    wait_until(phone, "document.getElementById('poster').naturalWidth > 0")
    shot(phone, "poster")
