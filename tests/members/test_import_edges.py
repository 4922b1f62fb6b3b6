"""Members' import and applications at their edges: cells left empty, a name too long, an old join
date, a form of employment given by its English name, date cells, files that cannot be read."""

import datetime as dt
import io

import pytest
from django.utils import timezone

from core.errors import ServiceError
from core.models import AuditEntry
from members import services
from members.models import Member, MembershipApplication, SmsCode
from tests.factories import UserFactory, id_number

HEADER = ["姓名", "身份证号", "手机号", "工会编码", "单位统一社会信用代码", "用工形式", "入会日期"]


def errors(report) -> dict[int, list[tuple[str, str]]]:
    by_line: dict[int, list[tuple[str, str]]] = {}
    for e in report.errors:
        by_line.setdefault(e.line, []).append((e.column, e.code))
    return by_line


def refused(func, **kwargs) -> ServiceError:
    with pytest.raises(ServiceError) as exc:
        func(**kwargs)
    return exc.value


def test_every_empty_required_cell_is_reported_by_its_column(staff):
    rows = [HEADER, ["", "", "", "", "", "", ""], ["陈静", "", "", "", "", "", ""]]
    report = services.members_import(rows_or_file=rows, actor=staff, dry_run=True)
    assert errors(report) == {
        3: [("身份证号", "required"), ("手机号", "required"), ("工会编码", "required"), ("入会日期", "required")],
    }  # fmt: skip
    assert report.total == 1  # the blank row is skipped
    assert report.errors[0].message == "此项为必填项。"


def test_a_name_over_50_characters_and_a_join_date_before_1925_are_refused(staff, tree):
    rows = [
        HEADER,
        ["陈" * 51, id_number(), "13500000001", "G1", "", "", "2024-03-01"],
        ["刘洋", id_number(), "13500000002", "G1", "", "", "1924-12-31"],
        ["张伟", id_number(), "13500000003", "G1", "", "", "March 2024"],
    ]
    report = services.members_import(rows_or_file=rows, actor=staff, dry_run=False)
    assert errors(report) == {2: [("姓名", "name_length")], 3: [("入会日期", "date")], 4: [("入会日期", "date")]}
    assert report.imported == 0 and not Member.objects.filter(name="刘洋").exists()


def test_a_form_of_employment_may_be_given_by_its_english_name_and_a_date_as_a_date(staff, tree):
    rows = [HEADER, ["陈静", id_number(), "13500000001", "G1", "", "Truck driver", dt.date(2023, 7, 15)]]
    report = services.members_import(rows_or_file=rows, actor=staff, dry_run=False)
    assert report.ok and report.imported == 1
    member = Member.objects.get(name="陈静")
    assert (member.employment_form, member.joined_on) == ("truck_driver", dt.date(2023, 7, 15))


def test_a_column_named_twice_is_read_from_its_first_place(staff, tree):
    rows = [HEADER + ["姓名"], ["陈静", id_number(), "13500000001", "G1", "", "", "2024-03-01", "别名"]]
    report = services.members_import(rows_or_file=rows, actor=staff, dry_run=False)
    assert report.imported == 1 and Member.objects.filter(name="陈静").exists()
    assert not Member.objects.filter(name="别名").exists()


class Stream:
    """A file read as a stream: no seek."""

    def __init__(self, data: bytes):
        self._data = data

    def read(self):
        return self._data


def test_a_csv_read_as_a_stream_is_imported(staff, tree):
    content = ",".join(HEADER) + f"\n陈静,{id_number()},13500000001,G1,,,2024-03-01\n"
    report = services.members_import(rows_or_file=Stream(content.encode()), actor=staff, dry_run=True)
    assert report.ok and report.total == 1


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "import_empty"),
        (b"\xff\xff\xfe\x80\n", "import_format"),  # neither UTF-8 nor GB18030
        ("姓名,身份证号\n陈\x00静,1\n".encode(), "import_format"),  # a NUL: a binary file named .csv
        (b"PK\x03\x04 not a workbook", "import_format"),
    ],
    ids=["empty", "undecodable", "nul", "broken-xlsx"],
)
def test_it_refuses_a_file_it_cannot_read_and_imports_nothing(staff, content, code):
    before = Member.objects.count()
    error = refused(services.members_import, rows_or_file=io.BytesIO(content), actor=staff, dry_run=False)
    assert error.code == code
    assert Member.objects.count() == before
    assert not AuditEntry.objects.filter(action="members.import.completed").exists()


# --- Applications and login codes --------------------------------------------------------------


def test_it_refuses_an_application_with_a_malformed_mobile(tree):
    error = refused(
        services.application_submit,
        applicant=UserFactory(mobile="13700000001"),
        name="李娜",
        id_number=id_number(),
        mobile="1370000",
        union=tree.g1,
        privacy_consent=True,
    )
    assert error.code == "mobile" and "手机号" in error.message
    assert not MembershipApplication.objects.exists()


def test_an_application_update_that_changes_nothing_is_not_audited(tree, staff):
    app = services.application_submit(
        applicant=UserFactory(mobile="13700000001"),
        name="李娜",
        id_number=id_number(),
        mobile="13700000001",
        union=tree.g1,
        privacy_consent=True,
    )
    same = services.application_update(
        application=app, actor=staff, employer=app.employer, employment_form=app.employment_form
    )
    assert same.pk == app.pk
    assert not AuditEntry.objects.filter(action="members.application.changed").exists()


def test_the_beat_task_purges_login_codes_expired_more_than_a_day_ago(db):
    from members.tasks import purge_expired_sms_codes

    now = timezone.now()
    old = SmsCode.objects.create(mobile="13700000001", code_hash="a", expires_at=now - dt.timedelta(days=1, minutes=1))
    recent = SmsCode.objects.create(mobile="13700000001", code_hash="b", expires_at=now - dt.timedelta(hours=23))
    live = SmsCode.objects.create(mobile="13700000002", code_hash="c", expires_at=now + dt.timedelta(minutes=5))

    assert purge_expired_sms_codes.delay().get() == 1
    assert set(SmsCode.objects.values_list("pk", flat=True)) == {recent.pk, live.pk}
    assert not SmsCode.objects.filter(pk=old.pk).exists()
    assert purge_expired_sms_codes.delay().get() == 0  # idempotent
