"""Content-Security-Policy (django-csp) and Permissions-Policy (django-permissions-policy) on every answer."""

import re

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _directives(resp) -> dict[str, list[str]]:
    header = resp["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.parametrize("path", ["/", "/m/login/", "/join/", "/privacy/", "/admin/login/", "/api/docs/"])
def test_every_page_forbids_scripts_from_elsewhere_inline_handlers_and_framing(tree, path):
    resp = Client().get(path)
    assert resp.status_code == 200
    csp = _directives(resp)
    assert csp["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]
    assert "camera=(self)" in resp["Permissions-Policy"]
    assert "geolocation=()" in resp["Permissions-Policy"] and "microphone=()" in resp["Permissions-Policy"]


def test_an_api_answer_carries_the_policy_too(tree):
    resp = Client().get("/api/v1/members/verify")
    assert resp.status_code == 401 and "Content-Security-Policy" in resp


def test_an_inline_chart_script_runs_by_the_requests_nonce(tree):
    from tests.factories import UserFactory

    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    resp = client.get(reverse("admin:hardship_report"))
    assert resp.status_code == 200
    nonce = re.search(r"'nonce-([^']+)'", resp["Content-Security-Policy"]).group(1)
    # Inline scripts, not JSON data islands (json_script), which the browser never runs.
    inline = re.findall(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))([^>]*)>", resp.content.decode())
    assert inline and all(f'nonce="{nonce}"' in attrs for attrs in inline)
    # Another request, another nonce.
    again = client.get(reverse("admin:hardship_report"))
    assert nonce not in again["Content-Security-Policy"]


def test_no_template_has_an_inline_event_handler_or_an_inline_script_without_a_nonce():
    """The CSP blocks both: a template that has one shows a page whose script does nothing."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    handler = re.compile(r"\son[a-z]+=[\"']", re.I)
    script = re.compile(r"<script(?![^>]*\b(src|nonce)=)[^>]*>", re.I)
    found = [
        str(p.relative_to(root))
        for p in root.rglob("*.html")
        if handler.search(p.read_text()) or script.search(p.read_text().replace('type="application/json"', "src="))
    ]
    assert found == []


def test_with_wechat_set_up_the_bind_form_may_lead_to_wechats_authorisation_page(monkeypatch):
    """The bind form's answer redirects to WeChat: Chromium checks that redirect against form-action."""
    import importlib

    import unionportal.settings as portal_settings

    monkeypatch.setenv("WECHAT_APP_ID", "wx-test")
    monkeypatch.setenv("WECHAT_APP_SECRET", "secret")
    try:
        reloaded = importlib.reload(portal_settings)
        assert reloaded.CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"] == [
            "'self'",
            "https://open.weixin.qq.com",
        ]
    finally:
        monkeypatch.delenv("WECHAT_APP_ID")
        importlib.reload(portal_settings)
