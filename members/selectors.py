"""Read-side queries for membership, and the staff scope rule used by every door."""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from social_django.models import UserSocialAuth

from core import xlsx
from core.crypto import id_number_index
from core.errors import ServiceError
from core.parsing import int_parse
from members.models import (
    Consent,
    ConsentPurpose,
    CorrectionRequest,
    Member,
    MembershipApplication,
    MutualAidEnrolment,
    SmsCode,
    Station,
    Transfer,
    Union,
    User,
)


def user_can_manage(user, union: Union) -> bool:
    """Superusers manage everything; other staff only their union's subtree."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_staff", False):
        return False
    if user.is_superuser:
        return True
    return bool(user.union_id) and union.path.startswith(user.union.path)


def is_city_level(user) -> bool:
    """City-level staff: a superuser, or staff of the city federation itself (the root of the tree,
    of kind `city`). What applies to the whole city (the screening rules, the monthly cycle, the
    settings rows, campaigns and merchants) is changed by them alone (`core.admin_kit.CityWideSettingsMixin`)."""
    if not (getattr(user, "is_authenticated", False) and getattr(user, "is_staff", False)):
        return False
    if user.is_superuser:
        return True
    union = user.union if getattr(user, "union_id", None) else None
    return union is not None and union.kind == Union.Kind.CITY and union.parent_id is None


def user_covers_strictly(user, union: Union) -> bool:
    """Whether `union` lies strictly under the staff member's own union (a superuser: always). Only
    such staff may change what a union is (its kind): never staff of the union itself."""
    if not user_can_manage(user, union):
        return False
    return bool(user.is_superuser) or union.pk != user.union_id


def scope_prefix(user) -> str | None:
    """The path prefix a staff user may see; '' for all (superuser); None for nothing."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_staff", False):
        return None
    if user.is_superuser:
        return ""
    return user.union.path if user.union_id else None


SMALL_SUBTREE = 100


def scoped(qs: QuerySet, user, union_field: str) -> QuerySet:
    """Restrict `qs` to rows whose `union_field` lies in the user's subtree.

    A small subtree (a grassroots union, a street) is filtered by its union ids, read first: joined
    on `path LIKE`, PostgreSQL cannot tell how few rows a small union has, and a list ordered by id
    walked most of a 680,000-member table to fill one page (see bench/README.md).
    """
    prefix = scope_prefix(user)
    if prefix is None:
        return qs.none()
    if prefix == "":
        return qs
    ids = list(Union.objects.filter(path__startswith=prefix).values_list("id", flat=True)[: SMALL_SUBTREE + 1])
    if len(ids) <= SMALL_SUBTREE:
        return qs.filter(**{f"{union_field}__in": ids})
    return qs.filter(**{f"{union_field}__path__startswith": prefix})


def unions_visible_to(user) -> QuerySet[Union]:
    prefix = scope_prefix(user)
    if prefix is None:
        return Union.objects.none()
    return Union.objects.filter(path__startswith=prefix) if prefix else Union.objects.all()


def members_visible_to(user) -> QuerySet[Member]:
    return scoped(Member.objects.all(), user, "union")


def applications_visible_to(user) -> QuerySet[MembershipApplication]:
    return scoped(MembershipApplication.objects.all(), user, "union")


def transfers_visible_to(user) -> QuerySet[Transfer]:
    prefix = scope_prefix(user)
    if prefix is None:
        return Transfer.objects.none()
    if prefix == "":
        return Transfer.objects.all()
    return Transfer.objects.filter(Q(from_union__path__startswith=prefix) | Q(to_union__path__startswith=prefix))


# How many unions the union picker shows at once; the search box narrows the rest.
UNION_CHOICES_SHOWN = 50


def unions_joinable() -> QuerySet[Union]:
    """The unions a worker may join or transfer to: active grassroots and joint unions."""
    return Union.objects.filter(is_active=True, kind__in=Union.MEMBER_KINDS)


def union_joinable(pk) -> Union | None:
    """The joinable union with this id (a picker's current choice), or None."""
    try:
        return unions_joinable().filter(pk=int_parse(str(pk))).first()
    except ServiceError:
        return None


def unions_for_picker(*, q: str = "", station: Station | None = None, limit: int = UNION_CHOICES_SHOWN) -> list[Union]:
    """Joinable unions for the union picker, matching `q`.

    Without a search, a station's own subtree comes first (a worker who scans a station's
    poster most likely works nearby).
    """
    qs = unions_joinable().only("id", "name", "path")
    q = (q or "").strip()[:50]
    if q:
        return list(qs.filter(name__icontains=q).order_by("path")[:limit])
    if station is not None:
        near = list(qs.filter(path__startswith=station.union.path).order_by("path")[:limit])
        if near:
            return near
    return list(qs.order_by("path")[:limit])


