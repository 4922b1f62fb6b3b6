"""Every field of the portal's models has a label of its own, in Chinese: the admin's forms, lists,
filters and history pages never show a raw field name (`created_by`) or English (`created by`)."""

import re

from django.apps import apps
from django.utils import translation

PROJECT_APPS = ("core", "members", "hardship", "vouchers", "workshops", "feedback")
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def unlabelled_fields() -> list[str]:
    found = []
    with translation.override("zh-hans"):
        for model in apps.get_models():
            if model._meta.app_label not in PROJECT_APPS:
                continue
            for field in model._meta.concrete_fields:
                label = str(field.verbose_name)
                if field.name == "id" and label == "ID":
                    continue  # Django's own, and a historical table's copy of it
                if label in (field.name, field.name.replace("_", " ")) or not CHINESE.search(label):
                    found.append(f"{model._meta.label}.{field.name}: {label!r}")
    return found


def test_every_field_of_every_model_has_a_chinese_label():
    assert unlabelled_fields() == []


def test_the_history_tables_label_their_own_columns(client):
    from vouchers.models import Campaign

    history = Campaign.history.model
    with translation.override("zh-hans"):
        labels = {f.name: str(f.verbose_name) for f in history._meta.fields}
    assert labels["history_user"] == "修改人"
    assert labels["history_date"] == "修改时间"
    assert labels["created_by"] == "创建人"


def test_every_model_of_the_admin_and_its_fields_are_named_in_chinese():
    """The admin's own third-party lists (django-axes' logins, Django's groups) included."""
    from django.contrib import admin

    found = []
    with translation.override("zh-hans"):
        for model in admin.site._registry:
            opts = model._meta
            for name in (opts.verbose_name, opts.verbose_name_plural):
                if not CHINESE.search(str(name)):
                    found.append(f"{opts.label}: {name}")
            for field in opts.concrete_fields:
                label = str(field.verbose_name)
                if not (field.name == "id" and label == "ID") and not CHINESE.search(label):
                    found.append(f"{opts.label}.{field.name}: {label!r}")
    assert found == []
