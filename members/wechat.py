"""WeChat web authorisation (网页授权, scope snsapi_base) for workers inside WeChat's browser, on
social-auth-app-django's Weixin backend.

Used only when settings.WECHAT_APP_ID and WECHAT_APP_SECRET are both set (`wechat_enabled`); the
endpoints are settings too (WECHAT_AUTHORIZE_URL, WECHAT_ACCESS_TOKEN_URL), so tests point them at a
local stand-in. snsapi_base gives the openid alone, silently: no profile is asked for or kept.

The pipeline (settings.SOCIAL_AUTH_PIPELINE) ends in `bind_or_sign_in`: with the intent "bind" a
logged-in worker's login gets the openid (members.services.wechat_bind); with "login" a bound
openid signs its worker in, and an unknown one is refused. WeChat alone never creates a user.
"""

from django.conf import settings
from django.utils.translation import gettext as _
from social_core.backends.oauth import BaseOAuth2
from social_core.backends.weixin import WeixinOAuth2APP
from social_core.exceptions import AuthException
from social_django.models import UserSocialAuth

from core.errors import ServiceError
from members.selectors import WECHAT_PROVIDER
from members.services.wechat import wechat_bind

INTENT_KEY = "wechat_intent"


def wechat_enabled() -> bool:
    return bool(settings.WECHAT_APP_ID and settings.WECHAT_APP_SECRET)


def in_wechat(request) -> bool:
    """True in WeChat's in-app browser (its user agent says MicroMessenger)."""
    return "MicroMessenger" in request.headers.get("User-Agent", "")


class WechatRefused(AuthException):
    """A refusal with a message for the worker."""

    def __init__(self, backend, message: str, code: str):
        super().__init__(backend, message)
        self.message, self.code = message, code


class WechatOAuth2(WeixinOAuth2APP):
    name = WECHAT_PROVIDER
    DEFAULT_SCOPE = ["snsapi_base"]
    ACCESS_TOKEN_METHOD = "GET"  # noqa: S105 - not a secret: sns/oauth2/access_token takes a query
    EXTRA_DATA = []  # nothing but the openid is kept

    def get_key_and_secret(self):
        return settings.WECHAT_APP_ID, settings.WECHAT_APP_SECRET

    def authorization_url(self) -> str:
        return settings.WECHAT_AUTHORIZE_URL

    def access_token_url(self) -> str:
        return settings.WECHAT_ACCESS_TOKEN_URL

    # The generic OAuth2 completion: it calls access_token_url() and puts the parameters in the
    # query for GET (Weixin's own sends them as a body to a fixed URL); errcode answers are raised
    # by WeixinOAuth2.process_error.
    auth_complete = BaseOAuth2.auth_complete

    def user_data(self, access_token, *args, **kwargs):
        return {}  # snsapi_base: the token answer's openid is all there is

    def get_user_details(self, response):
        return {}


def bind_or_sign_in(backend, uid, user=None, *args, **kwargs):
    """The last step of the pipeline: bind for a logged-in worker, or sign a bound worker in."""
    intent = backend.strategy.session_get(INTENT_KEY)
    if intent == "bind":
        if user is None or not user.is_authenticated:
            raise WechatRefused(backend, _("Log in with an SMS code first, then bind WeChat."), "login_first")
        try:
            social = wechat_bind(user=user, openid=uid)
        except ServiceError as exc:
            raise WechatRefused(backend, exc.message, exc.code) from None
        return {"user": user, "social": social, "is_new": False}
    social = UserSocialAuth.objects.select_related("user").filter(provider=WECHAT_PROVIDER, uid=uid).first()
    if social is None or not social.user.is_active or social.user.is_staff:
        raise WechatRefused(backend, _("Log in with an SMS code first, then bind WeChat under Me."), "not_bound")
    return {"user": social.user, "social": social, "is_new": False}
