"""Development keys: created once in an ignored local file, never used in production."""

import secrets
from pathlib import Path

from cryptography.fernet import Fernet

GENERATORS = {
    "SECRET_KEY": lambda: secrets.token_urlsafe(50),
    "PII_ENCRYPTION_KEYS": lambda: Fernet.generate_key().decode(),
    "PII_INDEX_KEY": lambda: secrets.token_urlsafe(32),
}


def ensure(path: Path, names: list[str]) -> None:
    """Append a fresh value for each missing name to `path` (mode 600)."""
    existing = path.read_text() if path.exists() else ""
    present = {line.split("=", 1)[0] for line in existing.splitlines() if "=" in line}
    lines = [f"{name}={GENERATORS[name]()}" for name in names if name not in present]
    if not lines:
        return
    header = "" if existing else "# Development keys made by unionportal/devkeys.py. Not for production.\n"
    with path.open("a") as fh:
        fh.write(header + "\n".join(lines) + "\n")
    path.chmod(0o600)
