"""The hardship staff responsible for a union or a case, who are told of new candidates, aid
waiting for approval and answered referrals."""

from collections import defaultdict

from django.contrib.auth import get_user_model
from django.db.models import Q

from hardship.models import Case
from members.models import Union

# Staff given the hardship permission to see cases, themselves or through a group. Superusers are
# not counted: they hold every permission by their flag, not because hardship work is theirs.
_SEES_CASES = Q(user_permissions__content_type__app_label="hardship", user_permissions__codename="view_case") | Q(
    groups__permissions__content_type__app_label="hardship", groups__permissions__codename="view_case"
)


def _ancestor_paths(path: str) -> list[str]:
    """The union's own path first, then its ancestors', nearest first."""
    parts = path.split("/")[:-1]
    return ["/".join(parts[:i]) + "/" for i in range(len(parts), 0, -1)]


def hardship_staff_for(union_ids) -> dict[int, list[int]]:
    """Per union, the hardship staff responsible for it: the active staff users with the
    permission `hardship.view_case` (their own or a group's; not superusers by their flag alone)
    of the union itself, else of its nearest ancestor that has any. A union with nobody up to the
    top is left out. Three queries, however many unions."""
    unions = dict(Union.objects.filter(pk__in=list(union_ids)).values_list("pk", "path"))
    paths = {p for path in unions.values() for p in _ancestor_paths(path)}
    union_of_path = dict(Union.objects.filter(path__in=paths).values_list("path", "pk"))
    staff: dict[int, set[int]] = defaultdict(set)
    rows = (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True, union_id__in=list(union_of_path.values()))
        .filter(_SEES_CASES)
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
    """Hardship staff responsible for the case: those responsible for its union
    (`hardship_staff_for`), plus whoever opened the case; `exclude` leaves users out."""
    ids = hardship_staff_for([case.union_id]).get(case.union_id, [])
    if case.created_by_id and case.created_by_id not in ids:
        ids.append(case.created_by_id)
    left_out = {getattr(u, "pk", u) for u in exclude}
    return [i for i in ids if i not in left_out]
