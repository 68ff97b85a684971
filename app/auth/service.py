"""Account rules: the only code that writes Teacher rows."""
from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from .. import db
from ..models import Teacher, new_session_token, utcnow

log = logging.getLogger(__name__)

SIGNUP_REFUSED = ("This account could not be created. If you already have an account with this email, "
                  "log in instead.")


class Busy(RuntimeError):
    """Too many password checks are running; the caller answers 429 at once instead of queueing."""


class AccountError(ValueError):
    """Sign-up refused; the message is shown to the user."""


def normalise_email(email: str) -> str:
    """Emails compare case-insensitively and without surrounding spaces."""
    return email.strip().lower()


def create_teacher(name: str, email: str, password: str, max_checks: int = 4) -> Teacher:
    """A new account with a hashed password; refuses an email already in use."""
    email = normalise_email(email)
    # Hash first in every case, so a taken email answers as slowly as a free one.
    with _hash_slot(max_checks):
        password_hash = generate_password_hash(password)
    if db.session.scalar(select(Teacher).where(Teacher.email == email)) is not None:
        raise AccountError(SIGNUP_REFUSED)  # neutral: does not say "this email has an account"
    teacher = Teacher(name=name.strip(), email=email, password_hash=password_hash)
    db.session.add(teacher)
    try:
        db.session.commit()
    except IntegrityError:  # the same email signed up twice at once
        db.session.rollback()
        raise AccountError(SIGNUP_REFUSED) from None
    log.info("teacher %s signed up", teacher.id)
    return teacher


_DUMMY: list[str] = []
# Each hash is deliberately slow (scrypt: ~0.1 s of CPU and 32 MB). Unbounded, a flood spread over many
# addresses fills every server thread with hashing; past max_checks at once we refuse at once (429).
_running = [0]
_running_lock = threading.Lock()


@contextmanager
def _hash_slot(max_checks: int) -> Iterator[None]:
    with _running_lock:
        if _running[0] >= max_checks:
            raise Busy("too many password checks are running at once")
        _running[0] += 1
    try:
        yield
    finally:
        with _running_lock:
            _running[0] -= 1


def _dummy_hash() -> str:
    """A hash to check unknown emails against, made once (hashing is deliberately slow)."""
    if not _DUMMY:
        _DUMMY.append(generate_password_hash("not a password"))
    return _DUMMY[0]


def end_sessions(teacher: Teacher) -> None:
    """Invalidate every session cookie of this teacher (logout): copies of the old cookie stop working."""
    teacher.session_token = new_session_token()
    db.session.commit()


def authenticate(email: str, password: str, max_checks: int = 4) -> Teacher | None:
    """The teacher for a correct email and password, else None (failures are counted on the account).

    Flooding is answered by the rate limits (auth/limits.py) with a 429, never by waiting here.
    """
    row = db.session.execute(select(Teacher.id, Teacher.password_hash)
                             .where(Teacher.email == normalise_email(email))).first()
    # The slow hash runs with no DB connection held (a flood once exhausted the pool this way).
    db.session.rollback()
    with _hash_slot(max_checks):
        # An unknown email is checked against a dummy hash, so it takes as long as a wrong password.
        correct = check_password_hash(row.password_hash if row else _dummy_hash(), password)
    if row is None:
        return None
    teacher = db.session.get(Teacher, row.id)
    if teacher is None:  # deleted meanwhile
        return None
    if not correct:
        teacher.failed_logins = (teacher.failed_logins or 0) + 1
        teacher.last_failed_login_at = utcnow()
        db.session.commit()
        log.warning("failed login for teacher %s (%d in a row)", teacher.id, teacher.failed_logins)
        return None
    if teacher.failed_logins or not teacher.session_token:
        teacher.failed_logins = 0
        teacher.session_token = teacher.session_token or new_session_token()
        db.session.commit()
    return teacher


def set_absence_digest(teacher_id: int, enabled: bool) -> None:
    """Turn the end-of-session absence email on or off for a teacher."""
    teacher = db.session.get(Teacher, teacher_id)
    if teacher is not None:
        teacher.absence_digest = enabled
        db.session.commit()


def set_timezone(teacher_id: int, name: str, *, keep_chosen: bool = False) -> str:
    """Set the zone times are shown in; keep_chosen leaves a zone already set alone. Returns the zone in use."""
    teacher = db.session.get(Teacher, teacher_id)
    if teacher is None:
        return name
    if not (keep_chosen and teacher.timezone):
        teacher.timezone = name
        db.session.commit()
    return teacher.timezone
