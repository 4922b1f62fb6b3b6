"""Staff act for their own union and the unions under it: the one check and the one refusal."""

from django.utils.translation import gettext as _

from core.errors import ErrorKind, ServiceError
from members.models import Union, User
from members.selectors import user_can_manage


def out_of_scope_message() -> str:
    """What staff are told when they act for a union outside their own subtree."""
    return _("You may only act for your own union and the unions under it.")


def out_of_scope() -> ServiceError:
    """The refusal of an act outside the actor's unions."""
    return ServiceError("forbidden", out_of_scope_message(), kind=ErrorKind.FORBIDDEN)


def require_scope(actor: User, union: Union) -> None:
    """Refuse (``forbidden``) unless `actor` may act for `union`."""
    if not user_can_manage(actor, union):
        raise out_of_scope()
