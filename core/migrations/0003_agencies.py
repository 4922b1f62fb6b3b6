"""The four partner agencies of the hardship data exchange (一月一推送数据). More are added in the admin."""

from django.db import migrations

AGENCIES = [
    ("mca", "民政局"),
    ("hrss", "人社局"),
    ("nhsa", "医保局"),
    ("cdpf", "残联"),
]


def create_agencies(apps, schema_editor):
    Agency = apps.get_model("core", "Agency")
    for code, name in AGENCIES:
        Agency.objects.get_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_initial"),
    ]

    # Reversing keeps the rows: they may already hold API keys.
    operations = [migrations.RunPython(create_agencies, migrations.RunPython.noop)]
