"""Changes staff make in the members admin: a pending application's correction goes through
`application_update` (audited with old and new values); enterprises and stations keep every
version with who changed it."""

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from simple_history.middleware import HistoryRequestMiddleware

from core.api_auth import ApiClient
from core.errors import ServiceError
from core.models import AuditEntry
from core.services import api_key_create
from members.models import MembershipApplication
from members.services import application_reject, application_submit, application_update
from tests.admin_forms import form_data
from tests.factories import EnterpriseFactory, UserFactory, id_number

pytestmark = pytest.mark.django_db


def change(record) -> dict:
    delta = record.diff_against(record.prev_record)
    return {c.field: (c.old, c.new) for c in delta.changes}


@pytest.fixture
def application(tree):
    applicant = UserFactory(mobile="13700000001", username="m13700000001")
    return application_submit(
        applicant=applicant, name="李娜", id_number=id_number(), mobile="13700000001", union=tree.g1,
        privacy_consent=True, employment_form="employee",
    )  # fmt: skip


def test_correcting_a_pending_application_in_the_admin_writes_its_audit_entry(client, staff, application):
    from django.contrib.auth.models import Permission

    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_membershipapplication", "change_membershipapplication"])
    )
    employer = EnterpriseFactory(union=staff.union)
    client.force_login(staff)
    url = f"/admin/members/membershipapplication/{application.pk}/change/"
    resp = client.post(url, form_data(client.get(url), employer=employer.pk, employment_form="courier"))
    assert resp.status_code == 302
    application.refresh_from_db()
    assert (application.employer, application.employment_form) == (employer, "courier")
    entry = AuditEntry.objects.get(action="members.application.changed")
    assert entry.actor == staff
    assert entry.old == {"employer": None, "employment_form": "employee"}
    assert entry.new == {"employer": employer.pk, "employment_form": "courier"}


def test_it_refuses_to_correct_a_decided_application(staff, application):
    application_reject(application=application, actor=staff, reason="资料不全")
    with pytest.raises(ServiceError) as exc:
        application_update(application=application, actor=staff, employer=None, employment_form="courier")
    assert exc.value.code == "not_pending"
    assert MembershipApplication.objects.get(pk=application.pk).employment_form == "employee"
    assert not AuditEntry.objects.filter(action="members.application.changed").exists()


def test_it_refuses_to_correct_an_application_of_another_union(other_staff, application):
    with pytest.raises(ServiceError) as exc:
        application_update(application=application, actor=other_staff, employer=None, employment_form="courier")
    assert exc.value.code == "forbidden"
    assert not AuditEntry.objects.filter(action="members.application.changed").exists()


def test_it_refuses_an_unknown_form_of_employment(staff, application):
    with pytest.raises(ServiceError) as exc:
        application_update(application=application, actor=staff, employer=None, employment_form="astronaut")
    assert exc.value.code == "employment_form"


def test_changing_a_station_records_old_and_new_values_and_who(client, staff, tree):
    from django.contrib.auth.models import Permission

    street_staff = staff
    street_staff.union = tree.street
    street_staff.save()
    street_staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_station", "change_station"]))
    client.force_login(street_staff)
    url = f"/admin/members/station/{tree.station.pk}/change/"
    resp = client.post(url, form_data(client.get(url), hours="08:00-20:00"))
    assert resp.status_code == 302
    latest = tree.station.history.latest()
    assert (change(latest), latest.history_user) == ({"hours": ("09:00-18:00", "08:00-20:00")}, street_staff)


def test_an_outsider_cannot_see_the_history_of_an_enterprise_of_another_union(client, tree, other_staff):
    from django.contrib.auth.models import Permission

    other_staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_enterprise"]))
    firm = EnterpriseFactory(union=tree.g1)
    version = firm.history.latest().history_id
    client.force_login(other_staff)
    assert client.get(f"/admin/members/enterprise/{firm.pk}/history/").status_code == 403
    assert client.get(f"/admin/members/enterprise/{firm.pk}/history/{version}/").status_code == 404


def _served_to_an_api_key(agency, edit):
    """Run `change` inside a request whose user is an API key's client, as DRF leaves it for
    simple-history's middleware (which hands the request to every history being written)."""
    key, _secret = api_key_create(agency=agency, scopes=["members:verify"])
    request = RequestFactory().post("/api/v1/members/verify")
    request.user = ApiClient(key)

    def view(request):
        edit()
        return HttpResponse()

    HistoryRequestMiddleware(view)(request)


def test_a_member_saved_while_an_api_key_is_served_is_recorded_with_no_acting_user(member, agency):
    def edit():
        member.mobile = "13900000077"
        member.save()

    _served_to_an_api_key(agency, edit)
    latest = member.history.latest()
    assert (change(latest), latest.history_user) == ({"mobile": (latest.prev_record.mobile, "13900000077")}, None)


def test_a_union_saved_while_an_api_key_is_served_is_recorded_with_no_acting_user(tree, agency):
    def edit():
        tree.g1.address = "湖州市吴兴区某路1号"
        tree.g1.save()

    _served_to_an_api_key(agency, edit)
    latest = tree.g1.history.latest()
    assert (latest.address, latest.history_user) == ("湖州市吴兴区某路1号", None)
