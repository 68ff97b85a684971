"""The live loop's recognitions: which tracks, how many per frame (the budget), inline or in a child process."""
from __future__ import annotations

import logging
import os
import time
from typing import Any

import numpy as np

from .embedding_process import EmbeddingProcess
from .face_quality import MIN_FACE_PX, unjudgeable_reason
from .features import FeatureExtractor
from .preprocess import face_chip
from .recognition_budget import RecognitionBudget, pick
from .recognizer import Recognizer
from .tracker import Decision, Track, Tracker

log = logging.getLogger(__name__)

# A child-process job holds about this much work: small enough that the next pick sees fresh
# priorities, large enough that the pipe's overhead (~1 ms a chip) stays negligible.
JOB_SECONDS = 0.3
CLASSROOM_CONFIRM_FRAMES = 2
CLASSROOM_UNKNOWN_FRAMES = 3


class LiveRecognition:
    """Recognises the most urgent fresh tracks of each frame within a time budget, and votes the results."""

    def __init__(self, extractor: FeatureExtractor, budget_ms: float = 0.0, embed_process: bool = False,
                 min_face_px: int = 0) -> None:
        self.extractor = extractor
        self.budget = RecognitionBudget(budget_ms / 1000.0) if budget_ms > 0 else None
        # Pixels cost ~1 ms a face: a process would cost more in copying than it saves.
        self.use_process = embed_process and extractor.name != "pixels" and (os.cpu_count() or 1) >= 2
        self.min_face_px = min_face_px
        self.child: EmbeddingProcess | None = None
        self.recognitions = 0
        self.seconds = 0.0  # time the camera thread spent recognising
        self.in_flight: set[int] = set()
        self.child_cost: float | None = None  # seconds a face in the child, running average
        self.frames_while_embedding = 0  # frames the loop handled while the child worked: the point of it
        self.child_start_seconds: float | None = None  # how long the child took to load its models
        self._child_cpu = (0.0, 0)  # child CPU seconds and faces embedded, kept after the child is closed
        self._judgeable: dict[int, bool] = {}  # track id -> its in-flight chip was good enough to judge

    def start(self) -> None:
        """Start the child process if configured (it loads its models in the background)."""
        if self.use_process and self.child is None:
            self.child = EmbeddingProcess(self.extractor.name)

    def close(self) -> None:
        """Stop the child process."""
        if self.child is not None:
            self.child.close()
            self.child = None

    def too_small(self, track: Track) -> bool:
        """Faces below min_face_px, or below the size whose votes count at all, are tracked but never recognised."""
        # The tracker counts no vote of a face under face_quality.MIN_FACE_PX either way, so embedding
        # one is wasted: a classroom's back row took 8 dlib embeddings each before going behind the rest.
        return min(track.box.width, track.box.height) < max(self.min_face_px, MIN_FACE_PX)

    def step(self, frame: np.ndarray, t: float, tracker: Tracker, fresh_since: float, recognizer: Recognizer,
             blas: Any) -> list[Decision]:
        """Collect finished child work, then recognise what the budget allows on this frame; the decisions made."""
        decisions: list[Decision] = []
        child = self._child_ready()
        if child is not None:
            self.frames_while_embedding += child.busy
            decisions += self._collect(child, tracker, recognizer, blas)
        if self.child is not None and child is None:
            # Still starting (~1.5 s under load): embedding here meanwhile would load the models in this
            # thread and stall detection for longer than the wait.
            return decisions
        candidates = [tr for tr in list(tracker.tracks.values())
                      if tr.last_seen >= fresh_since and tr.id not in self.in_flight
                      and not self.too_small(tr) and tracker.wants_recognition(tr)]
        if not candidates:
            return decisions
        if child is not None:
            if child.can_take():
                chosen = pick(candidates, max(1, int(JOB_SECONDS / max(self.child_cost or 0.1, 1e-3))))
                chips = [face_chip(frame, tr.box) for tr in chosen]
                if child.submit((t, [tr.id for tr in chosen], chips), chips):
                    self.in_flight.update(tr.id for tr in chosen)
                    self._judgeable.update((tr.id, judgeable(frame, tr)) for tr in chosen)
            return decisions
        n = self.budget.allowance() if self.budget else len(candidates)
        chosen = pick(candidates, n)
        if not chosen:
            return decisions
        start = time.perf_counter()
        chips = [face_chip(frame, tr.box) for tr in chosen]
        vectors = self.extractor.from_chips(chips)
        flags = [judgeable(frame, tr) for tr in chosen]
        decisions += self._vote(tracker, recognizer, blas, vectors, chosen, chips, flags, t)
        spent = time.perf_counter() - start
        self.seconds += spent
        if self.budget:
            self.budget.spend(len(chosen), spent)
        return decisions

    def _collect(self, child: EmbeddingProcess, tracker: Tracker, recognizer: Recognizer, blas: Any) -> list[Decision]:
        """Vote the vectors of every finished child job (each voted at its own frame's time)."""
        decisions: list[Decision] = []
        while (done := child.poll()) is not None:
            (job_t, ids, chips), vectors, seconds = done
            self.in_flight.difference_update(ids)
            per_face = seconds / max(1, len(ids))
            self.child_cost = per_face if self.child_cost is None else 0.7 * self.child_cost + 0.3 * per_face
            self._child_cpu = (child.cpu_seconds, child.faces)
            flags = [self._judgeable.pop(i, True) for i in ids]
            if vectors is not None:
                tracks = [tracker.tracks.get(i) for i in ids]
                decisions += self._vote(tracker, recognizer, blas, vectors, tracks, chips, flags, job_t)
        return decisions

    def _child_ready(self) -> EmbeddingProcess | None:
        """The child process once it has loaded its models; until then (or if it failed) work stays inline."""
        child = self.child
        if child is None:
            return None
        child.check()
        if child.failed:
            log.warning("embedding process unavailable (%s); embedding in the camera thread", child.failed)
            self.close()
            self.in_flight.clear()
            return None
        if child.ready and self.child_start_seconds is None:
            self.child_start_seconds = child.ready_seconds
        return child if child.ready else None

    def stats(self, tracks: list[Track]) -> dict[str, Any]:
        """Recognition work of the session and where it ran; how many of these tracks are too small to judge."""
        return {"too_small": sum(1 for tr in tracks if self.too_small(tr)), "recognitions": self.recognitions,
                "recognition_seconds": round(self.seconds, 2), "embed_process": self.child_start_seconds is not None,
                "embed_process_start_seconds": self.child_start_seconds,
                "embed_cpu_ms_per_face": round(1000 * self._child_cpu[0] / self._child_cpu[1], 1) if self._child_cpu[1] else None,
                "frames_while_embedding": self.frames_while_embedding}

    def _vote(self, tracker: Tracker, recognizer: Recognizer, blas: Any, vectors: np.ndarray,
              tracks: list[Track | None], chips: list[np.ndarray], flags: list[bool],
              t: float) -> list[Decision]:
        """Predict a batch and give each live track its vote (with its feature vector for the re-checks)."""
        # One BLAS thread: the detector already uses the other core (FACTS: 4.9 ms -> 1.2 ms).
        with blas.limit(limits=1, user_api="blas"):
            predictions = recognizer.predict(vectors)
        self.recognitions += len(tracks)
        decisions = []
        threshold = recognizer.operating_point_.threshold
        for track, prediction, chip, vector, ok in zip(tracks, predictions, chips, vectors, flags):
            if track is not None and track.id in tracker.tracks:  # it may have expired meanwhile
                decision = tracker.vote(track, prediction, t, chip, vector, ok, threshold)
                if decision is not None:
                    decisions.append(decision)
        return decisions


def votes_needed(view: str, extractor: FeatureExtractor, confirm: int, unknown: int) -> tuple[int, int]:
    """(agreeing votes to mark, unknown votes to report) for this view and feature kind."""
    if view == "classroom" and extractor.name != "pixels":
        # A seated class under costly embeddings (dlib ~100-160 ms a face on the spare core): 24
        # students x 3 votes + 6 strangers x 5 = 102 embeddings do not fit in 10 s; 2 and 3 do (66).
        # Still two agreeing frames with a two-thirds majority: one wrong embedding marks nobody.
        return min(confirm, CLASSROOM_CONFIRM_FRAMES), min(unknown, CLASSROOM_UNKNOWN_FRAMES)
    return confirm, unknown


def judgeable(frame: np.ndarray, track: Track) -> bool:
    """Whether the track's face on this frame is good enough to count as evidence (a small blurry bystander is not)."""
    return unjudgeable_reason(frame, track.box) is None