def station_open(code: str) -> Station | None:
    """An active station (its poster and join link work) with its union, or None."""
    return Station.objects.select_related("union").filter(code=code, is_active=True).first()


def transfers_of_member(member: Member, *, limit: int = 20) -> list[Transfer]:
    """A member's latest transfer requests, newest first."""
    return list(member.transfers.select_related("from_union", "to_union")[:limit])


def member_verify_lookup(*, id_number: str) -> Member | None:
    """The active member holding this ID number, with what an agency's membership check shows; None
    if there is none (a suspended or departed member is not a member to an agency)."""
    return (
        Member.objects.select_related("union")
        .only("member_no", "name", "id_masked", "joined_on", "status", "union__code", "union__name")
        .filter(id_index=id_number_index(id_number), status=Member.Status.ACTIVE)
        .first()
    )


def member_for_user(user) -> Member | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Member.objects.select_related("union", "employer", "station").filter(user=user).first()


def application_latest(user) -> MembershipApplication | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        MembershipApplication.objects.select_related("union", "station")
        .filter(applicant=user)
        .order_by("-submitted_at")
        .first()
    )


def participation_rates(*, user, year: int) -> list[dict]:
    """Per visible union: active members, enrolled in mutual medical insurance, and the rate.

    Two grouped queries over grassroots unions, rolled up the tree in Python.
    """
    unions = list(unions_visible_to(user).only("id", "name", "code", "kind", "path", "parent_id"))
    by_path = {u.path: u for u in unions}
    active = dict(
        Member.objects.filter(status=Member.Status.ACTIVE, union__in=[u.pk for u in unions if u.holds_members])
        .values("union__path")
        .annotate(n=Count("id"))
        .values_list("union__path", "n")
    )
    enrolled = dict(
        MutualAidEnrolment.objects.filter(year=year, member__status=Member.Status.ACTIVE)
        .filter(member__union__in=[u.pk for u in unions if u.holds_members])
        .values("member__union__path")
        .annotate(n=Count("id"))
        .values_list("member__union__path", "n")
    )
    totals = {p: [0, 0] for p in by_path}
    for path, n in active.items():
        for anc in ancestor_paths(path, by_path):
            totals[anc][0] += n
    for path, n in enrolled.items():
        for anc in ancestor_paths(path, by_path):
            totals[anc][1] += n
    rows = []
    for u in unions:
        members, enrolled_n = totals[u.path]
        rows.append(
            {
                "union": u,
                "depth": u.path.count("/") - 1,
                "members": members,
                "enrolled": enrolled_n,
                "rate": (enrolled_n / members * 100) if members else None,
            }
        )
    return rows


def ancestor_paths(path: str, by_path: dict) -> list[str]:
    parts = path.split("/")[:-1]
    prefixes = ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
    return [p for p in prefixes if p in by_path]


def station_join_counts() -> QuerySet[Station]:
    return Station.objects.annotate(joins=Count("members", filter=Q(members__join_channel="station")))


def sms_code_live(mobile: str) -> bool:
    """Whether a login code was sent to `mobile` and is still unused and unexpired."""
    return SmsCode.objects.filter(mobile=mobile, used_at__isnull=True, expires_at__gt=timezone.now()).exists()


def sms_code_failures_today(mobile: str) -> int:
    """Wrong codes entered for `mobile` today (local time), over every code sent to it today.

    Counted on the codes themselves (`SmsCode.attempts`), which are kept a day after they expire.
    Wrong tries after midnight on a code sent before it count for the day before.
    """
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    failures = SmsCode.objects.filter(mobile=mobile, created_at__gte=midnight).aggregate(n=Sum("attempts"))["n"]
    return failures or 0


def seconds_to_midnight() -> int:
    """Seconds until the next local midnight, when a day's cap of wrong codes lifts."""
    now = timezone.localtime()
    midnight = (now + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((midnight - now).total_seconds()))


@dataclass(frozen=True)
class SmsLoginStanding:
    """What a worker can do next after an SMS login failed: tell them the truth, not "ask again"."""

    tries_left: int  # wrong tries the live code still allows (0: no live code, or used up)
    resend_in: int  # seconds before a new code may be asked for (the resend interval)
    paused_for: int  # seconds until the day's cap of wrong codes lifts (0: not reached)
    sent: bool = True  # whether any code was ever sent to the number


