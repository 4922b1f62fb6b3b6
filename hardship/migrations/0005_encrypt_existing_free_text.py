"""Encrypt the free text stored in clear before 0004 (candidate notes, category-override reasons,
the timeline's text, referral notes and agencies' answers).

The columns are read and written with plain SQL: the fields now decrypt what they read, and these
rows are not encrypted yet. A value that already decrypts is left alone, so running it again (or
after a partial run) changes nothing. Reversing decrypts the values again, before 0004 turns the
columns back into plain text.
"""

from django.db import migrations

# (model, column)
COLUMNS = (
    ("candidate", "note"),
    ("case", "category_override_reason"),
    ("caseevent", "text"),
    ("referral", "note"),
    ("referral", "outcome_note"),
)
CHUNK = 1000


def _is_token(value: str) -> bool:
    from core.crypto import decrypt

    try:
        decrypt(value)
    except Exception:  # not a token of ours: text stored in clear
        return False
    return True


def _rewrite(apps, schema_editor, convert) -> None:
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    for model_name, column in COLUMNS:
        table = quote(apps.get_model("hardship", model_name)._meta.db_table)
        col = quote(column)
        last = 0
        while True:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT id, {col} FROM {table} WHERE id > %s AND {col} <> '' ORDER BY id LIMIT {CHUNK}",
                    [last],
                )
                rows = cursor.fetchall()
                if not rows:
                    break
                last = rows[-1][0]
                changes = [(new, pk) for pk, value in rows if (new := convert(value)) is not None]
                if changes:
                    cursor.executemany(f"UPDATE {table} SET {col} = %s WHERE id = %s", changes)


def encrypt_rows(apps, schema_editor):
    from core.crypto import encrypt

    _rewrite(apps, schema_editor, lambda value: None if _is_token(value) else encrypt(value))


def decrypt_rows(apps, schema_editor):
    from core.crypto import decrypt

    _rewrite(apps, schema_editor, lambda value: decrypt(value) if _is_token(value) else None)


class Migration(migrations.Migration):
    dependencies = [
        ("hardship", "0004_encrypt_free_text"),
    ]

    operations = [migrations.RunPython(encrypt_rows, decrypt_rows, elidable=False)]
