"""Saving a trained Recognizer atomically with a checksummed JSON sidecar, and loading only our own files."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn

from .files import sha256_of
from .sidecar import RecognizerError, pipeline_mismatch, read_sidecar, trained_pipeline

# 4: the chain may end in a one-vs-rest ridge classifier (large courses, issue 16). Format 3 files (SVC) still
# load and predict as they did: the state they pickled is read by the same classes.
FORMAT_VERSION = 4
READABLE_FORMATS = (3, 4)


def save_state(state: dict[str, Any], path: str | Path, sidecar: dict[str, Any]) -> Path:
    """Write <path>.joblib and <path>.json (sidecar plus versions and checksum) atomically."""
    path = Path(path).with_suffix(".joblib")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    joblib.dump(state, tmp)
    side = {"format_version": FORMAT_VERSION, "sklearn_version": sklearn.__version__,
            "numpy_version": np.__version__, **sidecar, "sha256": sha256_of(tmp)}
    side_tmp = path.with_suffix(".json.tmp")
    side_tmp.write_text(json.dumps(side, indent=2))
    os.replace(tmp, path)
    os.replace(side_tmp, path.with_suffix(".json"))
    return path


def load_state(path: str | Path, feature_pipeline: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(pickled state, sidecar) of our own saved recognizer; refuses foreign, stale or tampered files,
    and (when feature_pipeline is given) one trained on vectors made by another feature pipeline."""
    path = Path(path).with_suffix(".joblib")
    meta = read_sidecar(path)
    if feature_pipeline is not None:
        reason = pipeline_mismatch(meta, feature_pipeline)
        if reason:
            raise RecognizerError(reason)
    if meta.get("format_version") not in READABLE_FORMATS or meta.get("sklearn_version") != sklearn.__version__:
        raise RecognizerError(
            f"recognizer {path.name} was made by another version (scikit-learn {meta.get('sklearn_version')}); retrain"
        )
    if meta.get("sha256") != sha256_of(path):
        raise RecognizerError(f"recognizer {path.name} does not match its checksum; retrain")
    state = joblib.load(path)
    state["feature_pipeline"] = trained_pipeline(meta)  # older files predate the parameter
    return state, meta
