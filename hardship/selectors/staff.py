"""The hardship staff responsible for a union or a case, who are told of new candidates, aid
waiting for approval and answered referrals."""

from collections import defaultdict

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Q

from hardship.models import Case
from members.models import Union


def _ancestor_paths(path: str) -> list[str]:
    """The union's own path first, then its ancestors', nearest first."""
    parts = path.split("/")[:-1]
    return ["/".join(parts[:i]) + "/" for i in range(len(parts), 0, -1)]


def hardship_staff_for(union_ids) -> dict[int, list[int]]:
    """Per union, the hardship staff (perm `hardship.view_case`) responsible for it: those of the
    union itself, else of its nearest ancestor that has any."""
    unions = dict(Union.objects.filter(pk__in=list(union_ids)).values_list("pk", "path"))
    paths = {p for path in unions.values() for p in _ancestor_paths(path)}
    union_of_path = dict(Union.objects.filter(path__in=paths).values_list("path", "pk"))
    perm = Permission.objects.filter(content_type__app_label="hardship", codename="view_case").first()
    has_perm = Q(is_superuser=True)
    if perm is not None:
        has_perm |= Q(user_permissions=perm) | Q(groups__permissions=perm)
    staff: dict[int, set[int]] = defaultdict(set)
    rows = (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True, union_id__in=list(union_of_path.values()))
        .filter(has_perm)
        .values_list("union_id", "pk")
        .distinct()
    )
    for union_id, user_id in rows:
        staff[union_id].add(user_id)
    out = {}
    for union_id, path in unions.items():
        for p in _ancestor_paths(path):
            if staff.get(union_of_path.get(p)):
                out[union_id] = sorted(staff[union_of_path[p]])
                break
    return out


def case_staff_ids(case: Case, *, exclude=()) -> list[int]:
    """Hardship staff responsible for the case: those of its union, else of the nearest union above
    it that has any (like `members.services._union_staff_ids`), plus whoever opened the case."""
    perm = Permission.objects.filter(content_type__app_label="hardship", codename="view_case").first()
    users = get_user_model().objects.filter(is_staff=True, is_active=True)
    if perm is not None:
        users = users.filter(Q(user_permissions=perm) | Q(groups__permissions=perm))
    ids: list[int] = []
    node: Union | None = case.union
    while node is not None and not ids:
        ids = sorted(set(users.filter(union=node).values_list("pk", flat=True)))
        node = node.parent
    if case.created_by_id and case.created_by_id not in ids:
        ids.append(case.created_by_id)
    return [i for i in ids if i not in {getattr(u, "pk", u) for u in exclude}]
