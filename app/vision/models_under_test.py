"""Adapters that turn recognizers into the evaluation protocol's fit/score callables."""
from __future__ import annotations

from typing import Callable

import numpy as np

from .recognizer import Recognizer


def rollcall_fit_score(target_far: float = 0.01, calibrate: bool = True) -> Callable:
    """Rollcall's Recognizer as a FitScore; the predictor carries its calibrated threshold."""

    def fit_score(X: np.ndarray, y: np.ndarray) -> Callable:
        rec = Recognizer(target_far=target_far, calibrate=calibrate).fit(X, y)

        def predict(P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            return rec.scores(P)

        if calibrate:
            predict.threshold = rec.operating_point_.threshold  # type: ignore[attr-defined]
        return predict

    return fit_score
