"""The client address behind the proxies (core.ratelimit.client_ip): rate limits and axes use it."""

import pytest
from django.test import RequestFactory

from core.ratelimit import client_ip


def request(forwarded=None, remote="10.0.0.2"):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_proxies_it_ignores_a_forwarded_header_the_client_may_have_sent(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request("203.0.113.9")) == "10.0.0.2"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "1.2.3.4, 203.0.113.9", "203.0.113.9"),  # the left entry was sent by the client
        (2, "1.2.3.4, 203.0.113.9, 10.0.0.1", "203.0.113.9"),
        (1, " 2001:db8::1 ", "2001:db8::1"),
    ],
)
def test_behind_proxies_it_takes_the_entry_the_outermost_trusted_proxy_appended(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    assert client_ip(request(forwarded)) == expected


@pytest.mark.parametrize("forwarded", [None, "", "not-an-address", "1.2.3.4, evil"])
def test_a_missing_or_malformed_entry_falls_back_to_the_peer_address(settings, forwarded):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request(forwarded)) == "10.0.0.2"


def test_axes_counts_failures_by_the_same_address(settings):
    from axes.helpers import get_client_ip_address

    settings.TRUSTED_PROXY_COUNT = 1
    assert get_client_ip_address(request("1.2.3.4, 203.0.113.9")) == "203.0.113.9"
