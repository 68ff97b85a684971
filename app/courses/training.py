"""Training a course's recognizer from its students' enrolled face chips."""
from __future__ import annotations

import logging
import re
import time
from datetime import datetime, timezone
from typing import Any, Callable, Mapping

import cv2
import numpy as np
from sqlalchemy.orm.exc import StaleDataError

from .. import db
from ..models import Course
from ..storage import Storage, storage
from ..vision.calibration import tar_floor
from ..vision.features import FeatureError, get_extractor
from ..vision.recognizer import Recognizer, RecognizerError
from .comparison import compare_feature_kinds
from .service import use_recognizer

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]


class TrainingError(ValueError):
    """Training refused or failed; the message tells the teacher what to do."""


def _no_progress(fraction: float, message: str) -> None:
    log.debug("training %.0f%%: %s", 100 * fraction, message)


def load_course_chips(course: Course, files: Storage) -> tuple[list[np.ndarray], list[int], dict[int, int]]:
    """Readable chips of every student, their labels (student ids) and a count per student."""
    chips: list[np.ndarray] = []
    labels: list[int] = []
    counts: dict[int, int] = {}
    for student in course.students:
        counts[student.id] = 0
        for sample in student.samples:
            if sample.looks_like_id is not None:  # flagged as another student's face: waits for the teacher
                continue
            chip = cv2.imread(str(files.chip_path(student.id, sample.filename)), cv2.IMREAD_COLOR)
            if chip is None:
                log.warning("face image %s of student %s is missing or unreadable", sample.filename, student.id)
                continue
            chips.append(chip)
            labels.append(student.id)
            counts[student.id] += 1
    return chips, labels, counts


def trainable_students(course: Course, counts: dict[int, int], min_images: int) -> set[int]:
    """Students with enough images; refuses (teacher-readable) when fewer than 2 have enough."""
    names = {s.id: s.name for s in course.students}
    ready = {sid for sid, n in counts.items() if n >= min_images}
    if len(ready) < 2:
        short = [f"{names[sid]} ({n})" for sid, n in counts.items() if n < min_images]
        raise TrainingError(
            f"Training needs at least 2 students with at least {min_images} face images each; "
            f"this course has {len(ready)}." + (f" Too few: {', '.join(short)}." if short else "")
            + " Add students and upload their photos or a short video first.")
    return ready


def train_course(course_id: int, config: Mapping[str, Any], progress: Progress = _no_progress) -> dict[str, Any]:
    """Train, save a new version and switch the course to it; on any error the old version stays."""
    course = db.session.get(Course, course_id)
    if course is None:
        raise TrainingError("The course no longer exists.")
    progress(0.05, "Loading enrolled face images")
    files = storage(config)
    chips, labels, counts = load_course_chips(course, files)
    min_images = int(config["RECOGNIZER_MIN_IMAGES"])
    # Students not enrolled yet (a fresh roster) must not block the class: they are left out and listed.
    ready = trainable_students(course, counts, min_images)
    keep = [i for i, label in enumerate(labels) if label in ready]
    chips, labels = [chips[i] for i in keep], [labels[i] for i in keep]
    progress(0.25, f"Computing features for {len(chips)} images")
    started = time.perf_counter()
    try:
        extractor = get_extractor(course.features)
        X = extractor.from_chips(chips)
    except FeatureError as exc:
        raise TrainingError(f"Cannot compute '{course.features}' features: {exc}") from exc
    progress(0.45, f"Training on {len(set(labels))} students (with cross-validation)")
    try:
        rec = Recognizer(target_far=float(config["RECOGNIZER_TARGET_FAR"]), min_images=min_images,
                         min_tar=tar_floor(course.features), feature_pipeline=extractor.pipeline).fit(X, labels)
    except RecognizerError as exc:
        raise TrainingError(str(exc)) from exc
    except ValueError as exc:  # scikit-learn refusing degenerate data (very few images or students)
        log.exception("training course %s failed inside the recognizer", course.id)
        raise TrainingError(
            f"Training could not use these images ({exc}). This usually means too few images or students: "
            f"upload more photos (about {config['RECOGNIZER_RECOMMENDED_IMAGES']} per student) and retrain.") from exc
    seconds = time.perf_counter() - started
    progress(0.6, "Measuring the other feature kind on the same photos")
    comparison = compare_feature_kinds(chips, labels, course.features, rec, seconds, config)
    progress(0.9, "Saving the recognizer")
    version = files.next_version(course.id, course.recognizer_version)
    summary = _summary(course, rec, counts, min_images, int(config["RECOGNIZER_RECOMMENDED_IMAGES"]), version)
    summary["comparison"] = comparison
    try:
        rec.save(files.recognizer_path(course.id, version), {"course_id": course.id, "summary": summary})
    except OSError as exc:  # disk full, read-only or missing data folder: no half-written files stay
        files.discard_unsaved(course.id, version)
        log.error("saving the recognizer of course %s failed: %s", course.id, exc)
        raise TrainingError("The recognizer could not be saved: the server's data folder is full or read-only. "
                            "Ask IT to free space or fix its permissions.") from exc
    try:
        use_recognizer(course, version, summary)
    except StaleDataError:  # the course was deleted while training: keep nothing made from its faces
        db.session.rollback()
        files.delete_recognizers(course_id)
        raise TrainingError("The course was deleted while it was training; nothing was kept.") from None
    except Exception:
        # The database did not make this version current: its files go, so no camera loop picks it up.
        db.session.rollback()
        files.delete_version(course_id, version)
        raise
    files.prune_versions(course_id, version)
    log.info("course %s trained: version %s, %s students, %s images", course.id, version,
             summary["n_students"], summary["n_images"])
    return summary


def _summary(course: Course, rec: Recognizer, counts: dict[int, int], min_images: int, recommended: int,
             version: int) -> dict[str, Any]:
    report = rec.report_
    op = report.operating_point
    names = {s.id: s.name for s in course.students}
    return {
        "version": version,
        "features": course.features,
        "n_students": report.n_classes,
        "n_images": report.n_images,
        "cv_accuracy": report.cv_accuracy,
        "operating_point": {
            "threshold": op.threshold, "method": op.method, "target_far": op.target_far,
            "measured_far": op.measured_far, "true_accept_rate": op.true_accept_rate,
        },
        "min_images": min_images,
        "recommended_images": recommended,
        # Trained, but with fewer images than recommended: may be missed or confused.
        "few_images": [{"student_id": sid, "name": names.get(sid, str(sid)), "images": n}
                       for sid, n in sorted(counts.items()) if min_images <= n < recommended],
        # Left out of training: the camera cannot recognise them until they have enough images.
        "skipped": [{"student_id": sid, "name": names.get(sid, str(sid)), "images": n}
                    for sid, n in sorted(counts.items()) if n < min_images],
        "train_seconds": round(report.train_seconds, 2),
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "message": f"Trained on {report.n_classes} students and {report.n_images} images.",
    }
