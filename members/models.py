from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.crypto import EncryptedTextField
from core.history import History
from core.parsing import validate_credit_code
from core.sms import mask_mobile
from members.validators import validate_mobile


class Union(models.Model):
    """An organisation in the union tree: city → district/county → industry/street → grassroots."""

    class Kind(models.TextChoices):
        CITY = "city", _("City federation of trade unions")
        DISTRICT = "district", _("District or county federation")
        INDUSTRY = "industry", _("Industry union")
        STREET = "street", _("Township or street union")
        GRASSROOTS = "grassroots", _("Grassroots union")
        JOINT = "joint", _("Joint union")

    # Kinds whose unions hold members directly.
    MEMBER_KINDS = (Kind.GRASSROOTS, Kind.JOINT)

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent union"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    code = models.CharField(_("code"), max_length=20, unique=True)
    # Materialised path of codes, e.g. "HZ/WX/WX-S03/G0042/": a subtree is a prefix match.
    path = models.CharField(_("path"), max_length=255, unique=True, editable=False)
    address = models.CharField(_("address"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    history = History()

    class Meta:
        verbose_name = _("union")
        verbose_name_plural = _("unions")
        ordering = ["path"]
        indexes = [models.Index(fields=["path"], name="union_path_prefix", opclasses=["varchar_pattern_ops"])]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.path = self.compute_path()
        super().save(*args, **kwargs)

    def compute_path(self) -> str:
        return (self.parent.path if self.parent_id else "") + self.code + "/"

    def is_within(self, other: "Union") -> bool:
        """True when this union is `other` or lies in its subtree."""
        return self.path.startswith(other.path)

    @property
    def holds_members(self) -> bool:
        return self.kind in self.MEMBER_KINDS


class Enterprise(models.Model):
    name = models.CharField(_("name"), max_length=150)
    credit_code = models.CharField(
        _("unified social credit code"), max_length=18, unique=True, validators=[validate_credit_code]
    )
    union = models.ForeignKey(
        Union, verbose_name=_("grassroots union"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="enterprises",
    )  # fmt: skip
    address = models.CharField(_("address"), max_length=200, blank=True)
    industry = models.CharField(_("industry"), max_length=50, blank=True)
    # Every version, with who changed it (core.history); the admin shows it.
    history = History()

    class Meta:
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Station(models.Model):
    """A union station (工会驿站): a service point whose QR code lets workers join."""

    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    union = models.ForeignKey(
        Union, verbose_name=_("managing union"), on_delete=models.PROTECT, related_name="stations"
    )
    address = models.CharField(_("address"), max_length=200)
    hours = models.CharField(_("opening hours"), max_length=100, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    history = History()

    class Meta:
        verbose_name = _("union station")
        verbose_name_plural = _("union stations")
        ordering = ["code"]

    def __str__(self):
        return self.name


class User(AbstractUser):
    """A login: staff (password, scoped to one union) or a worker (mobile and SMS code)."""

    mobile = models.CharField(
        _("mobile"), max_length=11, unique=True, null=True, blank=True, validators=[validate_mobile]
    )
    union = models.ForeignKey(
        Union, verbose_name=_("union (staff scope)"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="staff", help_text=_("Staff see and change only this union and the unions under it."),
    )  # fmt: skip
    # Staff logins keep every version: union, staff and superuser flags, groups and permissions, with
    # who changed them (core.history). Workers' logins are not kept (a change to one in the admin is);
    # the password hash and the last login never are.
    history = History(
        excluded_fields=["password", "last_login"],
        m2m_fields=["groups", "user_permissions"],
        record_if=lambda user: user.is_staff or user.is_superuser,
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.get_full_name() or self.username


class EmploymentForm(models.TextChoices):
    EMPLOYEE = "employee", _("Full-time employee")
    PART_TIME = "part_time", _("Part-time worker")
    DELIVERY_RIDER = "delivery_rider", _("Delivery rider")
    RIDE_HAILING = "ride_hailing", _("Ride-hailing driver")
    COURIER = "courier", _("Courier")
    TRUCK_DRIVER = "truck_driver", _("Truck driver")
    OTHER_NEW = "other_new", _("Other new form of employment")


class JoinChannel(models.TextChoices):
    ONLINE = "online", _("Online")
    STATION = "station", _("Station QR code")
    IMPORT = "import", _("Bulk import")


class IdentityFields(models.Model):
    """Real name and resident ID number, encrypted, with a blind index and a masked copy."""

    name = models.CharField(_("real name"), max_length=50)
    id_number = EncryptedTextField(_("ID number"), editable=False)
    id_index = models.CharField(_("ID number index"), max_length=64, editable=False)
    id_masked = models.CharField(_("ID number"), max_length=18, editable=False)

    class Meta:
        abstract = True

    @property
    def masked_name(self) -> str:
        return self.name[0] + "*" * (len(self.name) - 1) if self.name else ""


class Member(IdentityFields):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        LEFT = "left", _("Left the union")

    class Gender(models.TextChoices):
        MALE = "M", _("Male")
        FEMALE = "F", _("Female")

    user = models.OneToOneField(
        User, verbose_name=_("login"), null=True, blank=True, on_delete=models.SET_NULL, related_name="member"
    )
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, editable=False)
    birth_date = models.DateField(_("birth date"), editable=False)
    mobile = models.CharField(_("mobile"), max_length=11, unique=True, validators=[validate_mobile])
    employer = models.ForeignKey(
        Enterprise, verbose_name=_("employer"), null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    union = models.ForeignKey(
        Union, verbose_name=_("grassroots union"), on_delete=models.PROTECT, related_name="members"
    )
    employment_form = models.CharField(
        _("form of employment"), max_length=20, choices=EmploymentForm.choices, default=EmploymentForm.EMPLOYEE
    )
    join_channel = models.CharField(_("join channel"), max_length=10, choices=JoinChannel.choices)
    station = models.ForeignKey(
        Station, verbose_name=_("station"), null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    # Null only between the insert and the update that numbers the row from its id.
    member_no = models.CharField(  # noqa: DJ001
        _("member number"), max_length=12, unique=True, null=True, editable=False
    )
    joined_on = models.DateField(_("joined on"), default=timezone.localdate)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    privacy_version = models.CharField(_("privacy policy version"), max_length=20)
    privacy_consented_at = models.DateTimeField(_("privacy consent time"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    history = History(excluded_fields=["id_index"])

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        constraints = [models.UniqueConstraint(fields=["id_index"], name="member_unique_id_number")]
        indexes = [
            models.Index(fields=["union", "status"]),
            # A union's newest members first (the admin list of a small subtree): no scan of the whole table.
            models.Index(fields=["union", "id"], name="member_union_newest"),
            models.Index(fields=["station", "join_channel"]),
            # Staff search members by the beginning of a name (LIKE '王建%').
            models.Index(fields=["name"], name="member_name_prefix", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self):
        return f"{self.name} ({self.member_no or '-'})"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class MembershipApplication(IdentityFields):
    """A worker's application to join (入会), decided by the grassroots union's staff."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    applicant = models.ForeignKey(
        User, verbose_name=_("applicant"), on_delete=models.CASCADE, related_name="applications"
    )
    mobile = models.CharField(_("mobile"), max_length=11, validators=[validate_mobile])
    union = models.ForeignKey(
        Union, verbose_name=_("grassroots union"), on_delete=models.PROTECT, related_name="applications"
    )
    employer = models.ForeignKey(
        Enterprise, verbose_name=_("employer"), null=True, blank=True, on_delete=models.SET_NULL
    )
    employer_name = models.CharField(_("employer name"), max_length=150, blank=True)
    employment_form = models.CharField(_("form of employment"), max_length=20, choices=EmploymentForm.choices)
    channel = models.CharField(_("join channel"), max_length=10, choices=JoinChannel.choices)
    station = models.ForeignKey(Station, verbose_name=_("station"), null=True, blank=True, on_delete=models.SET_NULL)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    reject_reason = models.CharField(_("reason for rejection"), max_length=300, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        User, verbose_name=_("decided by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    member = models.OneToOneField(Member, verbose_name=_("member"), null=True, blank=True, on_delete=models.SET_NULL)
    privacy_version = models.CharField(_("privacy policy version"), max_length=20)
    privacy_consented_at = models.DateTimeField(_("privacy consent time"))

    class Meta:
        verbose_name = _("membership application")
        verbose_name_plural = _("membership applications")
        ordering = ["-submitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["id_index"], condition=Q(status="pending"), name="application_one_pending_per_person"
            )
        ]

    def __str__(self):
        return f"{self.masked_name} → {self.union}"


class Transfer(models.Model):
    """A member's move to another grassroots union (转会): the old union releases, the new accepts."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        RELEASED = "released", _("Released by the old union")
        COMPLETED = "completed", _("Accepted by the new union")
        REJECTED = "rejected", _("Rejected")
        CANCELLED = "cancelled", _("Cancelled")

    member = models.ForeignKey(Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="transfers")
    from_union = models.ForeignKey(
        Union, verbose_name=_("from union"), on_delete=models.PROTECT, related_name="transfers_out"
    )
    to_union = models.ForeignKey(
        Union, verbose_name=_("to union"), on_delete=models.PROTECT, related_name="transfers_in"
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.REQUESTED)
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    released_by = models.ForeignKey(
        User, verbose_name=_("released by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    completed_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    completed_by = models.ForeignKey(
        User, verbose_name=_("accepted by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rejected_at = models.DateTimeField(_("rejected at"), null=True, blank=True)
    rejected_by = models.ForeignKey(
        User, verbose_name=_("rejected by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reject_reason = models.CharField(_("reason for rejection"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["member"],
                condition=Q(status__in=["requested", "released"]),
                name="transfer_one_open_per_member",
            )
        ]

    def __str__(self):
        return f"{self.member.masked_name}: {self.from_union} → {self.to_union}"


class MutualAidEnrolment(models.Model):
    """Enrolment in mutual medical insurance (医疗互助保障) for one year."""

    member = models.ForeignKey(Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="mutual_aid")
    year = models.PositiveSmallIntegerField(_("year"))
    union = models.ForeignKey(Union, verbose_name=_("union at enrolment"), on_delete=models.PROTECT, related_name="+")
    enrolled_at = models.DateTimeField(_("enrolled at"), default=timezone.now)

    class Meta:
        verbose_name = _("mutual medical insurance enrolment")
        verbose_name_plural = _("mutual medical insurance enrolments")
        constraints = [models.UniqueConstraint(fields=["member", "year"], name="mutual_aid_once_per_year")]
        indexes = [models.Index(fields=["year", "union"])]

    def __str__(self):
        return f"{self.member} {self.year}"


class SmsCode(models.Model):
    """A one-time login code: stored as a keyed hash, valid 5 minutes, used once."""

    mobile = models.CharField(_("mobile"), max_length=11, db_index=True)
    code_hash = models.CharField(_("code digest"), max_length=64)
    created_at = models.DateTimeField(_("time sent"), default=timezone.now)
    expires_at = models.DateTimeField(
        _("expires at"),
    )
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("wrong attempts"), default=0)

    class Meta:
        verbose_name = _("SMS code")
        verbose_name_plural = _("SMS codes")

    def __str__(self):
        return f"{mask_mobile(self.mobile)} {self.created_at:%Y-%m-%d %H:%M}"


class ConsentPurpose(models.TextChoices):
    """What a member may consent to (PIPL art. 14–16). Membership is required; the others are optional
    and can be withdrawn at any time without losing the membership (`REQUIRED` lists the required ones)."""

    MEMBERSHIP = "membership", _("Processing of my details for my union membership")
    CAMPAIGN_SMS = "campaign_sms", _("SMS notices of benefit-day voucher campaigns")


REQUIRED_CONSENTS = (ConsentPurpose.MEMBERSHIP,)


class Consent(models.Model):
    """A member's optional consent to one purpose: when it was given and, if so, withdrawn.

    One row per (member, purpose); giving it again after a withdrawal clears `withdrawn_at` (the
    audit log keeps every change). The required consent to membership is the one given with the
    application (`Member.privacy_consented_at`) and has no row here.
    """

    member = models.ForeignKey(Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(_("purpose"), max_length=20, choices=ConsentPurpose.choices)
    given_at = models.DateTimeField(_("given at"))
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    privacy_version = models.CharField(_("privacy policy version"), max_length=20)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [models.UniqueConstraint(fields=["member", "purpose"], name="consent_once_per_purpose")]
        indexes = [models.Index(fields=["purpose", "withdrawn_at"], name="consent_purpose_live")]

    def __str__(self):
        return f"{self.member.masked_name} {self.get_purpose_display()}"

    @property
    def is_given(self) -> bool:
        return self.withdrawn_at is None


class CorrectionRequest(models.Model):
    """A member's request to correct their details (PIPL art. 46), answered by their union's staff."""

    class Field(models.TextChoices):
        NAME = "name", _("Real name")
        ID_NUMBER = "id_number", _("ID number")
        MOBILE = "mobile", _("Mobile number")
        UNION = "union", _("Grassroots union")
        EMPLOYER = "employer", _("Employer")
        EMPLOYMENT_FORM = "employment_form", _("Form of employment")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("correction request status", "Open")
        DONE = "done", _("Corrected")
        REFUSED = "refused", _("Refused")

    member = models.ForeignKey(
        Member, verbose_name=_("member"), on_delete=models.CASCADE, related_name="correction_requests"
    )
    field = models.CharField(_("detail to correct"), max_length=20, choices=Field.choices)
    problem = models.CharField(_("what is wrong"), max_length=300)
    # May hold an ID number or a name: encrypted at rest.
    proposed = EncryptedTextField(_("correct value"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    reply = models.CharField(_("reply to the member"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    decided_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        User, verbose_name=_("answered by"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("correction request")
        verbose_name_plural = _("correction requests")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self):
        return f"{self.member.masked_name}: {self.get_field_display()}"
