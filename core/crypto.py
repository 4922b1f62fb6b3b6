"""Personal data at rest: Fernet encryption and a keyed blind index for lookups."""

import hashlib
import hmac
import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.PII_ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:  # a wrong key is a deployment error, never silently ignored
        raise ValueError("cannot decrypt personal data: wrong PII_ENCRYPTION_KEYS") from exc


def blind_index(value: str, *, purpose: str) -> str:
    """A keyed, deterministic digest: equal inputs match, the input cannot be read back."""
    key = f"{settings.PII_INDEX_KEY}:{purpose}".encode()
    return hmac.new(key, value.strip().upper().encode(), hashlib.sha256).hexdigest()


class EncryptedTextField(models.TextField):
    """A text column stored as a Fernet token. It cannot be filtered on; use a blind index."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))


class EncryptedJSONField(models.TextField):
    """A JSON document stored as one Fernet token (for health, income and disability data)."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return json.loads(decrypt(value))

    def get_prep_value(self, value):
        if value is None:
            return value
        return encrypt(json.dumps(value, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder))

    def to_python(self, value):
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value
