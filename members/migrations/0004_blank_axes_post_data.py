"""django-axes kept the whole POST data of failed logins, the join form's ID number, real name and
mobile included (AXES_SENSITIVE_PARAMETERS now masks them). Blank what it already stored."""

from django.db import migrations


def blank_stored_form_data(apps, schema_editor):
    AccessAttempt = apps.get_model("axes", "AccessAttempt")
    AccessAttempt.objects.exclude(post_data="", get_data="").update(post_data="", get_data="")


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0003_member_union_newest"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [migrations.RunPython(blank_stored_form_data, migrations.RunPython.noop)]
