"""Personas shared by every test: a tree of unions, members, staff at three levels, an agency."""

import os
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.utils import translation

from core import sms
from core.services import api_key_create
from tests.factories import AgencyFactory, MemberFactory, StaffFactory, StationFactory, UnionFactory, UserFactory


@pytest.fixture(autouse=True)
def _portal_language():
    """Each test starts in the portal's language (zh-hans): a request handled in English by an
    earlier test on the same thread must not leak its language into the next one."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _test_settings(settings):
    settings.SMS_BACKEND = "core.sms.LocmemSmsBackend"
    # Fast hashing in tests only; production keeps Django's PBKDF2 default.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    sms.outbox.clear()
    from django.core.cache import cache

    cache.clear()
    from vouchers.services import claim_facts

    claim_facts.process_memos_clear()  # the process's memos of the cache's sold-out flags and facts
    # Tasks run in-process in tests, with or without a broker; tests of the workers themselves
    # start a real worker.
    from unionportal.celery import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = eager
    sms.outbox.clear()


@pytest.fixture(autouse=True)
def _push_holds_relaxed(request, settings):
    """Most tests push a few rows for a 2025 period to test something else than the holds of
    unusual pushes (hardship.ingest.holds), which would hold them all: for them the hold rules
    are off. Tests marked `push_holds` keep the production rules (tests/hardship/test_push_holds.py)."""
    if request.node.get_closest_marker("push_holds") is None:
        settings.HARDSHIP_PUSH_HOLD_MIN_ROWS = 0
        settings.HARDSHIP_PUSH_HOLD_SHARE = 0
        settings.HARDSHIP_PUSH_OPEN_MONTHS = 100_000
        settings.HARDSHIP_PUSH_HOLD_MAX_PER_PERIOD = 100_000


@pytest.fixture
def development(settings):
    """DEBUG on, as on a developer's machine: the demo commands refuse to run without it
    (pytest-django turns DEBUG off for every test)."""
    settings.DEBUG = True


@pytest.fixture
def tree(db):
    """市总工会 HZ → 吴兴区 WX → 织里镇 WX-S1 → G1 ; HZ → 南浔区 NX → G2."""
    return make_tree()


def make_tree():
    """The tree of the `tree` fixture (also made once per module by the permission matrix)."""
    city = UnionFactory(name="湖州市总工会", kind="city", code="HZ")
    wx = UnionFactory(name="吴兴区总工会", kind="district", code="WX", parent=city)
    street = UnionFactory(name="织里镇总工会", kind="street", code="WX-S1", parent=wx)
    g1 = UnionFactory(name="湖州丝绸有限公司工会", kind="grassroots", code="G1", parent=street)
    nx = UnionFactory(name="南浔区总工会", kind="district", code="NX", parent=city)
    g2 = UnionFactory(name="南浔木业联合工会", kind="joint", code="G2", parent=nx)
    station = StationFactory(code="wx-001", name="织里镇工会驿站", union=street)
    return SimpleNamespace(city=city, wx=wx, street=street, g1=g1, nx=nx, g2=g2, station=station)


@pytest.fixture
def member(tree):
    user = UserFactory(mobile="13900000001", username="m13900000001")
    return MemberFactory(user=user, union=tree.g1, mobile="13900000001", name="周建新")


@pytest.fixture
def other_member(tree):
    user = UserFactory(mobile="13900000002", username="m13900000002")
    return MemberFactory(user=user, union=tree.g2, mobile="13900000002", name="王芳")


@pytest.fixture
def staff(tree):
    """Grassroots staff of G1 (the member's union)."""
    return StaffFactory(username="g1staff", union=tree.g1)


@pytest.fixture
def district_staff(tree):
    return StaffFactory(username="wxstaff", union=tree.wx)


@pytest.fixture
def city_staff(tree):
    return StaffFactory(username="citystaff", union=tree.city)


@pytest.fixture
def other_staff(tree):
    """Staff of 南浔区: an outsider to everything in 吴兴区 ("charlie")."""
    return StaffFactory(username="nxstaff", union=tree.nx)


@pytest.fixture
def agency(db):
    return AgencyFactory(code="mca", name="民政局")


@pytest.fixture
def agency_key(agency):
    _key, secret = api_key_create(agency=agency, scopes=["members:verify"])
    return secret


@pytest.fixture
def uses_postgres():
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


@pytest.fixture
def uses_redis():
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs Redis (set REDIS_URL)")
