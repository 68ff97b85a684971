"""Events the camera worker puts on its queue for the recorder: plain dataclasses, no ORM objects."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from .types import FaceBox


@dataclass(frozen=True)
class Marked:
    """A student confirmed in N agreeing frames; snapshot is the best chip (192, 192, 3) BGR."""

    session_id: int
    student_id: int
    score: float
    first_seen: datetime
    snapshot: np.ndarray | None
    track_id: int
    delay_seconds: float  # from the face's first appearance to the decision (source clock)
    source_t: float = 0.0  # when it was decided, on the source clock (seconds)
    box: FaceBox | None = None
    review_reason: str | None = None  # e.g. a flickering track: listed on the teacher's review page


@dataclass(frozen=True)
class UnknownSeen:
    """A judgeable face that matched nobody for several frames; one event per track.

    `stranger` numbers the session's strangers (tracks of one person share it); only a
    `new_stranger` event may lead to an email.
    """

    session_id: int
    track_id: int
    score: float
    seen_at: datetime
    snapshot: np.ndarray | None
    email: bool
    stranger: int = 0
    new_stranger: bool = True
    source_t: float = 0.0
    box: FaceBox | None = None


@dataclass(frozen=True)
class StatusChanged:
    """The camera went running / offline / ended / stopped / failed."""

    session_id: int
    status: str
    message: str


@dataclass(frozen=True)
class Finished:
    """The worker ended; carries its final counters."""

    session_id: int
    status: str  # ended | failed
    message: str
    frames: int
    frames_analysed: int
