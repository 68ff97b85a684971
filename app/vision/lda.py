"""Shrinkage LDA (eigen solver), the same estimate as scikit-learn's, without its per-class overhead.

scikit-learn's LinearDiscriminantAnalysis(solver="eigen", shrinkage="auto") estimates one Ledoit-Wolf
covariance per class through its validated estimator API: ~5 ms a class, 12 s per fit at 1,000
students and 11 fits per training (bench/RESULTS.md, "Issue 16: training scale"). This computes the
same quantities with plain numpy: each class's Ledoit-Wolf intensity from the n_g x n_g Gram matrix
of its standardised rows, then one weighted product for the pooled within-class scatter.
"""
from __future__ import annotations

import numpy as np
from scipy import linalg, sparse


def group_sums(X: np.ndarray, inverse: np.ndarray, n_groups: int) -> np.ndarray:
    """(n_groups, p) sums of the rows of X (n, p) by group index (np.add.at is ~10x slower here)."""
    one_hot = sparse.csr_matrix((np.ones(len(inverse), X.dtype), (inverse, np.arange(len(inverse)))),
                                shape=(n_groups, len(inverse)))
    return np.asarray(one_hot @ X)


def _ledoit_wolf_parts(Xc: np.ndarray) -> tuple[float, float, np.ndarray]:
    """(shrinkage, mu, scale) of scikit-learn's `_cov(X, "auto")` for centred rows Xc (n, p)."""
    n, p = Xc.shape
    scale = Xc.std(axis=0)
    scale[scale < 10 * np.finfo(scale.dtype).eps] = 1.0  # StandardScaler's rule for constant features
    Z = Xc / scale
    # sum((Z.T Z)^2) == sum((Z Z.T)^2): take the smaller Gram matrix (a class has fewer rows than columns).
    gram = Z @ Z.T if n < p else Z.T @ Z
    row = np.einsum("ij,ij->i", Z, Z)
    trace = row.sum() / n
    mu = trace / p
    delta_ = float(np.sum(gram**2)) / n**2
    beta = (float(np.sum(row**2)) / n - delta_) / (p * n)
    delta = (delta_ - 2.0 * mu * trace + p * mu**2) / p
    beta = min(beta, delta)
    return (0.0 if beta == 0 else beta / delta), mu, scale


def _shrunk_cov(Xc: np.ndarray) -> np.ndarray:
    """Ledoit-Wolf covariance of centred rows Xc (n, p), estimated on standardised features."""
    s, mu, scale = _ledoit_wolf_parts(Xc)
    cov = (1.0 - s) * (Xc.T @ Xc) / len(Xc)
    cov[np.diag_indices_from(cov)] += s * mu * scale**2
    return cov


class ShrinkageLDA:
    """Fisher discriminant directions of (n, k) projections; transform(X) -> (n, min(c - 1, k))."""

    def fit(self, X: np.ndarray, y: np.ndarray) -> "ShrinkageLDA":
        """Learn scalings_ (k, k): every discriminant direction, the strongest first."""
        X = np.asarray(X, dtype=np.float64)
        self.classes_, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
        n, p = X.shape
        means = group_sums(X, inverse, len(self.classes_)) / counts[:, None]
        Xc = X - means[inverse]
        # Within-class scatter: sum over classes of prior * shrunk class covariance. prior = n_g / n,
        # so each class's empirical part is its (1 - s_g)-weighted rows over n; the shrinkage adds a diagonal.
        weight = np.empty(n)
        diagonal = np.zeros(p)
        order = np.argsort(inverse, kind="stable")
        bounds = np.concatenate([[0], np.cumsum(counts)])
        for g in range(len(self.classes_)):
            rows = order[bounds[g]:bounds[g + 1]]
            s, mu, scale = _ledoit_wolf_parts(Xc[rows])
            weight[rows] = 1.0 - s
            diagonal += counts[g] / n * s * mu * scale**2
        Xw = Xc * np.sqrt(weight)[:, None]
        within = Xw.T @ Xw / n
        within[np.diag_indices_from(within)] += diagonal
        between = _shrunk_cov(X - X.mean(axis=0)) - within
        evals, evecs = linalg.eigh(between, within)
        self.scalings_ = evecs[:, np.argsort(evals)[::-1]].astype(np.float32)
        self.n_components_ = min(len(self.classes_) - 1, p)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """(n, k) projections -> (n, min(c - 1, k)) Fisher coordinates."""
        return (np.asarray(X) @ self.scalings_)[:, :self.n_components_]
