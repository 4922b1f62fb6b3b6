"""Personal data at rest: Fernet encryption and a keyed blind index for lookups.

Bulk data (agencies' monthly pushes: millions of rows) uses AES-GCM tokens instead (`aead_*`,
`AeadTextField`, `AeadJSONField`): about five times faster than Fernet. Their key is derived
from the same `PII_ENCRYPTION_KEYS`, so one setting rotates both; `decrypt` reads either kind.
"""

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Callable
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from core.parsing import id_number_normalize


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.PII_ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    if token.startswith(AEAD_PREFIX):
        return aead_decrypt(token)
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:  # a wrong key is a deployment error, never silently ignored
        raise ValueError("cannot decrypt personal data: wrong PII_ENCRYPTION_KEYS") from exc


# --- AES-GCM ---------------------------------------------------------------------------------
# A token is "a1:" + base64url(key id (4 bytes) + nonce (12 bytes) + ciphertext with its tag).
# "a1" is the format's version. Each PII_ENCRYPTION_KEYS entry gives one AES-256 key through
# HKDF-SHA256; the first encrypts, and a token names the key that decrypts it by its id.
AEAD_PREFIX = "a1:"
_AEAD_INFO = b"unionportal.pii.aes-gcm.v1"


@lru_cache(maxsize=4)
def _aead_keys(keys: tuple[str, ...]) -> tuple[tuple[bytes, AESGCM], ...]:
    out = []
    for key in keys:
        secret = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_AEAD_INFO).derive(
            base64.urlsafe_b64decode(key.encode())
        )
        out.append((hashlib.sha256(b"key-id:" + secret).digest()[:4], AESGCM(secret)))
    return tuple(out)


def aead_keys() -> tuple[tuple[bytes, AESGCM], ...]:
    return _aead_keys(tuple(settings.PII_ENCRYPTION_KEYS))


def aead_encrypt_bytes(data: bytes, *, aad: bytes | None = None) -> bytes:
    """Encrypt with the first key: key id + nonce + ciphertext (with its tag). `aad` binds context."""
    key_id, aes = aead_keys()[0]
    nonce = os.urandom(12)
    return key_id + nonce + aes.encrypt(nonce, data, aad)


def aead_decrypt_bytes(blob: bytes, *, aad: bytes | None = None) -> bytes:
    key_id = blob[:4]
    for kid, aes in aead_keys():
        if kid == key_id:
            try:
                return aes.decrypt(blob[4:16], blob[16:], aad)
            except InvalidTag as exc:
                raise ValueError("cannot decrypt personal data: the ciphertext was altered") from exc
    raise ValueError("cannot decrypt personal data: its key is not in PII_ENCRYPTION_KEYS")


def aead_encryptor() -> Callable[[str], str]:
    """A function encrypting text to an AES-GCM token, for loops over many values."""
    key_id, aes = aead_keys()[0]
    seal, nonce_of, b64 = aes.encrypt, os.urandom, base64.urlsafe_b64encode

    def encrypt_text(value: str) -> str:
        nonce = nonce_of(12)
        return AEAD_PREFIX + b64(key_id + nonce + seal(nonce, value.encode(), None)).decode()

    return encrypt_text


def aead_encrypt(value: str) -> str:
    return aead_encryptor()(value)


def aead_decrypt(token: str) -> str:
    if not token.startswith(AEAD_PREFIX):
        raise ValueError("not an AES-GCM token")
    return aead_decrypt_bytes(base64.urlsafe_b64decode(token[len(AEAD_PREFIX) :].encode())).decode()


def blind_index(value: str, *, purpose: str) -> str:
    """A keyed, deterministic digest: equal inputs match, the input cannot be read back."""
    key = f"{settings.PII_INDEX_KEY}:{purpose}".encode()
    return hmac.new(key, value.strip().upper().encode(), hashlib.sha256).hexdigest()


def blind_indexer(*, purpose: str) -> Callable[[str], str]:
    """`blind_index` as a function for loops over many values (the same digests, computed faster)."""
    template = hmac.new(f"{settings.PII_INDEX_KEY}:{purpose}".encode(), digestmod=hashlib.sha256)

    def index(value: str) -> str:
        digest = template.copy()
        digest.update(value.strip().upper().encode())
        return digest.hexdigest()

    return index


def id_number_index(number: str) -> str:
    """The blind index that finds a person by ID number (members, hardship rows, vouchers).

    Taken on the normalised number: a fullwidth copy of an ID number finds the same person.
    """
    return blind_index(id_number_normalize(number), purpose="id_number")


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


class AeadTextField(EncryptedTextField):
    """`EncryptedTextField` written as AES-GCM tokens (for bulk data); reads Fernet tokens too."""

    def get_prep_value(self, value):
        value = models.TextField.get_prep_value(self, value)
        if value is None or value == "":
            return value
        return aead_encrypt(str(value))


class AeadJSONField(EncryptedJSONField):
    """`EncryptedJSONField` written as one AES-GCM token (for bulk data); reads Fernet tokens too."""

    def get_prep_value(self, value):
        if value is None:
            return value
        return aead_encrypt(json.dumps(value, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder))
