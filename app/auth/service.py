"""Account rules: the only code that writes Teacher rows."""
from __future__ import annotations

import logging

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from .. import db
from ..models import Teacher, utcnow

log = logging.getLogger(__name__)

# Failed logins beyond this many in a row make each further attempt wait longer (doubling).
FREE_FAILURES = 3
MAX_DELAY_SECONDS = 30.0


class AccountError(ValueError):
    """Sign-up refused; the message is shown to the user."""


def normalise_email(email: str) -> str:
    """Emails compare case-insensitively and without surrounding spaces."""
    return email.strip().lower()


def create_teacher(name: str, email: str, password: str) -> Teacher:
    """A new account with a hashed password; refuses an email already in use."""
    email = normalise_email(email)
    if db.session.scalar(select(Teacher).where(Teacher.email == email)) is not None:
        raise AccountError("An account with this email already exists. Log in instead.")
    teacher = Teacher(name=name.strip(), email=email, password_hash=generate_password_hash(password))
    db.session.add(teacher)
    db.session.commit()
    log.info("teacher %s signed up", teacher.id)
    return teacher


_DUMMY: list[str] = []


def _dummy_hash() -> str:
    """A hash to check unknown emails against, made once (hashing is deliberately slow)."""
    if not _DUMMY:
        _DUMMY.append(generate_password_hash("not a password"))
    return _DUMMY[0]


def failure_delay(failed_logins: int, base_seconds: float) -> float:
    """Seconds to wait after a failed login: none for the first few, then doubling up to a cap."""
    if base_seconds <= 0 or failed_logins <= FREE_FAILURES:
        return 0.0
    return min(MAX_DELAY_SECONDS, base_seconds * 2 ** (failed_logins - FREE_FAILURES - 1))


def authenticate(email: str, password: str) -> tuple[Teacher | None, int]:
    """(teacher, 0) on success; (None, failures in a row) otherwise, counting against the account."""
    teacher = db.session.scalar(select(Teacher).where(Teacher.email == normalise_email(email)))
    if teacher is None:
        # Unknown emails are slowed like the others, so timing does not reveal which accounts exist.
        check_password_hash(_dummy_hash(), password)
        return None, FREE_FAILURES + 1
    if not check_password_hash(teacher.password_hash, password):
        teacher.failed_logins = (teacher.failed_logins or 0) + 1
        teacher.last_failed_login_at = utcnow()
        db.session.commit()
        log.warning("failed login for teacher %s (%d in a row)", teacher.id, teacher.failed_logins)
        return None, teacher.failed_logins
    if teacher.failed_logins:
        teacher.failed_logins = 0
        db.session.commit()
    return teacher, 0