def sms_login_standing(mobile: str) -> SmsLoginStanding:
    """The number's SMS login standing: its live code's tries left, the wait before a new code and
    the wait before the day's cap lifts (the rules of members.services.sms_login)."""
    now = timezone.now()
    if sms_code_failures_today(mobile) >= settings.SMS_CODE_FAILURES_PER_DAY:
        return SmsLoginStanding(tries_left=0, resend_in=0, paused_for=seconds_to_midnight())
    latest = SmsCode.objects.filter(mobile=mobile).order_by("-created_at").first()
    if latest is None:
        return SmsLoginStanding(tries_left=0, resend_in=0, paused_for=0, sent=False)
    live = latest.used_at is None and latest.expires_at > now
    tries_left = max(0, settings.SMS_CODE_MAX_ATTEMPTS - latest.attempts) if live else 0
    resend_at = latest.created_at + dt.timedelta(seconds=settings.SMS_RESEND_SECONDS)
    return SmsLoginStanding(
        tries_left=tries_left, resend_in=max(0, int((resend_at - now).total_seconds() + 0.999)), paused_for=0
    )


def union_staff_ids(union: Union) -> list[int]:
    """Staff who can act for `union`: its own staff, else the nearest ancestor's."""
    ids: list[int] = []
    node: Union | None = union
    while node is not None and not ids:
        ids = list(User.objects.filter(union=node, is_staff=True, is_active=True).values_list("pk", flat=True))
        node = node.parent
    return ids


# --- A member's rights over their data (PIPL) ----------------------------------------------------------


def consents_of_member(member: Member) -> dict[str, Consent]:
    """The member's optional consents by purpose (a purpose never given is absent)."""
    return {c.purpose: c for c in Consent.objects.filter(member=member)}


def consent_holders(purpose: str) -> QuerySet[Member]:
    """Members whose consent to `purpose` is given and not withdrawn."""
    return Member.objects.filter(consents__purpose=purpose, consents__withdrawn_at__isnull=True)


def consent_is_given(member: Member, purpose: str) -> bool:
    if purpose == ConsentPurpose.MEMBERSHIP:
        return member.privacy_consented_at is not None
    return Consent.objects.filter(member=member, purpose=purpose, withdrawn_at__isnull=True).exists()


def corrections_of_member(member: Member) -> list[CorrectionRequest]:
    return list(CorrectionRequest.objects.filter(member=member).order_by("-created_at", "-id"))


def corrections_visible_to(user) -> QuerySet[CorrectionRequest]:
    return scoped(CorrectionRequest.objects.all(), user, "member__union")


WECHAT_PROVIDER = "wechat"


def wechat_bound(user) -> bool:
    """True when the user's login has a WeChat identity bound (members.wechat)."""
    return UserSocialAuth.objects.filter(user=user, provider=WECHAT_PROVIDER).exists()


def mutual_aid_enrolments_xlsx(enrolments) -> bytes:
    """The given enrolments as a spreadsheet (member number, name, masked ID number, union at
    enrolment, year, enrolled at): the rows the staff member selected in the admin, in scope."""
    wb = xlsx.workbook()
    ws = wb.active
    ws.title = _("Enrolments")
    xlsx.append(
        ws, [_("member number"), _("name"), _("ID number"), _("union at enrolment"), _("year"), _("enrolled at")],
        bold=True,
    )  # fmt: skip
    rows = enrolments.select_related("member", "union").defer("member__id_number").order_by("year", "member__member_no")
    for e in rows:
        enrolled = timezone.localtime(e.enrolled_at).replace(tzinfo=None)
        xlsx.append(ws, [e.member.member_no, e.member.name, e.member.id_masked, e.union.name, e.year, enrolled])
    return xlsx.to_bytes(wb)


def applications_awaiting(user) -> QuerySet[MembershipApplication]:
    """Applications to join in the user's scope that wait for a decision."""
    return applications_visible_to(user).filter(status=MembershipApplication.Status.PENDING)


def transfers_awaiting(user) -> QuerySet[Transfer]:
    """Transfers that wait for the user's side: a request to release from a union of the scope,
    or a released member to accept into one."""
    release = scoped(Transfer.objects.filter(status=Transfer.Status.REQUESTED), user, "from_union")
    accept = scoped(Transfer.objects.filter(status=Transfer.Status.RELEASED), user, "to_union")
    return Transfer.objects.filter(Q(pk__in=release.values("pk")) | Q(pk__in=accept.values("pk")))
