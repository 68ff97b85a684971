"""A running camera loop picks up a retrained recognizer: the newest complete version beside the one in use."""
from __future__ import annotations

import logging
import re
import time
from pathlib import Path

from .recognizer import Recognizer, RecognizerError

log = logging.getLogger(__name__)

RELOAD_CHECK_SECONDS = 2.0


class RecognizerWatch:
    """Checks every few seconds for a newer v<N>.joblib that fits the loop's features; load() returns it once."""

    def __init__(self, path: Path | None, dimension: int, session_id: int) -> None:
        self.path, self.dimension, self.session_id = path, dimension, session_id
        self._mtime = _mtime(path)
        self._next_check = 0.0
        self._skipped: tuple[Path, float] | None = None

    def newer(self) -> Recognizer | None:
        """A retrained recognizer written (atomically) over or beside the watched file, or None."""
        now = time.monotonic()
        if self.path is None or now < self._next_check:
            return None
        self._next_check = now + RELOAD_CHECK_SECONDS
        newest = newest_version(self.path)
        mtime = _mtime(newest)
        if mtime is None or (newest == self.path and mtime == self._mtime) or (newest, mtime) == self._skipped:
            return None
        try:
            candidate = Recognizer.load(newest)
        except (RecognizerError, OSError, ValueError) as exc:
            log.warning("session %s: cannot reload recognizer yet: %s", self.session_id, exc)
            return None
        if candidate.n_features_in_ != self.dimension:
            # Retrained with other features (the course switched): keep the one that fits
            # this loop's extractor until the session is restarted.
            self._skipped = (newest, mtime)
            log.warning("session %s: %s uses other features; restart the session to use it", self.session_id, newest.name)
            return None
        self.path, self._mtime = newest, mtime
        log.info("session %s: reloaded recognizer %s", self.session_id, newest)
        return candidate


def newest_version(path: Path) -> Path:
    """The highest v<N>.joblib beside path whose JSON sidecar exists (save() writes the sidecar last)."""
    best, best_version = path, _version(path)
    if best_version is None:
        return path
    for candidate in path.parent.glob("v*.joblib"):
        version = _version(candidate)
        if version is not None and version > best_version and candidate.with_suffix(".json").is_file():
            best, best_version = candidate, version
    return best


def _version(path: Path) -> int | None:
    match = re.fullmatch(r"v(\d+)", path.stem)
    return int(match.group(1)) if match else None


def _mtime(path: Path | None) -> float | None:
    try:
        return path.stat().st_mtime_ns if path is not None else None
    except OSError:
        return None
