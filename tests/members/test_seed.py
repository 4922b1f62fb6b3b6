"""The demo data generator: deterministic, valid, idempotent, with the demo logins."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from core.crypto import id_number_index
from core.models import ApiKey
from members.models import Enterprise, Member, MutualAidEnrolment, Station, Union, User
from members.seed.demo import DEMO_PASSWORD, STAFF_GROUP
from members.seed.generate import build_tree, iter_members
from members.selectors import members_visible_to
from members.services import member_number
from members.validators import parse_id_number, validate_credit_code, validate_mobile

# The demo commands run only in development (core.seed.refuse_outside_development).
pytestmark = pytest.mark.usefixtures("development")

MEMBERS = 300


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", "--members", str(MEMBERS), "--no-progress", *args, stdout=out)
    return out.getvalue()


def counts() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in (Union, Enterprise, Station, Member, MutualAidEnrolment, User)
    }


def snapshot() -> list[tuple]:
    return list(Member.objects.order_by("id").values_list("member_no", "name", "id_index", "mobile", "union__code"))


@pytest.mark.django_db
def test_it_seeds_once_and_reports_when_the_demo_data_is_present():
    seed()
    first = counts()
    assert first["Member"] == MEMBERS

    out = seed()

    assert "demo data already present" in out
    assert counts() == first


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_members_after_a_reset():
    seed()
    before = snapshot()

    seed("--reset")

    assert snapshot() == before
    assert counts()["Member"] == MEMBERS


def test_a_different_seed_gives_different_members():
    tree = build_tree(1)
    one = [m.id_number for m in iter_members(1, 50, tree)]
    again = [m.id_number for m in iter_members(1, 50, build_tree(1))]
    other = [m.id_number for m in iter_members(2, 50, build_tree(2))]
    assert one == again
    assert one[1:] != other[1:]


def test_generated_id_numbers_mobiles_and_credit_codes_are_valid():
    tree = build_tree(1)
    specs = list(iter_members(1, 2000, tree))
    for spec in specs:
        info = parse_id_number(spec.id_number, today=dt.date(2025, 3, 31), min_age=18)
        assert (info.gender, info.birth_date) == (spec.gender, spec.birth_date)
        assert info.birth_date > dt.date(1964, 3, 31)  # at most 60 years old
        validate_mobile(spec.mobile)
    assert len({s.id_number for s in specs}) == len(specs)
    assert len({s.mobile for s in specs}) == len(specs)
    for enterprise in tree.enterprises:
        validate_credit_code(enterprise.credit_code)
    assert len({e.credit_code for e in tree.enterprises}) == len(tree.enterprises)


@pytest.mark.django_db
def test_members_are_stored_encrypted_with_index_mask_and_number():
    seed()
    for member in Member.objects.all()[:50]:
        assert member.id_index == id_number_index(member.id_number)
        assert member.id_masked == member.id_number[:6] + "********" + member.id_number[14:]
        assert member.member_no == member_number(member.pk)
        assert member.privacy_version and member.privacy_consented_at
        assert dt.date(2024, 3, 1) <= member.joined_on <= dt.date(2025, 3, 31)
        assert member.union.holds_members
    with connection.cursor() as cur:
        cur.execute("SELECT id_number FROM members_member")
        stored = [row[0] for row in cur.fetchall()]
    assert all(len(value) > 18 and not value.startswith("33") for value in stored)


@pytest.mark.django_db
def test_nearly_every_active_member_is_enrolled_in_mutual_aid_for_2025():
    seed()
    active = Member.objects.filter(status="active").count()
    enrolled = MutualAidEnrolment.objects.filter(year=2025, member__status="active").count()
    assert enrolled / active > 0.97


@pytest.mark.django_db
def test_the_tree_has_a_city_three_districts_two_counties_and_506_stations():
    seed()
    assert list(Union.objects.filter(kind="city").values_list("code", "name")) == [("HZ", "湖州市总工会")]
    districts = list(Union.objects.filter(kind="district").values_list("name", flat=True))
    assert len(districts) == 5
    assert sum(name.endswith("区总工会") for name in districts) == 3
    assert sum(name.endswith("县总工会") for name in districts) == 2
    for kind in ("industry", "street", "grassroots", "joint"):
        assert Union.objects.filter(kind=kind).exists()
    assert Union.objects.filter(kind="joint", name__contains="快递物流行业联合工会").exists()
    assert Station.objects.count() == 506
    assert not Station.objects.exclude(latitude__range=(30.4, 31.0)).exists()
    assert not Station.objects.exclude(longitude__range=(119.2, 120.5)).exists()
    assert not Station.objects.filter(address="").exists()
    for union in Union.objects.exclude(kind="city").select_related("parent"):
        assert union.path == union.parent.path + union.code + "/"


@pytest.mark.django_db
def test_new_forms_of_employment_are_mostly_in_joint_unions():
    seed()
    new_forms = Member.objects.filter(employment_form__in=["delivery_rider", "ride_hailing", "courier"])
    assert new_forms.exists()
    assert new_forms.filter(union__kind="joint").count() / new_forms.count() > 0.9


@pytest.mark.django_db
def test_demo_staff_belong_to_their_unions():
    seed()
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.check_password(DEMO_PASSWORD)
    expected = {"city": ("HZ", "city"), "wuxing": ("WX", "district"), "g-g0001": ("G0001", "grassroots")}
    for username, (code, kind) in expected.items():
        user = User.objects.get(username=username)
        assert (user.union.code, user.union.kind) == (code, kind)
        assert user.is_staff and not user.is_superuser
        assert user.check_password(DEMO_PASSWORD)
        assert user.groups.filter(name=STAFF_GROUP).exists()
        assert user.has_perm("members.view_member") and user.has_perm("members.change_member")
        assert not user.has_perm("members.delete_member")
    worker = Member.objects.get(mobile="13800000000")
    assert worker.user.mobile == "13800000000"
    assert not worker.user.has_usable_password()
    assert worker.union.is_within(User.objects.get(username="g-g0001").union)


@pytest.mark.django_db
def test_demo_logins_prints_a_fresh_key_and_revokes_the_previous_one():
    seed()
    first, second = StringIO(), StringIO()
    call_command("demo_logins", stdout=first)
    call_command("demo_logins", stdout=second)

    assert "13800000000" in second.getvalue()
    assert "demo-pass-2026" in second.getvalue()
    assert "/api/v1/members/verify" in second.getvalue()
    keys = ApiKey.objects.filter(agency__code="mca", name="demo")
    assert keys.count() == 2
    assert keys.filter(revoked_at__isnull=True).count() == 1
    active = keys.get(revoked_at__isnull=True)
    assert f"upk_{active.key_id}_" in second.getvalue()
    assert f"upk_{active.key_id}_" not in first.getvalue()


@pytest.mark.django_db
def test_staff_scopes_on_the_demo_tree_follow_the_union_paths():
    seed()
    for username in ("city", "wuxing", "g-g0001"):
        user = User.objects.get(username=username)
        expected = set(Member.objects.filter(union__path__startswith=user.union.path).values_list("id", flat=True))
        assert set(members_visible_to(user).values_list("id", flat=True)) == expected
    wuxing = User.objects.get(username="wuxing")
    assert not members_visible_to(wuxing).filter(union__path__startswith="HZ/NX/").exists()
    assert Member.objects.filter(union__path__startswith="HZ/NX/").exists()
    # A small subtree is filtered by its union ids, so PostgreSQL sees how few rows it has.
    assert "path" not in str(members_visible_to(User.objects.get(username="g-g0001")).query)
