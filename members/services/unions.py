"""Creating and changing unions (the admin's door): the tree's rules and the audit entry."""

from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import ErrorKind, ServiceError
from core.services import audit_log
from members.models import Union, User
from members.selectors import user_can_manage
from members.services.scope import out_of_scope, union_kind_check

UNION_FIELDS = ("name", "kind", "parent_id", "code", "address", "is_active")


def union_save(*, union: Union, actor: User) -> Union:
    """Create `union` (no primary key yet) or save the changes made to it.

    Staff create unions only under a union of their own subtree; a union's kind and place change
    only by staff whose own union lies strictly above it, and always fit the tree
    (`members.services.scope.union_kind_check`). Audited as `members.union.created` or
    `members.union.changed`, with the old and the new values of what changed."""
    if not (getattr(actor, "is_staff", False) and getattr(actor, "is_active", False)):
        raise ServiceError("forbidden", _("Only staff may change unions."), kind=ErrorKind.FORBIDDEN)
    if union.pk is not None and not user_can_manage(actor, Union.objects.get(pk=union.pk)):
        raise out_of_scope()
    union_kind_check(actor=actor, union=union, kind=union.kind, parent=union.parent)
    with transaction.atomic():
        before = Union.objects.select_for_update().filter(pk=union.pk).first() if union.pk else None
        old = {name: getattr(before, name) for name in UNION_FIELDS} if before else {}
        union.save()
        new = {name: getattr(union, name) for name in UNION_FIELDS}
        changed = [name for name in UNION_FIELDS if old.get(name) != new[name]]
        if before is not None and not changed:
            return union
        audit_log(
            action="members.union.changed" if before else "members.union.created",
            obj=union,
            actor=actor,
            old={name: old[name] for name in changed} if before else None,
            new={name: new[name] for name in changed},
        )
    return union
