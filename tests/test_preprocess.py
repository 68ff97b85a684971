"""Chips, crops and vectors: shapes, normalisation, and one path for enrollment and live frames."""
import cv2
import numpy as np

from app.vision.features import FeatureError, PixelFeatures, get_extractor
from app.vision.preprocess import CHIP_SIZE, FACE_SIZE, VECTOR_LENGTH, chip_box, chip_to_crop, crop_to_vector, face_chip
from app.vision.types import FaceBox
from tests.conftest import DATASETS, needs_datasets

import pytest


def _frame():
    rng = np.random.default_rng(1)
    return rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)


def test_chip_crop_and_vector_shapes():
    frame = _frame()
    box = FaceBox(200, 100, 300, 220, 0.9)
    chip = face_chip(frame, box)
    assert chip.shape == (CHIP_SIZE, CHIP_SIZE, 3) and chip.dtype == np.uint8
    crop = chip_to_crop(chip)
    assert crop.shape == (FACE_SIZE, FACE_SIZE) and crop.dtype == np.uint8
    vec = crop_to_vector(crop)
    assert vec.shape == (VECTOR_LENGTH,) and vec.dtype == np.float32
    # Square-rooted histograms: no negative values; LBP and HOG parts weigh the same; unit length.
    assert vec.min() >= 0
    lbp_part = VECTOR_LENGTH - (FACE_SIZE // 8 - 1) ** 2 * 36
    assert np.isclose(np.linalg.norm(vec[:lbp_part]), np.linalg.norm(vec[lbp_part:]), atol=1e-4)
    assert np.isclose(np.linalg.norm(vec), 1.0, atol=1e-4)


def test_live_and_stored_paths_give_the_same_vector(tmp_path):
    """Enrollment stores the chip as PNG; reading it back must give the live loop's vector."""
    frame = _frame()
    box = FaceBox(50, 60, 170, 200, 0.9)
    path = tmp_path / "chip.png"
    cv2.imwrite(str(path), face_chip(frame, box))
    extractor = get_extractor("pixels")
    stored = extractor.from_chips([cv2.imread(str(path))])
    np.testing.assert_allclose(stored, extractor.from_chips([face_chip(frame, box)]), atol=1e-6)


def test_face_at_the_border_is_padded_black_not_shifted():
    frame = np.full((200, 200, 3), 255, np.uint8)
    chip = face_chip(frame, FaceBox(0, 0, 100, 100, 0.9))
    assert chip[0, 0].tolist() == [0, 0, 0]  # outside the frame
    assert chip[CHIP_SIZE // 2, CHIP_SIZE // 2].tolist() == [255, 255, 255]


def test_chip_box_is_centred_and_scaled():
    b = chip_box()
    assert b.x1 == b.y1 and b.x2 == b.y2
    assert abs((b.x1 + b.x2) / 2 - CHIP_SIZE / 2) <= 1
    assert abs(b.width - CHIP_SIZE / 1.5) <= 1


def test_flat_crop_gives_zero_vector_not_nan():
    vec = get_extractor("pixels").from_chips([np.full((CHIP_SIZE, CHIP_SIZE, 3), 90, np.uint8)])
    assert np.all(np.isfinite(vec))


def test_brightness_change_barely_moves_the_vector():
    """LBP and block-normalised HOG: the same face in a darker room maps to (almost) the same vector."""
    rng = np.random.default_rng(3)
    crop = cv2.GaussianBlur(rng.integers(0, 255, (FACE_SIZE, FACE_SIZE), dtype=np.uint8), (0, 0), 3)
    dark = (crop * 0.5).astype(np.uint8)
    a, b = crop_to_vector(crop), crop_to_vector(dark)
    assert float(a @ b) / float(np.linalg.norm(a) * np.linalg.norm(b)) > 0.95


@needs_datasets
def test_pixel_extractor_on_real_faces():
    images = [cv2.imread(str(p)) for p in sorted((DATASETS / "johns" / "John_Simm").iterdir())[:3]]
    chips = [face_chip(img, FaceBox(0, 0, img.shape[1], img.shape[0], 1.0)) for img in images]
    X = PixelFeatures().from_chips(chips)
    assert X.shape == (3, VECTOR_LENGTH) and X.dtype == np.float32
    assert get_extractor("pixels").from_chips([]).shape == (0, VECTOR_LENGTH)


def test_unknown_feature_kind_is_a_clear_error():
    with pytest.raises(FeatureError, match="unknown feature kind"):
        get_extractor("nonsense")
