"""What every worker page may show of vouchers: whether the login is a merchant's staff (the
home page then links to the redemption page). Read only when a template asks, so other pages
pay no query."""

from django.utils.functional import SimpleLazyObject

from vouchers import selectors


def merchant(request):
    user = getattr(request, "user", None)

    def find():
        if user is None or not user.is_authenticated or user.is_staff:
            return None
        return selectors.merchant_of_staff(user)

    return {"merchant_of_user": SimpleLazyObject(find)}
