"""Detector chips -> features (pixels or dlib) of a shared dataset, cached in bench/out/ (git-ignored);
saving a bench run's rows."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from common import DATASETS, OUT, detected_folder, machine_line


def save_run(path: str, rows: list[dict]) -> None:
    """The machine line and the rows of one bench run, as JSON (for RESULTS.md and later comparison)."""
    OUT.mkdir(exist_ok=True)
    with open(path, "w") as fh:
        json.dump({"machine": machine_line(), "rows": rows}, fh, indent=1)


def dataset_features(name: str, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """(X (n, d) float32, identities (n,) str) of every detected face of `name`, made by `kind` features."""
    from app.vision.features import get_extractor

    folder = detected_folder(Path(DATASETS) / name)
    extractor = get_extractor(kind)
    key = abs(hash((len(folder.identities), folder.chips.shape, int(folder.chips[:, ::16, ::16].sum())))) % 10**8
    cache = OUT / f"features_{name}_{extractor.pipeline.replace('/', '-')}_{key}.npz"
    if cache.is_file():
        data = np.load(cache, allow_pickle=False)
        return data["X"], data["y"]
    X = extractor.from_chips(list(folder.chips))
    y = np.asarray(folder.identities, dtype=str)
    tmp = cache.with_suffix(".tmp.npz")
    np.savez(tmp, X=X, y=y)
    os.replace(tmp, cache)
    return X, y


if __name__ == "__main__":
    import sys

    for dataset in sys.argv[1:] or ("orl", "faces94", "lfw10"):
        for feature_kind in ("pixels", "dlib"):
            X, y = dataset_features(dataset, feature_kind)
            print(dataset, feature_kind, X.shape, len(set(y)), flush=True)
