"""WeChat one-tap login (members.wechat) against a local stand-in of WeChat's documented endpoints:
open.weixin.qq.com/connect/oauth2/authorize (the browser is sent there) and
api.weixin.qq.com/sns/oauth2/access_token (the server asks it for the openid)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from social_django.models import UserSocialAuth

from core.models import AuditEntry

pytestmark = pytest.mark.django_db

WECHAT_UA = (
    "Mozilla/5.0 (Linux; Android 13; V2148A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0 "
    "Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MicroMessenger/8.0.47.2560(0x28002F35) WeChat/arm64"
)


class _WechatStandIn(BaseHTTPRequestHandler):
    """sns/oauth2/access_token: code "ok-<openid>" answers the token and openid; any other code an
    errcode answer, as WeChat does (HTTP 200, JSON with errcode and errmsg)."""

    calls: list[dict] = []

    def do_GET(self):
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        type(self).calls.append({"path": url.path, **query})
        if url.path != "/sns/oauth2/access_token":
            self.send_response(404)
            self.end_headers()
            return
        code = query.get("code", "")
        if query.get("appid") != "wx-test-app" or query.get("secret") != "wx-test-secret":
            body = {"errcode": 40125, "errmsg": "invalid appsecret"}
        elif code.startswith("ok-"):
            body = {
                "access_token": "ACCESS",
                "expires_in": 7200,
                "refresh_token": "REFRESH",
                "openid": code[3:],
                "scope": "snsapi_base",
            }
        else:
            body = {"errcode": 40029, "errmsg": "invalid code"}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")  # as WeChat answers
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def stand_in():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _WechatStandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _WechatStandIn.calls = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def wechat_on(settings, stand_in):
    settings.WECHAT_APP_ID = "wx-test-app"
    settings.WECHAT_APP_SECRET = "wx-test-secret"
    settings.WECHAT_AUTHORIZE_URL = f"{stand_in}/connect/oauth2/authorize"
    settings.WECHAT_ACCESS_TOKEN_URL = f"{stand_in}/sns/oauth2/access_token"
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, "members.wechat.WechatOAuth2"]
    return stand_in


def _to_wechat(response, stand_in) -> dict:
    """The redirect to WeChat's authorisation page, checked, as its query."""
    assert response.status_code == 302
    url = urlsplit(response["Location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{stand_in}/connect/oauth2/authorize"
    assert url.fragment == "wechat_redirect"
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert query["appid"] == "wx-test-app" and query["scope"] == "snsapi_base" and query["response_type"] == "code"
    assert query["redirect_uri"].endswith(reverse("members:wechat-complete"))
    return query


def _back_from_wechat(client, query, code):
    return client.get(
        reverse("members:wechat-complete"), {"code": code, "state": query["state"]}, HTTP_USER_AGENT=WECHAT_UA
    )


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _bind(client, member, stand_in, openid="o-member-1"):
    client.force_login(member.user)
    page = client.get(reverse("members:me"), HTTP_USER_AGENT=WECHAT_UA).content.decode()
    assert 'id="wechat-bind"' in page
    query = _to_wechat(client.post(reverse("members:wechat-bind"), HTTP_USER_AGENT=WECHAT_UA), stand_in)
    return _back_from_wechat(client, query, f"ok-{openid}")


def test_it_binds_after_an_sms_login_and_then_signs_in_with_one_tap(client, member, wechat_on):
    response = _bind(client, member, wechat_on)
    assert response.status_code == 302 and response["Location"] == reverse("members:me")
    social = UserSocialAuth.objects.get(provider="wechat")
    assert (social.user, social.uid) == (member.user, "o-member-1")
    assert AuditEntry.objects.filter(action="members.wechat.bound", object_id=str(member.user.pk)).exists()
    assert 'id="wechat-unbind"' in client.get(reverse("members:me"), HTTP_USER_AGENT=WECHAT_UA).content.decode()

    worker = Client()
    login_page = worker.get(reverse("members:login"), HTTP_USER_AGENT=WECHAT_UA).content.decode()
    assert 'id="wechat-login"' in login_page
    query = _to_wechat(worker.get(reverse("members:wechat-login"), HTTP_USER_AGENT=WECHAT_UA), wechat_on)
    response = _back_from_wechat(worker, query, "ok-o-member-1")
    assert response.status_code == 302 and response["Location"] == reverse("members:home")
    assert worker.get(reverse("core:mydata")).context["user"] == member.user
    token_call = _WechatStandIn.calls[-1]
    assert token_call["grant_type"] == "authorization_code" and token_call["code"] == "ok-o-member-1"


def test_it_refuses_an_openid_no_worker_has_bound(member, wechat_on):
    worker = Client()
    query = _to_wechat(worker.get(reverse("members:wechat-login"), HTTP_USER_AGENT=WECHAT_UA), wechat_on)
    response = _back_from_wechat(worker, query, "ok-o-stranger")
    assert response.status_code == 302 and response["Location"] == reverse("members:login")
    assert any("请先用短信验证码登录" in m for m in _messages(response))
    assert "_auth_user_id" not in worker.session
    assert not UserSocialAuth.objects.exists()
    from members.models import User

    assert User.objects.count() == 1  # WeChat alone created no login


def test_it_turns_a_wechat_errcode_into_a_chinese_message(client, member, wechat_on):
    worker = Client()
    query = _to_wechat(worker.get(reverse("members:wechat-login"), HTTP_USER_AGENT=WECHAT_UA), wechat_on)
    response = _back_from_wechat(worker, query, "expired-code")
    assert response.status_code == 302
    messages = _messages(response)
    assert any("40029" in m and "微信" in m for m in messages), messages
    assert "_auth_user_id" not in worker.session


def test_it_refuses_a_return_without_the_state_it_sent(member, wechat_on):
    worker = Client()
    worker.get(reverse("members:wechat-login"), HTTP_USER_AGENT=WECHAT_UA)
    response = worker.get(reverse("members:wechat-complete"), {"code": "ok-o-member-1", "state": "forged"})
    assert response.status_code == 302
    assert "_auth_user_id" not in worker.session


def test_it_refuses_to_bind_an_openid_bound_to_another_worker(client, member, other_member, wechat_on):
    _bind(client, member, wechat_on, openid="o-shared")
    other = Client()
    response = _bind(other, other_member, wechat_on, openid="o-shared")
    assert response["Location"] == reverse("members:me")
    assert UserSocialAuth.objects.get(uid="o-shared").user == member.user
    assert any("另一个" in m or "another" in m for m in _messages(response))


def test_it_unbinds_from_the_me_page(client, member, wechat_on):
    _bind(client, member, wechat_on)
    response = client.post(reverse("members:wechat-unbind"))
    assert response.status_code == 302
    assert not UserSocialAuth.objects.exists()
    assert AuditEntry.objects.filter(action="members.wechat.unbound").exists()
    worker = Client()
    query = _to_wechat(worker.get(reverse("members:wechat-login"), HTTP_USER_AGENT=WECHAT_UA), wechat_on)
    _back_from_wechat(worker, query, "ok-o-member-1")
    assert "_auth_user_id" not in worker.session


def test_it_shows_no_button_outside_wechat(client, member, wechat_on):
    client.force_login(member.user)
    assert 'id="wechat-bind"' not in client.get(reverse("members:me")).content.decode()
    assert 'id="wechat-login"' not in Client().get(reverse("members:login")).content.decode()


def test_without_the_settings_nothing_changes(client, member, settings):
    settings.WECHAT_APP_ID = settings.WECHAT_APP_SECRET = ""
    assert 'id="wechat-login"' not in Client().get(reverse("members:login"), HTTP_USER_AGENT=WECHAT_UA).content.decode()
    assert Client().get(reverse("members:wechat-login"), HTTP_USER_AGENT=WECHAT_UA).status_code == 404
    assert Client().get(reverse("members:wechat-complete"), {"code": "ok-x", "state": "s"}).status_code == 404
    client.force_login(member.user)
    assert 'id="wechat-bind"' not in client.get(reverse("members:me"), HTTP_USER_AGENT=WECHAT_UA).content.decode()
    assert client.post(reverse("members:wechat-bind")).status_code == 404
    assert not UserSocialAuth.objects.exists()


def test_no_staff_page_lists_workers_wechat_identities(admin_client):
    from django.contrib import admin

    assert not admin.site.is_registered(UserSocialAuth)
    assert admin_client.get("/admin/social_django/usersocialauth/").status_code == 404
