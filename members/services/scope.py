"""Staff act for their own union and the unions under it: the one check and the one refusal.

Two rules more sit here, once for every door:

- what applies to the whole city (the screening rules, the monthly cycle, the settings rows,
  campaigns and merchants) is changed by city-level staff only (`require_city_level`;
  `members.selectors.is_city_level`; the admin's `core.admin_kit.CityWideSettingsMixin`);
- what a union is (its kind, under which union it sits) is changed only by staff whose own union
  lies strictly above it, and the kind fits the tree (`union_kind_check`): a union is always of a
  lower level than its parent and of a higher level than its children, and there is one city
  federation, the root. Staff never change their own union's kind.
"""

from django.utils.translation import gettext as _

from core.errors import ErrorKind, ServiceError
from members.models import Union, User
from members.selectors import is_city_level, user_can_manage, user_covers_strictly

# The level of each kind in the tree: city → district/county → industry/street → grassroots/joint.
KIND_LEVELS = {
    Union.Kind.CITY: 0,
    Union.Kind.DISTRICT: 1,
    Union.Kind.INDUSTRY: 2,
    Union.Kind.STREET: 2,
    Union.Kind.GRASSROOTS: 3,
    Union.Kind.JOINT: 3,
}


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


def city_level_only_message() -> str:
    return _("Only staff of the city federation may change what applies to the whole city.")


def require_city_level(actor) -> None:
    """Refuse (``city_level_only``) unless `actor` is city-level staff (or a superuser)."""
    if not is_city_level(actor):
        raise ServiceError("city_level_only", city_level_only_message(), kind=ErrorKind.FORBIDDEN)


def union_kind_check(*, actor, union: Union, kind: str, parent: Union | None) -> None:
    """Refuse a union of `kind` under `parent` that does not fit the tree or the actor's scope.

    `union` is the union being created (no primary key yet) or changed. A refusal names its field
    (`details["field"]`) for a form to show it there."""
    if kind not in KIND_LEVELS:
        raise ServiceError("bad_kind", _("Choose a kind of union."), field="kind")
    creating = union.pk is None
    if creating:
        if parent is None:
            if not getattr(actor, "is_superuser", False):
                raise ServiceError("parent_required", _("Choose the union the new union sits under."), field="parent")
        elif not user_can_manage(actor, parent):
            raise ServiceError("forbidden", out_of_scope_message(), kind=ErrorKind.FORBIDDEN, field="parent")
    else:
        before = Union.objects.only("kind", "parent_id").get(pk=union.pk)
        moved = (parent.pk if parent else None) != before.parent_id
        if (kind != before.kind or moved) and not user_covers_strictly(actor, union):
            raise ServiceError(
                "union_kind_forbidden",
                _("Only staff of a union above this one may change its kind or where it sits."),
                kind=ErrorKind.FORBIDDEN,
                field="kind",
            )
    level = KIND_LEVELS[kind]
    if parent is not None and level <= KIND_LEVELS.get(parent.kind, 0):
        raise ServiceError(
            "kind_above_parent",
            _("A union must be of a lower level than the union it sits under (%(parent)s).")
            % {"parent": parent.get_kind_display()},
            field="kind",
        )
    if kind == Union.Kind.CITY:
        if parent is not None:
            raise ServiceError("city_is_root", _("The city federation sits under no other union."), field="kind")
        if Union.objects.filter(kind=Union.Kind.CITY).exclude(pk=union.pk).exists():
            raise ServiceError("one_city", _("There is already a city federation."), field="kind")
    if not creating:
        below = Union.objects.filter(parent_id=union.pk).values_list("kind", flat=True).distinct()
        if any(KIND_LEVELS.get(child, 99) <= level for child in below):
            raise ServiceError(
                "kind_below_children",
                _("A union must be of a higher level than the unions under it."),
                field="kind",
            )
