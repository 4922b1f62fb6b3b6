"""Workers log in with their mobile number and a one-time SMS code."""

from members.models import User
from members.services import sms_code_check, worker_user_for_mobile


class SmsCodeBackend:
    def authenticate(self, request, mobile=None, sms_code=None, **kwargs):
        if not mobile or not sms_code:
            return None
        if not sms_code_check(mobile=mobile, code=sms_code):
            return None
        user = worker_user_for_mobile(mobile)
        return user if user.is_active else None

    def get_user(self, user_id):
        return User.objects.filter(pk=user_id).first()
