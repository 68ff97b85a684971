"""Is this chip the same face as those chips? Correlation of feature vectors the extractor already made."""
from __future__ import annotations

import numpy as np

# Centred cosine (correlation) between two chips' feature vectors, measured on 640x480 frames with
# faces pasted from lfw10/faces94/orl (6 people x 4 images each, res10 box, face_chip):
#   pixels: the same image moved 6 px >= 0.876; two different people <= 0.817 (faces94), 0.563 (lfw10),
#           0.915 (orl: the recognizer's own disagreement catches those);
#   dlib:   the same image moved >= 0.984; another photo of the same person >= 0.915;
#           two different people <= 0.921.
# SAME_TRACK splits a track whose new chip is unlike all of its recent ones; SAME_STRANGER groups two
# unknown tracks into one stranger (across photos: only dlib is reliable there).
SAME_TRACK = {"pixels": 0.80, "dlib": 0.93}
SAME_STRANGER = {"pixels": 0.90, "dlib": 0.92}


def normalise(feature: np.ndarray) -> np.ndarray:
    """A feature vector (d,) centred and scaled to unit length (float32)."""
    v = np.asarray(feature, np.float32).ravel()
    v = v - v.mean()
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of two normalised vectors, in [-1, 1]."""
    return float(np.dot(a, b))
