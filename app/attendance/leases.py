"""Camera-worker leases: the attendance service's writes to a session's lease columns (a school's set-up).

A camera-worker process claims a running session with one conditional UPDATE (only one process can
win it), then heartbeats; a session whose heartbeat is older than LEASE_SECONDS belongs to nobody and
the next worker claims it (a killed worker's room resumes within LEASE_SECONDS + one poll). Marks stay
single because AttendanceRecord's unique (session, student) holds across processes.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import or_, select, update

from .. import db
from ..models import AttendanceSession
from .service import OPEN

# A heartbeat every HEARTBEAT_SECONDS; three missed and the session is free. 6 + a 1 s poll < the 10 s target.
HEARTBEAT_SECONDS = 2.0
LEASE_SECONDS = 6.0


@dataclass(frozen=True)
class Lease:
    """What a heartbeat found for one of a worker's sessions."""

    session_id: int
    keep: bool  # still ours, running, no Stop pressed
    lost: bool  # another worker holds it now (ours was presumed dead): stop without ending the session


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _free(cutoff: datetime):
    return or_(AttendanceSession.claimed_by.is_(None), AttendanceSession.heartbeat_at.is_(None),
               AttendanceSession.heartbeat_at < cutoff)


def claim_next(worker_id: str, prefixes: tuple[str, ...] = ()) -> int | None:
    """Claim the oldest running session nobody holds (whose source starts with a prefix, if given)."""
    cutoff = _now() - timedelta(seconds=LEASE_SECONDS)
    candidates = db.session.execute(
        select(AttendanceSession.id, AttendanceSession.source)
        .where(AttendanceSession.status == OPEN, AttendanceSession.stop_requested.is_(False), _free(cutoff))
        .order_by(AttendanceSession.id)).all()
    for session_id, source in candidates:
        if prefixes and not source.startswith(prefixes):
            continue
        won = db.session.execute(
            update(AttendanceSession)
            .where(AttendanceSession.id == session_id, AttendanceSession.status == OPEN, _free(cutoff))
            .values(claimed_by=worker_id, heartbeat_at=_now())).rowcount
        db.session.commit()
        if won:
            return session_id
    db.session.commit()  # end the read transaction: the next poll must see new sessions
    return None


def heartbeat(worker_id: str, session_ids: list[int]) -> list[Lease]:
    """Renew this worker's leases; says for each session whether to keep running it."""
    if not session_ids:
        return []
    db.session.execute(
        update(AttendanceSession)
        .where(AttendanceSession.id.in_(session_ids), AttendanceSession.claimed_by == worker_id)
        .values(heartbeat_at=_now()))
    rows = db.session.execute(
        select(AttendanceSession.id, AttendanceSession.claimed_by, AttendanceSession.status,
               AttendanceSession.stop_requested).where(AttendanceSession.id.in_(session_ids))).all()
    db.session.commit()
    found = {row.id: row for row in rows}
    leases = []
    for session_id in session_ids:
        row = found.get(session_id)
        ours = row is not None and row.claimed_by == worker_id
        leases.append(Lease(session_id, keep=ours and row.status == OPEN and not row.stop_requested,
                            lost=row is not None and not ours))
    return leases


def release(worker_id: str, session_ids: list[int]) -> None:
    """Give sessions back at once (a clean shutdown of a worker): the next worker resumes them."""
    if session_ids:
        db.session.execute(
            update(AttendanceSession)
            .where(AttendanceSession.id.in_(session_ids), AttendanceSession.claimed_by == worker_id)
            .values(claimed_by=None, heartbeat_at=None))
        db.session.commit()


def request_stop(session_id: int) -> None:
    """The Stop button in a school's set-up: the worker holding the session sees it at its next heartbeat."""
    db.session.execute(update(AttendanceSession).where(AttendanceSession.id == session_id)
                       .values(stop_requested=True))
    db.session.commit()


def running_on(source: str) -> int | None:
    """The running session on this source text, if any (one camera, one session, across processes)."""
    return db.session.scalar(select(AttendanceSession.id).where(
        AttendanceSession.status == OPEN, AttendanceSession.source == source).limit(1))
