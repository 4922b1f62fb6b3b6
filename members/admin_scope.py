"""What the shared admin building blocks (`core.admin_kit`) need to know of membership.

The staff scope rule lives in `members.selectors`; `MembersAdminHooks` hands it, the union tree
and the blind index of ID numbers to `core.admin_kit`, registered in `MembersConfig.ready`.
"""

from django.db.models import Q, QuerySet

from core.admin_kit import AdminHooks
from core.errors import ServiceError
from core.parsing import int_parse
from members import selectors
from members.models import Enterprise, Member, Station, Union, User


def visible_enterprises(user) -> QuerySet[Enterprise]:
    """Enterprises of the user's subtree, and those not yet assigned to any union."""
    prefix = selectors.scope_prefix(user)
    if prefix is None:
        return Enterprise.objects.none()
    if prefix == "":
        return Enterprise.objects.all()
    return Enterprise.objects.filter(Q(union__path__startswith=prefix) | Q(union__isnull=True))


def choices_for(model, user) -> QuerySet | None:
    """The rows a staff user may pick in a foreign key to `model`, or None for no restriction."""
    if model is Union:
        return selectors.unions_visible_to(user)
    if model is Station:
        return selectors.scoped(Station.objects.all(), user, "union")
    if model is Member:
        return selectors.members_visible_to(user)
    if model is Enterprise:
        return visible_enterprises(user)
    if model is User:
        return selectors.scoped(User.objects.filter(is_staff=True), user, "union")
    return None


class MembersAdminHooks(AdminHooks):
    def scope(self, qs, user, union_field):
        if union_field is None:  # the rows are unions
            prefix = selectors.scope_prefix(user)
            if prefix is None:
                return qs.none()
            return qs.filter(path__startswith=prefix) if prefix else qs
        return selectors.scoped(qs, user, union_field)

    def can_manage(self, user, union):
        return selectors.user_can_manage(user, union)

    def choices_for(self, model, user):
        return choices_for(model, user)

    def subtree_choices(self, user):
        # The staff member's own union and the level under it: a short list that renders fast
        # (city staff get the districts and counties); deeper unions are a search away.
        top = selectors.scope_prefix(user) or ""
        max_depth = top.count("/") + 1 if top else 2
        unions = (
            selectors.unions_visible_to(user)
            .exclude(kind__in=Union.MEMBER_KINDS)
            .only("id", "name", "path")
            .order_by("path")
        )
        return [(str(u.pk), "— " * (u.path.count("/") - 1) + u.name) for u in unions if u.path.count("/") <= max_depth]

    def is_city_level(self, user):
        return selectors.is_city_level(user)

    def in_subtree(self, qs, user, union_field, union_pk):
        try:
            union = selectors.unions_visible_to(user).filter(pk=int_parse(union_pk)).first()
        except ServiceError:  # not an id ("²", "abc"): no union
            union = None
        if union is None:
            return qs.none()
        return qs.filter(**{f"{union_field}__path__startswith": union.path})
