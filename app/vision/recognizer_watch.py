"""A running camera loop picks up a retrained recognizer: the version its owner says the database made current."""
from __future__ import annotations

import logging
import time
from pathlib import Path

from .recognizer import Recognizer, RecognizerError

log = logging.getLogger(__name__)

RELOAD_CHECK_SECONDS = 2.0


class RecognizerWatch:
    """Holds the version the camera service says is current (use()); newer() loads it once if it fits the features.

    The database decides which version is current (app/courses/service.py use_recognizer), so a version
    saved but never committed is never loaded; the worker does not look at the folder itself.
    """

    def __init__(self, path: Path | None, dimension: int, session_id: int) -> None:
        self.path, self.dimension, self.session_id = path, dimension, session_id
        self._wanted = path
        self._next_check = 0.0
        self._skipped: Path | None = None

    def use(self, path: Path) -> None:
        """This version is current now (called from another thread; the loop loads it at its next check)."""
        self._wanted = path

    def newer(self) -> Recognizer | None:
        """The recognizer use() named, once, or None (unchanged, not loadable yet, or other features)."""
        now = time.monotonic()
        wanted = self._wanted
        if wanted is None or wanted in (self.path, self._skipped) or now < self._next_check:
            return None
        self._next_check = now + RELOAD_CHECK_SECONDS
        try:
            candidate = Recognizer.load(wanted)
        except (RecognizerError, OSError, ValueError) as exc:
            log.warning("session %s: cannot reload recognizer yet: %s", self.session_id, exc)
            return None
        if candidate.n_features_in_ != self.dimension:
            # Retrained with other features (the course switched): keep the one that fits
            # this loop's extractor until the session is restarted.
            self._skipped = wanted
            log.warning("session %s: %s uses other features; restart the session to use it", self.session_id,
                        wanted.name)
            return None
        self.path = wanted
        log.info("session %s: reloaded recognizer %s", self.session_id, wanted)
        return candidate
