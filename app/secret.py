"""The SECRET_KEY fallback: generated once, kept in instance/, never committed."""
from __future__ import annotations

import os
import secrets
from pathlib import Path


def load_or_create_secret_key(instance_dir: str) -> str:
    """Read instance/secret_key, creating it (mode 600) on first use."""
    path = Path(instance_dir) / "secret_key"
    if path.is_file():
        key = path.read_text().strip()
        if key:
            return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
