"""Fisherfaces recognizer: PCA -> LDA -> linear SVM, with calibrated unknown-person rejection."""
from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.preprocessing import normalize
from sklearn.svm import SVC
from threadpoolctl import threadpool_limits

from .files import sha256_of
from .sidecar import RecognizerError, pipeline_mismatch, read_sidecar, trained_pipeline
from .types import Prediction

log = logging.getLogger(__name__)

FORMAT_VERSION = 3


@dataclass
class OperatingPoint:
    """How unknown faces are rejected: the threshold and how it was chosen."""

    threshold: float
    # "impostor-far": held-out students played the strangers; "genuine-tar": only two students, so
    # 95% of held-out genuine faces are accepted; "none": too few images to hold any out.
    method: str
    target_far: float
    measured_far: float | None
    true_accept_rate: float | None
    n_impostor_scores: int
    n_genuine_scores: int


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


@dataclass
class _Core:
    """One fitted PCA -> LDA -> SVM chain plus the class means its unknown score compares with."""

    pca: PCA
    lda: LinearDiscriminantAnalysis
    svm: SVC
    fisher_center: np.ndarray
    fisher_means: np.ndarray  # (n_classes, n_classes - 1): truncated Fisher space
    full_center: np.ndarray
    full_means: np.ndarray  # (n_classes, pca_components): every discriminant direction


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

    # ----- training -------------------------------------------------------------------------
    def fit(self, X: np.ndarray, y: np.ndarray | list) -> "Recognizer":
        """Learn from vectors X (n, d) and labels y (n,); validates, fits, then calibrates rejection."""
        # One BLAS thread: beside a camera loop or other work, more threads oversubscribe the cores
        # (an ORL fit took 141 s with default threads vs 14 s with one under load, bench/RESULTS.md).
        with threadpool_limits(limits=self.blas_threads):
            return self._fit(X, y)

    def _fit(self, X: np.ndarray, y: np.ndarray | list) -> "Recognizer":
        start = time.perf_counter()
        X, y = self._validate(X, y)
        self.classes_ = np.unique(y)
        self.n_features_in_ = X.shape[1]
        self.core_ = self._fit_core(X, y)
        genuine, cv_accuracy = self._genuine_scores(X, y) if self.calibrate else (np.array([]), None)
        impostor = self._impostor_scores(X, y) if self.calibrate else np.array([])
        self.operating_point_ = self._choose_threshold(genuine, impostor)
        counts = {str(c): int(n) for c, n in zip(*np.unique(y, return_counts=True))}
        self.report_ = TrainingReport(
            n_classes=len(self.classes_),
            n_images=len(y),
            images_per_class=counts,
            cv_accuracy=cv_accuracy,
            operating_point=self.operating_point_,
            train_seconds=time.perf_counter() - start,
            pca_components=int(self.core_.pca.n_components_),
        )
        return self

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

    def _fit_core(self, X: np.ndarray, y: np.ndarray) -> _Core:
        """PCA (Fisherfaces rule: at most n - c components) -> shrinkage LDA -> linear SVM."""
        classes = np.unique(y)
        if len(y) <= len(classes):
            raise RecognizerError("need more images than students to learn what varies within a face")
        k = max(1, min(self.pca_components, len(y) - len(classes), X.shape[1]))
        # Randomized SVD: full SVD of thousands of 16,384-d images does not finish (see FACTS).
        pca = PCA(n_components=k, svd_solver="randomized" if k < min(X.shape) // 2 else "full",
                  random_state=self.random_state).fit(X)
        P = pca.transform(X)
        # Shrinkage keeps the within-class scatter invertible with few images per student.
        lda = LinearDiscriminantAnalysis(solver="eigen", shrinkage="auto").fit(P, y)
        Z = lda.transform(P)
        fisher_center, fisher_means = _class_directions(Z, y, classes)
        # The SVM sees directions, not lengths: centred, unit-norm Fisher features (ORL closed-set
        # 97.5% -> 98.4%, LFW 57.1% -> 58.3%, bench/RESULTS.md).
        svm = SVC(kernel="linear", C=self.svm_c).fit(normalize(Z - fisher_center), y)
        full_center, full_means = _class_directions(P @ lda.scalings_, y, classes)
        return _Core(pca, lda, svm, fisher_center, fisher_means, full_center, full_means)

    def _genuine_scores(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float | None]:
        """Scores and accuracy on enrollment images held out of training (stratified folds)."""
        rng = np.random.default_rng(self.random_state)
        _, counts = np.unique(y, return_counts=True)
        n_folds = int(min(self.calibration_folds, counts.min()))
        if n_folds < 2:
            return np.array([]), None
        fold = np.empty(len(y), dtype=int)
        for c in np.unique(y):
            idx = rng.permutation(np.where(y == c)[0])
            fold[idx] = np.arange(len(idx)) % n_folds
        scores, correct = [], []
        for f in range(n_folds):
            train, test = fold != f, fold == f
            if train.sum() <= len(np.unique(y[train])):
                continue  # one image per student left to learn from: nothing to cross-validate
            core = self._fit_core(X[train], y[train])
            labels, s = _score(core, X[test])
            correct.extend(labels == y[test])
            scores.extend(s[labels == y[test]])
        return np.asarray(scores), (float(np.mean(correct)) if correct else None)

    def _impostor_scores(self, X: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Scores of students left out of training: stand-ins for strangers at the door."""
        classes = np.unique(y)
        if len(classes) < 3:
            return np.array([])  # leaving one out would leave a single class: LDA needs two
        rng = np.random.default_rng(self.random_state + 1)
        order = rng.permutation(classes)
        # Every fold must leave at least two students to train on: leave-one-out for small courses.
        n_folds = len(classes) if len(classes) <= self.calibration_folds else self.calibration_folds
        scores = []
        for f in range(n_folds):
            held = np.isin(y, order[f::n_folds])
            if (~held).sum() <= len(np.unique(y[~held])):
                continue
            core = self._fit_core(X[~held], y[~held])
            scores.extend(_score(core, X[held])[1])
        return np.asarray(scores)

    def _choose_threshold(self, genuine: np.ndarray, impostor: np.ndarray) -> OperatingPoint:
        if len(impostor):
            threshold = float(np.quantile(impostor, 1.0 - self.target_far, method="higher"))
            return OperatingPoint(
                threshold=threshold,
                method="impostor-far",
                target_far=self.target_far,
                measured_far=float(np.mean(impostor > threshold)),
                true_accept_rate=float(np.mean(genuine > threshold)) if len(genuine) else None,
                n_impostor_scores=len(impostor),
                n_genuine_scores=len(genuine),
            )
        # Two students: no one can play the stranger. Accept 95% of held-out genuine faces instead.
        threshold = float(np.quantile(genuine, 0.05)) if len(genuine) else -1.0
        return OperatingPoint(
            threshold=threshold,
            method="genuine-tar" if len(genuine) else "none",
            target_far=self.target_far,
            measured_far=None,
            true_accept_rate=float(np.mean(genuine >= threshold)) if len(genuine) else None,
            n_impostor_scores=0,
            n_genuine_scores=len(genuine),
        )

    # ----- prediction -----------------------------------------------------------------------
    def predict(self, X: np.ndarray) -> list[Prediction]:
        """One Prediction per row of X (n, d); label None when the score is below the threshold."""
        X = self._check_input(X)
        if len(X) == 0:
            return []
        labels, scores = _score(self.core_, X)
        threshold = self.operating_point_.threshold
        return [
            Prediction(label=_py(label) if score > threshold else None, score=float(score), best_label=_py(label))
            for label, score in zip(labels, scores)
        ]

    def scores(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Best label and its similarity for each row, before the unknown threshold is applied."""
        return _score(self.core_, self._check_input(X))

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
        path = Path(path).with_suffix(".joblib")
        path.parent.mkdir(parents=True, exist_ok=True)
        state = {k: v for k, v in self.__dict__.items()}
        tmp = path.with_name(path.name + ".tmp")
        joblib.dump(state, tmp)
        sidecar = {
            "format_version": FORMAT_VERSION,
            "sklearn_version": sklearn.__version__,
            "numpy_version": np.__version__,
            "vector_length": int(self.n_features_in_),
            "feature_pipeline": self.feature_pipeline,
            "labels": [_py(c) for c in self.classes_],
            "params": self.get_params(),
            "operating_point": self.operating_point_.__dict__,
            "report": _report_dict(self.report_),
            "sha256": sha256_of(tmp),
            "metadata": metadata or {},
        }
        side_tmp = path.with_suffix(".json.tmp")
        side_tmp.write_text(json.dumps(sidecar, indent=2))
        os.replace(tmp, path)
        os.replace(side_tmp, path.with_suffix(".json"))
        return path

    @classmethod
    def load(cls, path: str | Path, feature_pipeline: str | None = None) -> "Recognizer":
        """Load our own saved recognizer; refuses files it did not write, from other versions, or
        (when feature_pipeline is given) trained on vectors made by another feature pipeline."""
        path = Path(path).with_suffix(".joblib")
        meta = read_sidecar(path)
        if feature_pipeline is not None:
            reason = pipeline_mismatch(meta, feature_pipeline)
            if reason:
                raise RecognizerError(reason)
        if meta.get("format_version") != FORMAT_VERSION or meta.get("sklearn_version") != sklearn.__version__:
            raise RecognizerError(
                f"recognizer {path.name} was made by another version (scikit-learn {meta.get('sklearn_version')}); retrain"
            )
        if meta.get("sha256") != sha256_of(path):
            raise RecognizerError(f"recognizer {path.name} does not match its checksum; retrain")
        obj = cls.__new__(cls)
        obj.__dict__.update(joblib.load(path))
        obj.feature_pipeline = trained_pipeline(meta)  # older files predate the parameter
        return obj

    def get_params(self) -> dict[str, Any]:
        """Constructor parameters, as scikit-learn estimators report them."""
        return {k: getattr(self, k) for k in (
            "pca_components", "svm_c", "target_far", "min_images", "calibration_folds", "random_state", "calibrate",
            "blas_threads", "feature_pipeline")}


def _class_directions(Z: np.ndarray, y: np.ndarray, classes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre of the training projections and each class's mean unit direction from it."""
    center = Z.mean(axis=0)
    Zn = normalize(Z - center)
    return center, normalize(np.vstack([Zn[y == c].mean(axis=0) for c in classes]))


def _score(core: _Core, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The SVM's label, and a similarity in [-1, 1] to that label's mean direction.

    The similarity averages the cosine in the Fisher space the SVM sees (n_classes - 1 dims) with
    the cosine over every discriminant direction. The first alone collapses with few students
    (4-8 students: strangers score like enrolled faces); the second keeps them apart. Measured in
    bench/RESULTS.md ("unknown score").
    """
    P = core.pca.transform(X)
    Zn = normalize(core.lda.transform(P) - core.fisher_center)
    labels = core.svm.predict(Zn)
    cols = np.searchsorted(core.svm.classes_, labels)
    rows = np.arange(len(labels))
    fisher = (Zn @ core.fisher_means.T)[rows, cols]
    full = (normalize(P @ core.lda.scalings_ - core.full_center) @ core.full_means.T)[rows, cols]
    return labels, (fisher + full) / 2.0


def _py(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def _report_dict(report: TrainingReport) -> dict[str, Any]:
    data = dict(report.__dict__)
    data["operating_point"] = report.operating_point.__dict__
    return data
