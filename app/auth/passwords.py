"""Password rules: a minimum length and not one of the commonly used passwords shipped beside this file.

common_passwords.txt was made once from zxcvbn 4.5.0 (MIT): the first 10,000 entries of
FREQUENCY_LISTS["passwords"] with 8+ characters (`pip download zxcvbn==4.5.0`, then filter).
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

MIN_PASSWORD_LENGTH = 8
COMMON_FILE = Path(__file__).with_name("common_passwords.txt")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list, lower-cased (read once)."""
    lines = COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    lowered = password.lower()
    # "Password1" and "password!" are the same guess with a digit or sign appended.
    if lowered in common_passwords() or lowered.rstrip("0123456789!.?") in common_passwords():
        return "This password is one of the most commonly used ones; choose another (a few words work well)."
    return None
