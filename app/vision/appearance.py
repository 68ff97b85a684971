"""Is this chip the same face as those chips? Correlation of feature vectors the extractor already made."""
from __future__ import annotations

import numpy as np

# Centred cosine (correlation) between two chips' feature vectors, measured on 640x480 frames with
# faces pasted from lfw10/faces94/orl (6 people x 4 images each, res10 box, face_chip):
#   pixels (pipeline pixels/2-aligned: aligned LBP + HOG): the same image moved 6 px >= 0.934 on
#           faces94/orl, on lfw10 mostly >= 0.87 but 2 of 24 at 0.48-0.52 (landmarks on a hard face);
#           another photo of the same person median 0.86 (faces94), 0.72 (orl), 0.42 (lfw10);
#           two different people median 0.33-0.47, p99 0.51-0.63, max 0.654;
#   dlib:   the same image moved >= 0.984; another photo of the same person >= 0.915;
#           two different people <= 0.921.
# SAME_TRACK splits a track whose new chip is unlike all of its recent ones (a stranger stepping into a
# student's place; two students are also told apart by the recognizer's own disagreement). SAME_STRANGER
# groups two unknown tracks into one stranger: it sits above every different-people pair measured, since
# merging two strangers would lose an alert while splitting one costs only a second email.
SAME_TRACK = {"pixels": 0.65, "dlib": 0.93}
SAME_STRANGER = {"pixels": 0.75, "dlib": 0.92}


def normalise(feature: np.ndarray) -> np.ndarray:
    """A feature vector (d,) centred and scaled to unit length (float32)."""
    v = np.asarray(feature, np.float32).ravel()
    v = v - v.mean()
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of two normalised vectors, in [-1, 1]."""
    return float(np.dot(a, b))
