"""Bulk import of existing members from CSV or XLSX, with a dry run.

`members_import` reads every row (``import_files``), checks every row (``import_checks``), and
reports each bad row by its line (the header is line 1) and reason. A dry run writes nothing; a real
run writes all rows or, when any row is bad, none.
"""

import csv
import io
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat, LPad
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ServiceError
from core.services import audit_log
from members.models import JoinChannel, Member, User
from members.services.identity import member_number
from members.services.import_checks import BATCH, ImportReport, RowChecker
from members.services.import_files import COLUMNS, ImportRow, rows_read
from members.services.scope import out_of_scope

IMPORT_PRIVACY_VERSION = "import"

# `members.services.identity.member_number(pk)` computed by the database, one UPDATE per batch instead of
# one CASE branch per row (the import tests check that both give the same number).
MEMBER_NO_SQL = Concat(Value("HZ"), LPad(Cast("pk", CharField()), 10, Value("0")), output_field=CharField())


def members_import(*, rows_or_file, actor: User, dry_run: bool, file_name: str = "") -> ImportReport:
    """Check every row of a member list; unless `dry_run`, import them all, or none if any is bad.

    `rows_or_file` is CSV or XLSX content (a file object, bytes or a Path; CSV in UTF-8, with or
    without a BOM, GBK or GB18030), or a list of rows (dicts keyed by the header, or lists with
    the header first). Raises ServiceError for a file that cannot be read or lacks columns.
    """
    if not getattr(actor, "is_staff", False) or not getattr(actor, "is_active", False):
        raise out_of_scope()
    _columns, rows = rows_read(rows_or_file)
    report = ImportReport(dry_run=dry_run, total=len(rows))
    checker = RowChecker(report)
    today = timezone.localdate()
    for row in rows:
        checker.check_fields(row, today)
    checker.check_duplicates(rows)
    checker.check_database(rows, actor)
    report.errors.sort(key=lambda e: e.line)
    for row in rows:
        if not row.bad:
            name = row.clean["union"].name
            report.by_union[name] = report.by_union.get(name, 0) + 1
    if dry_run or report.errors or not rows:
        return report
    try:
        report.imported = _write(rows, actor=actor, file_name=file_name)
    except IntegrityError:
        raise ServiceError(
            "import_conflict",
            _("A member with one of these ID or mobile numbers was added meanwhile. Nothing was imported: try again."),
        ) from None
    return report


def _write(rows: list[ImportRow], *, actor: User, file_name: str) -> int:
    now = timezone.now()
    users = dict(
        _user_ids_by_mobile({r.clean["mobile"] for r in rows}),
    )
    members = [
        Member(
            user_id=users.get(r.clean["mobile"]),
            name=r.clean["name"],
            id_number=r.clean["id_number"],
            id_index=r.clean["id_index"],
            id_masked=r.clean["id_masked"],
            gender=r.clean["gender"],
            birth_date=r.clean["birth_date"],
            mobile=r.clean["mobile"],
            employer=r.clean.get("employer"),
            union=r.clean["union"],
            employment_form=r.clean["employment_form"],
            join_channel=JoinChannel.IMPORT,
            joined_on=r.clean["joined_on"],
            status=Member.Status.ACTIVE,
            privacy_version=IMPORT_PRIVACY_VERSION,
            privacy_consented_at=now,
            created_at=now,
        )
        for r in rows
    ]
    with transaction.atomic():
        Member.objects.bulk_create(members, batch_size=BATCH)
        if any(m.pk is None for m in members):  # a database that cannot return new ids
            raise IntegrityError("bulk insert did not return ids")
        for i in range(0, len(members), BATCH):
            batch = members[i : i + BATCH]
            Member.objects.filter(pk__in=[m.pk for m in batch]).update(member_no=MEMBER_NO_SQL)
            for m in batch:
                m.member_no = member_number(m.pk)
        Member.history.bulk_history_create(
            members, batch_size=BATCH, default_user=actor, default_change_reason="import", default_date=now
        )
        unions: dict[str, int] = {}
        for m in members:
            unions[m.union.code] = unions.get(m.union.code, 0) + 1
        audit_log(
            action="members.import.completed",
            obj=actor,
            actor=actor,
            new={"imported": len(members), "unions": unions, "file": file_name[:100]},
        )
    return len(members)


def _user_ids_by_mobile(mobiles: set[str]) -> Iterable[tuple[str, int]]:
    """Worker logins that already exist for these numbers (they logged in before joining)."""
    values = list(mobiles)
    for i in range(0, len(values), BATCH):
        yield from User.objects.filter(mobile__in=values[i : i + BATCH], member__isnull=True).values_list(
            "mobile", "pk"
        )


def template_csv() -> bytes:
    """The header of an import file, in UTF-8 with a BOM so that Excel shows the Chinese."""
    buf = io.StringIO()
    csv.writer(buf).writerow([zh for _f, zh, _en in COLUMNS])
    return buf.getvalue().encode("utf-8-sig")
