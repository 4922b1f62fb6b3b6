"""What applies to the whole city is changed only by city-level staff, and every change is audited.

Every registered admin is either scoped to the staff member's unions (`ScopedAdminMixin`), or
city-wide (`CityWideSettingsMixin`: district and grassroots staff see it read-only), or closed to
all but superusers, or read-only for everyone. A new admin that lets district staff change rows
of the whole city fails `test_it_lets_district_staff_change_only_rows_of_their_unions`.
"""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.test import RequestFactory

from core.admin_kit import CityWideSettingsMixin, ScopedAdminMixin
from core.history import _records as history_models
from core.models import AuditEntry
from hardship.models import CycleRun, HardshipSettings, LocalStandard, ScreeningRule
from tests.admin_forms import form_data
from tests.factories import StaffFactory
from vouchers.models import Campaign, CampaignTemplate, Merchant, Settlement, VoucherSettings

# Each city-wide admin; a change of its rows is kept in the row's history (old and new values, who)
# or, for rows that change only through actions, audited by the service the action runs.
CITY_WIDE = {
    ScreeningRule: "history and hardship.screening_rule.changed",
    HardshipSettings: "history and hardship.settings.changed",
    LocalStandard: "history",
    CycleRun: "hardship.cycle.queued",
    Merchant: "history and vouchers.merchant.*",
    CampaignTemplate: "history",
    Campaign: "history and vouchers.campaign.*",
    Settlement: "vouchers.settlement.*",
    VoucherSettings: "history",
    Group: "history",
}


def everything(user):
    """Every permission there is: what limits this staff member is their place in the tree alone."""
    user.user_permissions.add(*Permission.objects.all())
    return type(user).objects.get(pk=user.pk)


def request_of(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


@pytest.fixture
def supervisor(tree):
    """A district (county) supervisor holding every permission."""
    return everything(StaffFactory(username="wxsuper", union=tree.wx))


@pytest.fixture
def city(tree):
    return everything(StaffFactory(username="citysuper", union=tree.city))


def test_it_lets_district_staff_change_only_rows_of_their_unions(supervisor):
    request = request_of(supervisor)
    unscoped = []
    for model, model_admin in admin.site._registry.items():
        if isinstance(model_admin, ScopedAdminMixin):
            continue
        if model_admin.has_add_permission(request) or model_admin.has_change_permission(request):
            unscoped.append(model._meta.label)
    assert unscoped == [], "city-wide rows district staff may change: add CityWideSettingsMixin"


@pytest.mark.parametrize("model", CITY_WIDE, ids=lambda m: m._meta.label)
def test_it_keeps_a_city_wide_admin_read_only_below_the_city(model, supervisor, city, staff):
    model_admin = admin.site._registry[model]
    assert isinstance(model_admin, CityWideSettingsMixin)
    for user in (supervisor, everything(staff)):
        request = request_of(user)
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)
        assert model_admin.has_view_permission(request)  # read-only, not hidden
    assert model_admin.has_view_permission(request_of(city))
    if "history" in CITY_WIDE[model]:
        assert model in history_models  # each version kept, with old and new values and who


def test_it_refuses_a_district_supervisor_switching_off_a_screening_rule(client, supervisor):
    rule = ScreeningRule.objects.create(name="医疗自付", kind="medical_oop_12m", threshold_amount=30000)
    client.force_login(supervisor)
    url = f"/admin/hardship/screeningrule/{rule.pk}/change/"

    resp = client.post(url, {"name": rule.name, "kind": rule.kind, "threshold_amount": "30000"})  # unticked: off

    assert resp.status_code == 403
    rule.refresh_from_db()
    assert rule.is_active is True
    assert not AuditEntry.objects.filter(action="hardship.screening_rule.changed").exists()


