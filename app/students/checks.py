"""Checks of a new face against what a course already holds: the same image twice, or another student's face."""
from __future__ import annotations

import logging
from typing import Any, Mapping

import cv2
import numpy as np

from .. import db
from ..models import Course, Student
from ..pipeline import load_recognizer
from ..vision.face_policy import SIGNATURE_SIZE, chip_signature, duplicate_index
from ..storage import Storage
from ..vision.features import FeatureError, get_extractor
from ..vision.recognizer import Recognizer, RecognizerError

log = logging.getLogger(__name__)

DUPLICATE = "the same face image is already enrolled"


class DuplicateGuard:
    """Signatures of a student's stored chips plus those accepted in this upload."""

    def __init__(self, files: Storage, student_id: int) -> None:
        signatures = []
        folder = files.student_dir(student_id)
        for path in sorted(folder.glob("*.png")) if folder.is_dir() else []:
            chip = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if chip is not None:
                signatures.append(chip_signature(chip))
        self._signatures = np.array(signatures, np.float32).reshape(-1, SIGNATURE_SIZE * SIGNATURE_SIZE)

    def is_duplicate(self, chip: np.ndarray) -> bool:
        """True when chip is an image already held; otherwise remembers it."""
        signature = chip_signature(chip)
        if duplicate_index(signature, self._signatures) is not None:
            return True
        self._signatures = np.vstack([self._signatures, signature[None, :]])
        return False


class IdentityCheck:
    """The course's trained recognizer, asked whether new faces look like another enrolled student."""

    def __init__(self, student_id: int, config: Mapping[str, Any]) -> None:
        self.student_id = student_id
        self._recognizer: Recognizer | None = None
        self._extractor = None
        student = db.session.get(Student, student_id)
        course: Course | None = student.course if student else None
        if course is None or not course.recognizer_version:
            return
        kind = (course.recognizer_summary or {}).get("features", course.features)
        try:
            self._recognizer = load_recognizer(config, course.id, course.recognizer_version)
            self._extractor = get_extractor(kind)
        except (RecognizerError, FeatureError, OSError, ValueError) as exc:
            # No check is better than a refused upload: the recognizer is only advisory here.
            log.warning("identity check off for course %s: %s", course.id, exc)
            self._recognizer = None
        self._students = {s.id for s in course.students}

    def looks_like(self, chips: list[np.ndarray]) -> list[int | None]:
        """Per chip, the id of another student of the course the recognizer names it as, else None."""
        if self._recognizer is None or not chips:
            return [None] * len(chips)
        predictions = self._recognizer.predict(self._extractor.from_chips(chips))
        return [p.label if p.label is not None and p.label != self.student_id and p.label in self._students
                else None for p in predictions]
