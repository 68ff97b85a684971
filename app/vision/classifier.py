"""The trained chain behind the Recognizer: PCA -> shrinkage LDA -> linear classifier, and its similarity score."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.decomposition import PCA
from sklearn.preprocessing import normalize
from sklearn.svm import SVC

from .lda import ShrinkageLDA, group_sums
from .sidecar import RecognizerError

# Above this many rows the PCA basis is fitted on a random subset: 100 components of face vectors are
# as well estimated from 4,000 images as from 20,000, at a fifth of the cost (bench/RESULTS.md,
# "Issue 16: training scale").
PCA_MAX_ROWS = 4000
CLASSIFIERS = ("auto", "ridge", "svc", "nearest")
# "auto": the one-vs-one SVC up to this many students, one-vs-rest ridge above. The SVC names faces
# better on photos in the wild (lfw10 pixels 86.7% vs ridge 84.0%; ORL, faces94 and dlib features
# equal within 0.2 points), but trains c(c-1)/2 machines: 200 students x 20 photos took 64-95 s to fit
# (ridge: 3-10 s), 1,000 did not finish in 21 min (bench/RESULTS.md, "Issue 16: training scale").
SVC_MAX_CLASSES = 50


@dataclass
class FisherCore:
    """One fitted PCA -> LDA -> classifier chain plus the class means its unknown score compares with."""

    pca: PCA
    lda: Any  # ShrinkageLDA; format-3 files hold scikit-learn's LinearDiscriminantAnalysis (same interface)
    classifier: Any  # .predict(Zn) -> labels and .classes_; None = the nearest class mean names the face
    fisher_center: np.ndarray
    fisher_means: np.ndarray  # (n_classes, min(n_classes - 1, k)): truncated Fisher space
    full_center: np.ndarray
    full_means: np.ndarray  # (n_classes, k): every discriminant direction
    classes: np.ndarray | None = None

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Read recognizers saved by format 3, whose classifier was an SVC stored as `svm`."""
        if "svm" in state:
            state["classifier"] = state.pop("svm")
            state["classes"] = state["classifier"].classes_
        self.__dict__.update(state)


class RidgeOneVsRest:
    """One-vs-rest least squares with targets +-1 (scikit-learn's RidgeClassifier, alpha=1): one q x q
    solve for every class at once, where RidgeClassifier's label matrices cost 1.5 s a fit at 1,000 students."""

    alpha = 1.0

    def fit(self, Z: np.ndarray, y: np.ndarray) -> "RidgeOneVsRest":
        """Learn coef_ (q, c) and intercept_ (c,) from features Z (n, q) and labels y (n,)."""
        Z = np.asarray(Z, dtype=np.float64)
        self.classes_, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
        self.mean_ = Z.mean(axis=0)
        Zc = Z - self.mean_
        gram = Zc.T @ Zc
        gram[np.diag_indices_from(gram)] += self.alpha
        # Centred targets 2*onehot - 1: Zc.T @ Y is twice the class sums of Zc (Zc's columns sum to 0).
        self.coef_ = np.linalg.solve(gram, 2.0 * group_sums(Zc, inverse, len(self.classes_)).T)
        self.intercept_ = 2.0 * counts / len(y) - 1.0
        return self

    def predict(self, Z: np.ndarray) -> np.ndarray:
        """The class with the largest decision value for each row of Z (n, q)."""
        return self.classes_[((Z - self.mean_) @ self.coef_ + self.intercept_).argmax(axis=1)]


def pca_size(n_images: int, n_classes: int, n_features: int, wanted: int) -> int:
    """Fisherfaces rule: at most n_images - n_classes components (and no more than asked or possible)."""
    if n_images <= n_classes:
        raise RecognizerError("need more images than students to learn what varies within a face")
    return max(1, min(wanted, n_images - n_classes, n_features))


def fit_pca(X: np.ndarray, k: int, random_state: int, max_rows: int = PCA_MAX_ROWS,
            among: np.ndarray | None = None) -> PCA:
    """PCA basis with k components of the rows `among` of X (n, d) (default all), at most max_rows of them."""
    among = np.arange(len(X)) if among is None else among
    if len(among) > max_rows:
        among = np.sort(np.random.default_rng(random_state).choice(among, max_rows, replace=False))
    rows = X if len(among) == len(X) else X[among]
    # Randomized SVD: full SVD of thousands of high-dimensional images does not finish (see FACTS).
    solver = "randomized" if k < min(rows.shape) // 2 else "full"
    return PCA(n_components=k, svd_solver=solver, random_state=random_state).fit(rows)


def fit_core(pca: PCA, P: np.ndarray, y: np.ndarray, classifier: str = "ridge", svm_c: float = 1.0) -> FisherCore:
    """Shrinkage LDA and the classifier on PCA projections P (n, k) with labels y (n,)."""
    classes = np.unique(y)
    # Shrinkage keeps the within-class scatter invertible with few images per student.
    lda = ShrinkageLDA().fit(P, y)
    Z = lda.transform(P)
    fisher_center, fisher_means = _class_directions(Z, y, classes)
    # The classifier sees directions, not lengths: centred, unit-norm Fisher features (ORL closed-set
    # 97.5% -> 98.4%, LFW 57.1% -> 58.3%, bench/RESULTS.md).
    Zn = normalize(Z - fisher_center)
    if classifier == "auto":
        classifier = "svc" if len(classes) <= SVC_MAX_CLASSES else "ridge"
    if classifier == "svc":  # one-vs-one: c(c-1)/2 machines, the cliff at a few hundred students
        model: Any = SVC(kernel="linear", C=svm_c).fit(Zn, y)
    elif classifier == "ridge":
        model = RidgeOneVsRest().fit(Zn, y)
    elif classifier == "nearest":
        model = None
    else:
        raise RecognizerError(f"unknown classifier {classifier!r}; choose one of {', '.join(CLASSIFIERS)}")
    full_center, full_means = _class_directions(P @ lda.scalings_, y, classes)
    return FisherCore(pca, lda, model, fisher_center, fisher_means, full_center, full_means, classes)


def _class_directions(Z: np.ndarray, y: np.ndarray, classes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre of the training projections and each class's mean unit direction from it."""
    center = Z.mean(axis=0)
    Zn = normalize(Z - center)
    # One pass over the rows, not one boolean mask per class (1,000 classes x 20,000 rows).
    return center, normalize(group_sums(Zn, np.searchsorted(classes, y), len(classes)))


def score(core: FisherCore, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Label and similarity in [-1, 1] for each row of X (n, d)."""
    return score_projected(core, core.pca.transform(X))


def score_projected(core: FisherCore, P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The classifier's label, and a similarity in [-1, 1] to that label's mean direction (P: (n, k)).

    The similarity averages the cosine in the Fisher space the classifier sees (n_classes - 1 dims)
    with the cosine over every discriminant direction. The first alone collapses with few students
    (4-8 students: strangers score like enrolled faces); the second keeps them apart. Measured in
    bench/RESULTS.md ("unknown score").
    """
    Zn = normalize(core.lda.transform(P) - core.fisher_center)
    similarity = (Zn @ core.fisher_means.T
                  + normalize(P @ core.lda.scalings_ - core.full_center) @ core.full_means.T) / 2.0
    if core.classifier is None:
        cols = similarity.argmax(axis=1)
    else:
        cols = np.searchsorted(core.classes, core.classifier.predict(Zn))
    return core.classes[cols], similarity[np.arange(len(cols)), cols]
