"""Fisherfaces recognizer: PCA -> LDA -> linear classifier, with calibrated unknown-person rejection."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
from threadpoolctl import threadpool_limits

from .calibration import OperatingPoint, choose_threshold, genuine_scores, impostor_scores
from .classifier import PCA_MAX_ROWS, FisherCore, fit_core, fit_pca, pca_size, score, score_projected
from .recognizer_store import load_state, save_state
from .sidecar import RecognizerError
from .types import Prediction

log = logging.getLogger(__name__)

__all__ = ["OperatingPoint", "Recognizer", "RecognizerError", "TrainingReport"]
_Core = FisherCore  # the name format-3 files pickled the fitted chain under
# From this many students on, one group of them is kept out of the PCA to play the strangers (see
# _stand_ins); below, each held-out group gets its own PCA (5 refits: 42 s at 200 x 20 pixels).
STAND_IN_MIN_CLASSES = 50


@dataclass
class TrainingReport:
    """What fit() learnt about the data, shown to the teacher after training."""

    n_classes: int
    n_images: int
    images_per_class: dict[str, int]
    cv_accuracy: float | None
    operating_point: OperatingPoint
    train_seconds: float
    pca_components: int
    extras: dict[str, Any] = field(default_factory=dict)


class Recognizer:
    """Names faces from (n, d) vectors; says None for faces not like any enrolled student."""

    def __init__(
        self,
        pca_components: int = 100,
        svm_c: float = 1.0,
        target_far: float = 0.01,
        min_images: int = 2,
        calibration_folds: int = 5,
        random_state: int = 0,
        calibrate: bool = True,
        blas_threads: int = 1,
        feature_pipeline: str = "",
        classifier: str = "auto",
        pca_max_rows: int = PCA_MAX_ROWS,
        min_tar: float = 0.9,
        max_far: float = 0.1,
    ) -> None:
        self.pca_components = pca_components
        self.svm_c = svm_c
        self.target_far = target_far
        self.min_images = min_images
        self.calibration_folds = calibration_folds
        self.random_state = random_state
        self.calibrate = calibrate
        self.blas_threads = blas_threads
        # Name/version of the code that made the vectors (FeatureExtractor.pipeline): a recognizer is
        # only valid with vectors made exactly as at training time.
        self.feature_pipeline = feature_pipeline
        # "auto" (svc up to classifier.SVC_MAX_CLASSES students, ridge above), "ridge" (one-vs-rest),
        # "svc" (one-vs-one, the first build's) or "nearest" class mean.
        self.classifier = classifier
        self.pca_max_rows = pca_max_rows
        # Calibration floor: accept at least min_tar of held-out enrolled faces, unless that lets in
        # more than max_far of the held-out students playing strangers (calibration.choose_threshold).
        self.min_tar = min_tar
        self.max_far = max_far

    # ----- training -------------------------------------------------------------------------
    def fit(self, X: np.ndarray, y: np.ndarray | list) -> "Recognizer":
        """Learn from vectors X (n, d) and labels y (n,); validates, fits, then calibrates rejection."""
        # One BLAS thread by default: beside a camera loop or other work, more threads oversubscribe
        # the cores (an ORL fit took 141 s with default threads vs 14 s with one under load).
        with threadpool_limits(limits=self.blas_threads):
            return self._fit(X, y)

    def _fit(self, X: np.ndarray, y: np.ndarray | list) -> "Recognizer":
        start = time.perf_counter()
        X, y = self._validate(X, y)
        self.classes_ = np.unique(y)
        self.n_features_in_ = X.shape[1]
        k = pca_size(len(y), len(self.classes_), X.shape[1], self.pca_components)
        # A large course calibrates on one group of students the PCA never sees (see _stand_ins).
        large = len(self.classes_) >= STAND_IN_MIN_CLASSES
        stand_ins = self._stand_ins(y) if self.calibrate and large else None
        among = None if stand_ins is None else np.flatnonzero(~stand_ins)
        pca = fit_pca(X, k, self.random_state, self.pca_max_rows, among)
        P = pca.transform(X)
        self.core_ = fit_core(pca, P, y, self.classifier, self.svm_c)
        genuine, impostor, cv_accuracy = np.array([]), np.array([]), None
        if self.calibrate:
            genuine, cv_accuracy = genuine_scores(y, self._fold_fitter(X, P, y, refit_pca=False),
                                                  self.calibration_folds, np.random.default_rng(self.random_state))
            if stand_ins is None:
                impostor = impostor_scores(y, self._fold_fitter(X, P, y, refit_pca=True), self.calibration_folds,
                                           np.random.default_rng(self.random_state + 1))
            else:
                fit = self._fold_fitter(X, P, y, refit_pca=False)
                impostor = fit(np.flatnonzero(~stand_ins), y[~stand_ins])(np.flatnonzero(stand_ins))[1]
        self.operating_point_ = choose_threshold(genuine, impostor, self.target_far, self.min_tar, self.max_far)
        counts = {str(c): int(n) for c, n in zip(*np.unique(y, return_counts=True))}
        self.report_ = TrainingReport(
            n_classes=len(self.classes_),
            n_images=len(y),
            images_per_class=counts,
            cv_accuracy=cv_accuracy,
            operating_point=self.operating_point_,
            train_seconds=time.perf_counter() - start,
            pca_components=int(pca.n_components_),
        )
        return self

    def _fold_fitter(self, X: np.ndarray, P: np.ndarray, y: np.ndarray, refit_pca: bool) -> Callable:
        """How a calibration fold is refitted: rows -> a scorer of other rows.

        Photos held out of enrolled students reuse the course's PCA (its leading components, as many
        as the Fisherfaces rule allows the fold): refitting the PCA per fold was most of the training
        time at 1,000 students. Students held out to play strangers must not shape the PCA, though:
        a basis that already describes their faces made them score lower than real strangers (ORL,
        6 students: calibration strangers median 0.37, real strangers 0.62; bench/RESULTS.md).
        """

        def fit(rows: np.ndarray, labels: np.ndarray) -> Callable:
            k = pca_size(len(labels), len(np.unique(labels)), P.shape[1], P.shape[1])
            if refit_pca:
                pca = fit_pca(X[rows], k, self.random_state, self.pca_max_rows)
                core = fit_core(pca, pca.transform(X[rows]), labels, self.classifier, self.svm_c)
                return lambda other: score(core, X[other])
            core = fit_core(self.core_.pca, P[rows, :k], labels, self.classifier, self.svm_c)
            return lambda other: score_projected(core, P[other, :k])

        return fit

    def _stand_ins(self, y: np.ndarray) -> np.ndarray:
        """Rows of the students who play strangers in a large course (one calibration fold of them).

        Refitting the PCA for every held-out group cost ~10 s each at 1,000 students x 20 photos;
        instead the course's PCA basis is fitted without this group (a fifth of the students), so
        their faces are as new to it as a stranger's; 200 of 1,000 students give 4,000 scores.
        """
        classes = np.random.default_rng(self.random_state + 1).permutation(np.unique(y))
        return np.isin(y, classes[:len(classes) // self.calibration_folds])

    def _validate(self, X: np.ndarray, y: np.ndarray | list) -> tuple[np.ndarray, np.ndarray]:
        X = np.asarray(X, dtype=np.float32)
        y = np.asarray(y)
        if X.ndim != 2 or X.shape[0] != y.shape[0]:
            raise RecognizerError(f"expected X of shape (n, d) matching {y.shape[0]} labels, got {X.shape}")
        if X.shape[1] < 2:
            raise RecognizerError(f"face vectors must have more than one value, got length {X.shape[1]}")
        if not np.all(np.isfinite(X)):
            raise RecognizerError("face vectors contain NaN or infinite values")
        labels, counts = np.unique(y, return_counts=True)
        if len(labels) < 2:
            raise RecognizerError(
                f"need at least 2 students with face images to train, found {len(labels)}; enroll another student"
            )
        short = [str(label) for label, n in zip(labels, counts) if n < self.min_images]
        if short:
            raise RecognizerError(
                f"students with fewer than {self.min_images} usable images: {', '.join(short)}; add more photos"
            )
        return X, y

    # ----- prediction -----------------------------------------------------------------------
    def predict(self, X: np.ndarray) -> list[Prediction]:
        """One Prediction per row of X (n, d); label None when the score is below the threshold."""
        X = self._check_input(X)
        if len(X) == 0:
            return []
        labels, scores = score(self.core_, X)
        threshold = self.operating_point_.threshold
        return [
            Prediction(label=_py(label) if s > threshold else None, score=float(s), best_label=_py(label))
            for label, s in zip(labels, scores)
        ]

    def scores(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Best label and its similarity for each row, before the unknown threshold is applied."""
        return score(self.core_, self._check_input(X))

    def _check_input(self, X: np.ndarray) -> np.ndarray:
        if not hasattr(self, "core_"):
            raise RecognizerError("recognizer is not trained yet")
        X = np.asarray(X, dtype=np.float32)
        if X.ndim == 1:
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise RecognizerError(f"expected face vectors of length {self.n_features_in_}, got shape {X.shape}")
        return X

    # ----- persistence ----------------------------------------------------------------------
    def save(self, path: str | Path, metadata: dict[str, Any] | None = None) -> Path:
        """Write <path>.joblib and its JSON sidecar atomically; returns the joblib path."""
        report = dict(self.report_.__dict__, operating_point=self.report_.operating_point.__dict__)
        return save_state(dict(self.__dict__), path, {
            "vector_length": int(self.n_features_in_),
            "feature_pipeline": self.feature_pipeline,
            "labels": [_py(c) for c in self.classes_],
            "params": self.get_params(),
            "operating_point": self.operating_point_.__dict__,
            "report": report,
            "metadata": metadata or {},
        })

    @classmethod
    def load(cls, path: str | Path, feature_pipeline: str | None = None) -> "Recognizer":
        """Load our own saved recognizer; refuses files it did not write, from other versions, or
        (when feature_pipeline is given) trained on vectors made by another feature pipeline."""
        state, meta = load_state(path, feature_pipeline)
        obj = cls.__new__(cls)
        obj.__dict__.update(cls().__dict__)  # parameters added since the file was written get defaults
        if meta.get("format_version") == 3:
            state.setdefault("classifier", "svc")
        obj.__dict__.update(state)
        return obj

    def get_params(self) -> dict[str, Any]:
        """Constructor parameters, as scikit-learn estimators report them."""
        return {k: getattr(self, k) for k in (
            "pca_components", "svm_c", "target_far", "min_images", "calibration_folds", "random_state", "calibrate",
            "blas_threads", "feature_pipeline", "classifier", "pca_max_rows", "min_tar", "max_far")}


def _py(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value
