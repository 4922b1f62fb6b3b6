"""The printable QR poster of a union station (扫码入会)."""

import re
import xml.etree.ElementTree as ET

import pytest
from django.test import Client
from django.urls import reverse

from members import posters
from tests.factories import StationFactory

pytestmark = pytest.mark.django_db
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def client():
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def qr_path(url: str) -> str:
    """The drawing of the QR code of `url`, as it appears inside any of our SVGs."""
    return re.search(r'stroke="#000" d="([^"]+)"', posters.qr_svg(url)).group(1)


def test_the_poster_is_an_a5_svg_with_the_station_and_the_qr_code_of_its_join_link(client, tree):
    resp = client.get(reverse("members:station-poster", args=[tree.station.code]))
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("image/svg+xml")
    assert 'filename="station-wx-001.svg"' in resp["Content-Disposition"]
    root = ET.fromstring(resp.content)  # noqa: S314 - our own output
    assert root.tag == f"{SVG}svg" and root.get("width") == "148mm" and root.get("height") == "210mm"
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert tree.station.name in texts and tree.station.address in texts and "Scan to join the union" in texts
    assert qr_path("http://testserver/join/s/wx-001/") in resp.content.decode()


def test_the_poster_links_to_the_public_site_address_when_set(client, tree, settings):
    settings.SITE_URL = "https://portal.example.cn"
    content = client.get(reverse("members:station-poster", args=[tree.station.code])).content.decode()
    assert qr_path("https://portal.example.cn/join/s/wx-001/") in content
    assert qr_path("http://testserver/join/s/wx-001/") not in content


def test_the_poster_link_opens_the_join_form_of_that_station(client, tree):
    html = client.get("/join/s/wx-001/").content.decode()
    assert 'data-station="wx-001"' in html


def test_the_poster_escapes_names_and_wraps_a_long_address(client, tree):
    station = StationFactory(
        code="odd-1", name='A&B <"驿站">', union=tree.street, address="湖州市吴兴区织里镇" + "长安路" * 20 + "1号"
    )
    resp = client.get(reverse("members:station-poster", args=[station.code]))
    root = ET.fromstring(resp.content)  # noqa: S314 - our own output, well-formed despite the markup
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert 'A&B <"驿站">' in texts
    address_lines = [t for t in texts if t and "长安路" in t]
    assert len(address_lines) == 2 and address_lines[-1].endswith("…")


def test_an_unknown_or_closed_station_has_no_poster(client, tree):
    assert client.get(reverse("members:station-poster", args=["nope"])).status_code == 404
    closed = StationFactory(code="closed-2", union=tree.street, is_active=False)
    assert client.get(reverse("members:station-poster", args=[closed.code])).status_code == 404


def test_the_qr_svg_scales_to_its_box_and_has_a_light_background():
    svg = posters.qr_svg("https://portal.example.cn/x", title="t")
    assert svg.startswith('<svg role="img" viewBox=') and "width=" not in svg.split(">")[0]
    assert '<path fill="#fff"' in svg
