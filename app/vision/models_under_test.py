"""Adapters that turn recognizers into the evaluation protocol's fit/score callables."""
from __future__ import annotations

from typing import Callable

import numpy as np

from .calibration import tar_floor
from .recognizer import Recognizer


def rollcall_fit_score(target_far: float = 0.01, calibrate: bool = True, features: str | None = None) -> Callable:
    """Rollcall's Recognizer as a FitScore; the predictor carries its calibrated threshold.

    features: the kind the vectors are, so the calibration floor is the one training uses for that kind
    (calibration.tar_floor); None keeps the Recognizer's own default."""
    floor = {} if features is None else {"min_tar": tar_floor(features)}

    def fit_score(X: np.ndarray, y: np.ndarray) -> Callable:
        rec = Recognizer(target_far=target_far, calibrate=calibrate, **floor).fit(X, y)

        def predict(P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return rec.scores(P)

        if calibrate:
            predict.threshold = rec.operating_point_.threshold  # type: ignore[attr-defined]
        return predict

    return fit_score
