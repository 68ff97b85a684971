"""Closed- and open-set accuracy protocols for a recognizer over a folder of faces."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np


# A model under test: fit on (X, y), then return (labels, scores) for probes; higher = more sure.
FitScore = Callable[[np.ndarray, np.ndarray], Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]]


@dataclass
class SplitResult:
    """One seed's outcome."""

    closed_accuracy: float | None
    dir_at_far1: float | None
    dir_at_far5: float | None
    train_seconds: float
    predict_ms_per_face: float
    calibrated_far: float | None = None
    calibrated_dir: float | None = None


def split_closed(labels: np.ndarray, train_per_class: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Per identity, train_per_class random images to train and the rest to test."""
    train, test = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        train.extend(idx[:train_per_class])
        test.extend(idx[train_per_class:])
    return np.asarray(train, int), np.asarray(test, int)


def split_open(
    labels: np.ndarray, train_per_class: int, unknown_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Known identities split as closed; a fraction of identities is never enrolled (all probes)."""
    classes = rng.permutation(np.unique(labels))
    n_unknown = int(round(len(classes) * unknown_fraction))
    n_unknown = min(max(n_unknown, 1), len(classes) - 2)
    unknown = np.isin(labels, classes[:n_unknown])
    train, test = split_closed(np.where(unknown, -1, labels), train_per_class, rng)
    train = train[~unknown[train]]
    test = test[~unknown[test]]
    return train, test, np.flatnonzero(unknown)


def detection_identification_rate(correct: np.ndarray, known_scores: np.ndarray,
                                  unknown_scores: np.ndarray, far: float) -> float:
    """Known probes named right and scored above the threshold that lets in `far` of unknowns."""
    threshold = np.quantile(unknown_scores, 1.0 - far, method="higher")
    return float(np.mean(correct & (known_scores > threshold)))


def run_split(fit_score: FitScore, X: np.ndarray, y: np.ndarray, train: np.ndarray,
              test: np.ndarray, unknown: np.ndarray | None) -> SplitResult:
    """Train on one split and measure it."""
    t0 = time.perf_counter()
    predict = fit_score(X[train], y[train])
    train_seconds = time.perf_counter() - t0
    probes = np.concatenate([test, unknown]) if unknown is not None else test
    t0 = time.perf_counter()
    labels, scores = predict(X[probes])
    ms = (time.perf_counter() - t0) * 1000 / max(1, len(probes))
    labels, scores = np.asarray(labels), np.asarray(scores, float)
    n = len(test)
    correct = labels[:n] == y[test]
    if unknown is None:
        return SplitResult(float(np.mean(correct)), None, None, train_seconds, ms)
    # The threshold the model chose for itself at training time, when it has one.
    threshold = getattr(predict, "threshold", None)
    return SplitResult(
        float(np.mean(correct)),
        detection_identification_rate(correct, scores[:n], scores[n:], 0.01),
        detection_identification_rate(correct, scores[:n], scores[n:], 0.05),
        train_seconds,
        ms,
        calibrated_far=None if threshold is None else float(np.mean(scores[n:] > threshold)),
        calibrated_dir=None if threshold is None else float(np.mean(correct & (scores[:n] > threshold))),
    )


def evaluate(fit_score: FitScore, vectors: np.ndarray, identities: list[str], protocol: str = "closed",
             train_per_class: int = 5, unknown_fraction: float = 0.25, seeds: int = 10) -> dict:
    """Mean/std over seeds of closed accuracy or open-set rates; vectors are (n, d) features."""
    names, y = np.unique(np.asarray(identities), return_inverse=True)
    counts = np.bincount(y)
    usable = counts > train_per_class  # need at least one test image
    keep = usable[y]
    X = np.asarray(vectors)[keep]
    y = y[keep]
    if len(np.unique(y)) < (4 if protocol == "open" else 2):
        raise ValueError(
            f"not enough identities with more than {train_per_class} images: {len(np.unique(y))} usable")
    results = []
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        if protocol == "open":
            train, test, unknown = split_open(y, train_per_class, unknown_fraction, rng)
            results.append(run_split(fit_score, X, y, train, test, unknown))
        else:
            train, test = split_closed(y, train_per_class, rng)
            results.append(run_split(fit_score, X, y, train, test, None))

    def stat(values: list[float | None], fn: Callable) -> float | None:
        vals = [v for v in values if v is not None]
        return float(fn(vals)) if vals else None

    return {
        "protocol": protocol,
        "closed_accuracy_mean": stat([r.closed_accuracy for r in results], np.mean),
        "closed_accuracy_std": stat([r.closed_accuracy for r in results], np.std),
        "open_dir_at_far1": stat([r.dir_at_far1 for r in results], np.mean),
        "open_dir_at_far1_std": stat([r.dir_at_far1 for r in results], np.std),
        "open_dir_at_far5": stat([r.dir_at_far5 for r in results], np.mean),
        "open_dir_at_far5_std": stat([r.dir_at_far5 for r in results], np.std),
        "calibrated_far_mean": stat([r.calibrated_far for r in results], np.mean),
        "calibrated_dir_mean": stat([r.calibrated_dir for r in results], np.mean),
        "train_seconds_median": stat([r.train_seconds for r in results], np.median),
        "predict_ms_per_face_median": stat([r.predict_ms_per_face for r in results], np.median),
        "n_identities": int(len(np.unique(y))),
        "n_images": int(len(y)),
        "skipped_identities": [str(n) for n in names[~usable]],
        "seeds": seeds,
        "train_per_class": train_per_class,
        "unknown_fraction": unknown_fraction if protocol == "open" else None,
    }
