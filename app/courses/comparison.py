"""Both feature kinds measured on the same photos in one training job, so the teacher can choose with numbers."""
from __future__ import annotations

import logging
import time
from typing import Any, Mapping

import numpy as np

from ..vision.calibration import tar_floor
from ..vision.features import FEATURE_KINDS, FeatureError, get_extractor
from ..vision.recognizer import Recognizer, RecognizerError

log = logging.getLogger(__name__)


def kind_numbers(rec: Recognizer, seconds: float) -> dict[str, Any]:
    """What the course page shows for one feature kind: cross-validated accuracy and the stranger check."""
    report = rec.report_
    op = report.operating_point
    return {"cv_accuracy": report.cv_accuracy, "method": op.method, "target_far": op.target_far,
            "measured_far": op.measured_far, "true_accept_rate": op.true_accept_rate,
            "seconds": round(seconds, 2)}


def compare_feature_kinds(chips: list[np.ndarray], labels: list[int], in_use: str, rec: Recognizer,
                          seconds: float, config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """{kind: numbers} for the kind in use (already trained) and every other kind, trained on the same chips.

    Another kind that cannot run here, or cannot train on these photos, gets {"error": reason} instead:
    the comparison is advice, and never fails the training of the kind in use.
    """
    result = {in_use: kind_numbers(rec, seconds)}
    for kind in FEATURE_KINDS:
        if kind == in_use:
            continue
        start = time.perf_counter()
        try:
            X = get_extractor(kind).from_chips(chips)
            other = Recognizer(target_far=float(config["RECOGNIZER_TARGET_FAR"]),
                               min_images=int(config["RECOGNIZER_MIN_IMAGES"]), min_tar=tar_floor(kind)).fit(X, labels)
        except (FeatureError, RecognizerError, ValueError) as exc:
            log.warning("comparison with %s features failed: %s", kind, exc)
            result[kind] = {"error": str(exc)}
            continue
        result[kind] = kind_numbers(other, time.perf_counter() - start)
    return result
