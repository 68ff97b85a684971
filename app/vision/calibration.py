"""Choosing the unknown-person threshold from scores of held-out enrollment photos and held-out students."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

# fit(rows, y) -> a scorer of other rows: (labels, similarities); rows are indices into the course's images,
# so the caller decides what is refitted per fold (see Recognizer._fold_fitter).
Scorer = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
FitRows = Callable[[np.ndarray, np.ndarray], Scorer]


# Fewer impostor scores than this above the target quantile: the "quantile" is just their maximum.
MIN_TAIL_SCORES = 1


# The floor under the threshold (choose_threshold's min_tar) by feature kind. Measured with
# bench/bench_calibration.py: with dlib it accepts more enrolled faces (lfw10, 6 students: 90% -> 94%)
# while strangers stay near the target (0.4% -> 0.6%); with pixel features it lets in 3-5x the 1% target
# (ORL 6 students 3.4% -> 6.9%, lfw10 1.6% -> 5.1%), and the live scenario bench then marked a
# stranger as a student (orl doorway): pixel courses keep the strict threshold.
TAR_FLOOR: dict[str, float] = {"dlib": 0.9}


def tar_floor(features: str) -> float:
    """min_tar for a course's feature kind (0.0: no floor, the target false-accept rate rules)."""
    return TAR_FLOOR.get(features, 0.0)


@dataclass
class OperatingPoint:
    """How unknown faces are rejected: the threshold and how it was chosen."""

    threshold: float
    # "impostor-far": held-out students played the strangers; "tar-floor": their threshold refused too
    # many held-out genuine faces, so it was lowered (see choose_threshold); "genuine-tar": only two
    # students, so 95% of held-out genuine faces are accepted; "none": too few images to hold any out.
    method: str
    target_far: float
    measured_far: float | None
    true_accept_rate: float | None
    n_impostor_scores: int
    n_genuine_scores: int


def photo_folds(y: np.ndarray, n_folds: int, rng: np.random.Generator) -> np.ndarray:
    """Fold number of each image, stratified so every student has images in every fold."""
    fold = np.empty(len(y), dtype=int)
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        fold[idx] = np.arange(len(idx)) % n_folds
    return fold


def genuine_scores(y: np.ndarray, fit: FitRows, folds: int,
                   rng: np.random.Generator) -> tuple[np.ndarray, float | None]:
    """Scores and accuracy on enrollment images held out of training (stratified folds)."""
    _, counts = np.unique(y, return_counts=True)
    n_folds = int(min(folds, counts.min()))
    if n_folds < 2:
        return np.array([]), None
    fold = photo_folds(y, n_folds, rng)
    scores, correct = [], []
    for f in range(n_folds):
        train, test = fold != f, fold == f
        if train.sum() <= len(np.unique(y[train])):
            continue  # one image per student left to learn from: nothing to cross-validate
        labels, s = fit(np.flatnonzero(train), y[train])(np.flatnonzero(test))
        correct.extend(labels == y[test])
        scores.extend(s[labels == y[test]])
    return np.asarray(scores), (float(np.mean(correct)) if correct else None)


def impostor_scores(y: np.ndarray, fit: FitRows, folds: int,
                    rng: np.random.Generator) -> np.ndarray:
    """Scores of students left out of training: stand-ins for strangers at the door."""
    classes = np.unique(y)
    if len(classes) < 3:
        return np.array([])  # leaving one out would leave a single class: LDA needs two
    order = rng.permutation(classes)
    # Every fold must leave at least two students to train on: leave-one-out for small courses.
    n_folds = len(classes) if len(classes) <= folds else folds
    scores = []
    for f in range(n_folds):
        held = np.isin(y, order[f::n_folds])
        if (~held).sum() <= len(np.unique(y[~held])):
            continue
        scores.extend(fit(np.flatnonzero(~held), y[~held])(np.flatnonzero(held))[1])
    return np.asarray(scores)


def choose_threshold(genuine: np.ndarray, impostor: np.ndarray, target_far: float, min_tar: float = 0.0,
                     max_far: float = 1.0) -> OperatingPoint:
    """The operating point: the impostor quantile at target_far; when that refuses more than
    1 - min_tar of held-out genuine faces, lowered to accept min_tar of them, but never so low that
    more than max_far of the impostors get in. Without impostors: 95% of genuine faces accepted."""
    if len(impostor):
        threshold = float(np.quantile(impostor, 1.0 - target_far, method="higher"))
        method = "impostor-far"
        # Few students: a stranger and an enrolled face score alike, and the 1% tail of 30 stranger
        # scores is their maximum; that threshold refused most enrolled faces (ORL, 6 students x 5
        # photos: 0.94, TAR 40%) and alerted them as strangers. Where the tail is that thinly
        # sampled, trade some false accepts for it. With enough scores the target is kept as asked.
        thin_tail = len(impostor) * target_far < MIN_TAIL_SCORES
        if thin_tail and len(genuine) and np.mean(genuine > threshold) < min_tar:
            floor = float(np.quantile(impostor, 1.0 - max_far, method="higher"))
            threshold = max(float(np.quantile(genuine, 1.0 - min_tar, method="lower")), floor)
            method = "tar-floor"
        return OperatingPoint(
            threshold=threshold,
            method=method,
            target_far=target_far,
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
        target_far=target_far,
        measured_far=None,
        true_accept_rate=float(np.mean(genuine >= threshold)) if len(genuine) else None,
        n_impostor_scores=0,
        n_genuine_scores=len(genuine),
    )
