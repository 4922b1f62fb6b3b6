"""The history of configuration rows (django-simple-history): old and new values, and who changed them.

Rows whose changes matter but that no service owns (screening rules, local standards, settings,
voucher templates, merchants, staff groups and their permissions, staff logins) keep every version
in a historical table; the admin shows it on the row's history page. The acting user comes from
simple-history's `HistoryRequestMiddleware` (or the admin, see below).

`History` is simple-history's `HistoricalRecords` with three additions:

- a save that touches only fields the history leaves out (a login's `last_login`) writes no record;
- `record_if`: a model may keep the history of some rows only (staff logins, not workers');
  changes to others made through the admin are still recorded (`history_record_write`);
- the acting user is a user (a staff member, a merchant's staff, a worker) or nobody: an API
  request's client (an agency's or a merchant's key) is not a user, and is not recorded here (the
  services it calls write their audit entries);
- a change made from the other side of a many-to-many field (``group.user_set.add(user)``) is
  recorded on the rows whose history keeps the field (simple-history 3.13 would record it on the
  wrong model).

The admin saves a row, then its many-to-many fields, which simple-history alone records as up to
three versions (the row, the links removed, the links added): `core.admin_kit.OneVersionPerSaveMixin`
holds those back and writes one version after both, with `history_record_write`.
"""

from django.contrib.auth import get_user_model
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from simple_history.models import HistoricalRecords

# The column of a history page in django-simple-history's template, which has no Chinese for it:
# named here so that the portal's catalog keeps its translation.
gettext_noop("Changes")

_records: dict[type[models.Model], "History"] = {}

# simple-history's own columns have no label of their own: named here, in the portal's catalog.
HISTORY_LABELS = {
    "history_id": _("version"),
    "m2m_history_id": _("version"),
    "history_date": _("changed at"),
    "history_change_reason": _("reason for the change"),
    "history_type": _("kind of change"),
    "history_user": _("changed by"),
    "history": _("version of the row"),
}
# The sides of a many-to-many link whose model is not loaded yet when its history table is made.
LINK_LABELS = {"user": _("user"), "campaign": _("campaign"), "campaigntemplate": _("campaign template")}


def _label_fields(model: type[models.Model]) -> None:
    """Give each field of a historical table that has no label of its own a translated one: the
    history columns theirs, a many-to-many link's two sides their model's name."""
    for field in model._meta.fields:
        if str(field.verbose_name) != field.name.replace("_", " "):
            continue  # a label of its own (copied from the tracked row)
        if field.name in HISTORY_LABELS:
            field.verbose_name = HISTORY_LABELS[field.name]
        elif field.is_relation and not isinstance(field.remote_field.model, str):
            field.verbose_name = field.remote_field.model._meta.verbose_name
        elif field.name in LINK_LABELS:
            field.verbose_name = LINK_LABELS[field.name]


def acting_user(request=None, **kwargs):
    """The user of the request being served, if it is a logged-in user (not an API key's client)."""
    user = getattr(request, "user", None)
    return user if isinstance(user, get_user_model()) and user.is_authenticated else None


class History(HistoricalRecords):
    def __init__(self, *args, record_if=None, get_user=acting_user, **kwargs):
        super().__init__(*args, get_user=get_user, **kwargs)
        self.record_if = record_if

    def create_history_model(self, model, inherited):
        history_model = super().create_history_model(model, inherited)
        _label_fields(history_model)
        return history_model

    def create_history_m2m_model(self, model, through_model):
        history_model = super().create_history_m2m_model(model, through_model)
        _label_fields(history_model)
        return history_model

    def finalize(self, sender, **kwargs):
        super().finalize(sender, **kwargs)
        if sender is self.cls:
            _records[sender] = self

    def wanted(self, instance) -> bool:
        return self.record_if is None or bool(self.record_if(instance))

    def post_save(self, instance, created, using=None, update_fields=None, **kwargs):
        if update_fields is not None and set(update_fields) <= set(self.excluded_fields):
            return
        if self.wanted(instance):
            super().post_save(instance, created, using=using, **kwargs)

    def post_delete(self, instance, using=None, **kwargs):
        if self.wanted(instance):
            super().post_delete(instance, using=using, **kwargs)

    def m2m_changed(self, instance, action, attr, pk_set, reverse, **kwargs):
        if action not in ("post_add", "post_remove"):
            if action == "post_clear" and not reverse and self.wanted(instance):
                super().m2m_changed(instance, action, attr, pk_set, reverse, **kwargs)
            return
        if not reverse:
            if self.wanted(instance):
                super().m2m_changed(instance, action, attr, pk_set, reverse, **kwargs)
            return
        # `instance` is on the other side (a group whose users changed): record each row of ours.
        for obj in self.cls._default_manager.filter(pk__in=pk_set or ()):
            if self.wanted(obj):
                super().m2m_changed(obj, action, attr, pk_set, False, **kwargs)


def history_record_write(obj: models.Model, *, user, created: bool = False) -> None:
    """Write one version of `obj` as it is now (its many-to-many fields included), by `user`."""
    records = _records[type(obj)]
    obj._history_user = user
    records.create_historical_record(obj, "+" if created else "~")
