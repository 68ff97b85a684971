"""Reading a saved recognizer's JSON sidecar, and the rule that its feature pipeline must match."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class RecognizerError(ValueError):
    """Training data or a saved recognizer is not usable; the message says what to do."""


def read_sidecar(path: str | Path) -> dict[str, Any]:
    """The JSON sidecar of a saved recognizer (cheap: the model itself is not read)."""
    path = Path(path).with_suffix(".joblib")
    side = path.with_suffix(".json")
    if not path.is_file() or not side.is_file():
        raise RecognizerError(f"no trained recognizer ({path.name}) for this course; train the course first")
    try:
        meta = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        raise RecognizerError(f"recognizer {path.name} has an unreadable description file; retrain") from exc
    if not isinstance(meta, dict):  # a damaged or foreign sidecar: same answer as a stale one
        raise RecognizerError(f"recognizer {path.name} has an unreadable description file; retrain")
    return meta


def trained_pipeline(meta: dict[str, Any]) -> str:
    """The feature pipeline a sidecar says its recognizer was trained on.

    Sidecars written before pipelines were recorded name none: their vectors came from the first
    pixel pipeline (16,384 equalised pixels) or from dlib's 128-d embedding, told apart by length.
    """
    if "feature_pipeline" in meta:
        return str(meta["feature_pipeline"])
    return "dlib/1" if meta.get("vector_length") == 128 else "pixels/1"


def pipeline_mismatch(meta: dict[str, Any], expected: str) -> str | None:
    """A "retrain needed" message when a sidecar's pipeline is not `expected`, else None."""
    trained = trained_pipeline(meta)
    # "" = fitted by code that did not say (scripts, tests); the app's training always records one.
    if trained in (expected, ""):
        return None
    return (f"Retrain needed: this course's recognizer was trained with face features '{trained}', "
            f"but this version of Rollcall makes '{expected}': train the course again (the enrolled "
            f"photos are kept); until then it cannot recognise anyone.")