def test_it_lets_city_staff_switch_off_a_screening_rule_audited(client, city):
    rule = ScreeningRule.objects.create(name="医疗自付", kind="medical_oop_12m", threshold_amount=30000)
    client.force_login(city)
    url = f"/admin/hardship/screeningrule/{rule.pk}/change/"

    resp = client.post(url, form_data(client.get(url), is_active=False))

    assert resp.status_code == 302
    rule.refresh_from_db()
    assert rule.is_active is False
    entry = AuditEntry.objects.get(action="hardship.screening_rule.changed", object_id=str(rule.pk))
    assert (entry.old, entry.new, entry.actor) == ({"is_active": True}, {"is_active": False}, city)


def test_it_refuses_a_district_supervisor_running_the_city_wide_cycle(client, supervisor, city):
    client.force_login(supervisor)
    assert client.get("/admin/hardship/cyclerun/run/").status_code == 403
    assert client.post("/admin/hardship/cyclerun/run/", {"period": "2025-03"}).status_code == 403
    assert not CycleRun.objects.exists()
    assert "hardship/cyclerun/run/" not in client.get("/admin/hardship/cyclerun/").content.decode()

    client.force_login(city)
    assert client.get("/admin/hardship/cyclerun/run/").status_code == 200


def test_it_refuses_the_screening_rule_service_below_the_city(supervisor):
    from core.errors import ServiceError
    from hardship.services import screening_rule_save

    rule = ScreeningRule.objects.create(name="医疗自付", kind="medical_oop_12m", threshold_amount=30000)
    rule.is_active = False
    with pytest.raises(ServiceError) as refused:
        screening_rule_save(rule=rule, actor=supervisor)
    assert refused.value.code == "city_level_only"
    assert ScreeningRule.objects.get(pk=rule.pk).is_active is True


def test_it_refuses_a_district_supervisor_building_or_paying_settlements(client, supervisor):
    client.force_login(supervisor)
    assert client.get("/admin/vouchers/settlement/build/").status_code == 403
    assert client.post("/admin/vouchers/settlement/build/", {"month": "2025-03"}).status_code == 403


# Admins whose rows staff change only through actions and pages that run audited services (each
# writes an audit entry with the old and new values), not through a change form kept in a history.
AUDITED_BY_SERVICES = {
    "members.MembershipApplication": "members.application.* (approve, reject)",
    "members.Transfer": "members.transfer.*",
    "members.MutualAidEnrolment": "members.mutual_aid.enrolled / .withdrawn",
    "members.CorrectionRequest": "members.correction.requested / .answered (done or refused, with the reply)",
    "hardship.Aid": "hardship.aid.*",
    "hardship.Candidate": "hardship.candidate.*",
    "hardship.Case": "hardship.case.* and the case's timeline",
    "hardship.WarmthBatch": "hardship.warmth.*",
    "hardship.PaymentBatch": "hardship.payment_batch.* (drawn up, sent, confirmed, cancelled)",
    "hardship.Referral": "hardship.referral.* (sent, answered, withdrawn)",
    "core.ApiKey": "core.api_key.created / .revoked (superusers only)",
    "axes.AccessAttempt": "lock-out state of logins (superusers only)",
    "axes.AccessLog": "lock-out state of logins (superusers only)",
    "axes.AccessFailureLog": "lock-out state of logins (superusers only)",
}


def test_every_admin_that_changes_rows_keeps_their_history_with_labels_or_audits_them(db):
    from simple_history.admin import SimpleHistoryAdmin

    from core.admin_kit import ScopedHistoryMixin
    from tests.factories import UserFactory

    request = request_of(UserFactory(username="root", is_staff=True, is_superuser=True))
    missing = []
    for model, model_admin in admin.site._registry.items():
        if isinstance(model_admin, SimpleHistoryAdmin):
            # The history page shows each change field by field, labels and values in Chinese.
            assert isinstance(model_admin, ScopedHistoryMixin), model._meta.label
            assert model in history_models, model._meta.label
        elif model_admin.has_change_permission(request) and model._meta.label not in AUDITED_BY_SERVICES:
            missing.append(model._meta.label)
    assert missing == [], "rows changed in the admin with neither a history nor an audited service"
