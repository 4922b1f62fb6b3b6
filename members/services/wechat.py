"""A worker's WeChat identity (openid, from WeChat's web authorisation with snsapi_base), bound once
after an SMS login and used afterwards to sign in with one tap (members.wechat). WeChat alone never
creates a login: an openid is bound only to a worker who is already logged in."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from social_django.models import UserSocialAuth

from core.errors import ServiceError
from core.services import audit_log
from members.models import User
from members.selectors import WECHAT_PROVIDER


def wechat_bind(*, user: User, openid: str) -> UserSocialAuth:
    if not getattr(user, "is_authenticated", False) or user.is_staff or not user.mobile:
        raise ServiceError("login_first", _("Log in with an SMS code first, then bind WeChat."))
    existing = UserSocialAuth.objects.filter(provider=WECHAT_PROVIDER, uid=openid).first()
    if existing is not None:
        if existing.user_id == user.pk:
            return existing
        raise ServiceError("bound_elsewhere", _("This WeChat account is already bound to another login."))
    if UserSocialAuth.objects.filter(provider=WECHAT_PROVIDER, user=user).exists():
        raise ServiceError("already_bound", _("Your login already has a WeChat account bound. Unbind it first."))
    try:
        with transaction.atomic():
            social = UserSocialAuth.objects.create(user=user, provider=WECHAT_PROVIDER, uid=openid)
            # The openid is an identifier: the audit entry says only that one was bound.
            audit_log(action="members.wechat.bound", obj=user, actor=user)
    except IntegrityError:
        raise ServiceError("bound_elsewhere", _("This WeChat account is already bound to another login.")) from None
    return social


def wechat_unbind(*, user: User) -> int:
    with transaction.atomic():
        deleted, _rows = UserSocialAuth.objects.filter(provider=WECHAT_PROVIDER, user=user).delete()
        if deleted:
            audit_log(action="members.wechat.unbound", obj=user, actor=user)
    return deleted
