"""Workers log in with their mobile number and a one-time SMS code.

A worker's session reads their user row on every request; on the voucher rush that is one query
per claim among tens of thousands. Workers' user rows are therefore cached (``WORKER_USER_TTL``)
and dropped from the cache whenever the row is saved or deleted (a password or ``is_active``
change takes effect at once: the session's hash is checked against the fresh row). Staff users
are never cached, and their sessions are shorter (core.staff_sessions).
"""

from django.core.cache import cache
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from core.cache import drop_now_and_on_commit
from members.models import User
from members.services import sms_code_check, worker_user_for_mobile
from members.validators import normalize_mobile

WORKER_USER_TTL = 300  # seconds


def _cache_key(user_id) -> str:
    return f"auth:worker:{user_id}"


class SmsCodeBackend:
    """Workers only: staff and superusers sign in with their password (counted by axes), never with
    an SMS code alone, which would give the admin one factor open to SIM swaps."""

    def authenticate(self, request, mobile=None, sms_code=None, **kwargs):
        if not mobile or not sms_code:
            return None
        mobile = normalize_mobile(mobile)
        if User.objects.filter(mobile=mobile).filter(Q(is_staff=True) | Q(is_superuser=True)).exists():
            return None
        if not sms_code_check(mobile=mobile, code=sms_code):
            return None
        user = worker_user_for_mobile(mobile)
        return user if user.is_active and not (user.is_staff or user.is_superuser) else None

    def get_user(self, user_id):
        user = cache.get(_cache_key(user_id))
        if user is None:
            user = User.objects.filter(pk=user_id).first()
            if user is not None and not (user.is_staff or user.is_superuser):
                cache.set(_cache_key(user_id), user, WORKER_USER_TTL)
        return user if user is not None and user.is_active else None


@receiver(post_save, sender=User)
@receiver(post_delete, sender=User)
def _user_changed(sender, instance, **kwargs):
    key = _cache_key(instance.pk)
    drop_now_and_on_commit(lambda: cache.delete(key))
