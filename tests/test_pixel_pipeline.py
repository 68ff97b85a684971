"""Issue 13's pixel path on real faces: eye alignment, Tan-Triggs, descriptors, and accuracy above the old path."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from app.vision.dataset_io import list_identity_images, load_face_folder
from app.vision.descriptors import LBP_BINS, _uniform_lut, hog, lbp_codes, lbp_grid
from app.vision.features import PixelFeatures, current_pipeline, pixel_pipeline
from app.vision.lighting import TAU, tan_triggs
from app.vision.preprocess import FACE_SIZE, VECTOR_LENGTH, chip_to_crop, chip_to_grey, crop_to_vector
from app.vision.recognizer import Recognizer
from tests.conftest import DATASETS, needs_datasets, needs_detector, needs_dlib
from tests.faces import chips_of, detector

# lfw10: 6 people, the first 14 photos each; 8 enroll, 6 are recognised.
PEOPLE = ("Alejandro_Toledo", "Donald_Rumsfeld", "Guillermo_Coria", "Jacques_Chirac", "Kofi_Annan", "Vladimir_Putin")
N_PHOTOS, N_ENROLL = 14, 8


@pytest.fixture(scope="module")
def lfw_subset(tmp_path_factory) -> tuple[np.ndarray, np.ndarray]:
    """Detected chips of the subset (symlinks to the shared photos; nothing copied)."""
    root = tmp_path_factory.mktemp("lfw")
    photos = list_identity_images(DATASETS / "lfw10")
    for name in PEOPLE:
        (root / name).mkdir()
        for p in photos[name][:N_PHOTOS]:
            (root / name / p.name).symlink_to(p)
    folder = load_face_folder(root, detector())
    return folder.chips, np.asarray(folder.identities)


def _eye_centres(points: np.ndarray) -> np.ndarray:
    """(2, 2) centres of the two eyes from dlib's 5 points (two corners per eye)."""
    return np.array([points[0:2].mean(0), points[2:4].mean(0)])


@needs_datasets
@needs_detector
@needs_dlib
def test_alignment_puts_the_eyes_at_fixed_positions(lfw_subset):
    """Landmarks found again on the aligned face sit where the template put them, whatever the photo."""
    from app.vision.alignment import shared_aligner, template_points

    aligner = shared_aligner()
    chips, _ = lfw_subset
    # Aligned at chip size with the face where a detector box would put it, so the landmark
    # model (which searches the chip's box) can be run again on the output as an independent check.
    size, distance, height = chips.shape[1], 0.2, 0.44
    target = _eye_centres(template_points(size, distance, height))
    before, after = [], []
    for chip in chips[:24]:
        grey = chip_to_grey(chip)
        before.append(_eye_centres(aligner.landmarks(grey)))
        aligned = aligner.align(grey, size, distance, height)
        after.append(_eye_centres(aligner.landmarks(aligned)))
    before, after = np.array(before), np.array(after)
    err = np.linalg.norm(after - target, axis=2)
    # Median under 2 px; the odd hard face (profile, occlusion) lands further off.
    assert np.median(err) < 2.0 and np.mean(err < 3.0) >= 0.9, err
    # The raw detector chips put the eyes anywhere within several pixels; aligned ones do not.
    assert after.std(axis=0).mean() < before.std(axis=0).mean() / 2


@needs_datasets
def test_tan_triggs_output_is_bounded_and_ignores_shading():
    """Bounded by tau, about zero mean, and a strong light ramp across the face barely changes it."""
    chips, _ = chips_of("orl", detect=False)
    face = chip_to_crop(chips[0], 1.0)  # the photo itself, none of the chip's black border
    out = tan_triggs(face)
    assert out.shape == face.shape and out.dtype == np.float32
    assert np.abs(out).max() <= TAU and abs(float(out.mean())) < 0.2
    ramp = np.linspace(0.2, 1.0, FACE_SIZE, dtype=np.float32)[None, :]
    shaded = np.clip(face * ramp, 0, 255).astype(np.uint8)

    def corr(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])

    assert corr(tan_triggs(shaded), out) > 0.85
    assert corr(tan_triggs(shaded), out) > corr(shaded.astype(np.float32), face.astype(np.float32))


def test_lbp_histograms_shape_sums_and_monotonic_invariance():
    rng = np.random.default_rng(1)
    crop = cv2.GaussianBlur(rng.integers(0, 200, (FACE_SIZE, FACE_SIZE), dtype=np.uint8), (0, 0), 1.5)
    assert len(set(_uniform_lut().tolist())) == LBP_BINS  # 58 uniform patterns + the rest
    h = lbp_grid(crop, 8, 2)
    assert h.shape == (8 * 8 * LBP_BINS,) and h.dtype == np.float32
    np.testing.assert_allclose(h.reshape(64, LBP_BINS).sum(1), 1.0, atol=1e-5)
    # LBP compares neighbours with the centre: any strictly increasing grey map leaves it unchanged.
    brighter = (crop.astype(np.int32) + 40).astype(np.uint8)
    np.testing.assert_array_equal(lbp_codes(crop, 2), lbp_codes(brighter, 2))
    np.testing.assert_array_equal(lbp_grid(crop), lbp_grid(crop.copy()))


def test_hog_and_vector_are_deterministic_with_documented_shapes():
    rng = np.random.default_rng(2)
    crop = rng.integers(0, 255, (FACE_SIZE, FACE_SIZE), dtype=np.uint8)
    assert hog(crop).shape == ((FACE_SIZE // 8 - 1) ** 2 * 36,)
    np.testing.assert_array_equal(crop_to_vector(crop), crop_to_vector(crop.copy()))
    assert crop_to_vector(crop).shape == (VECTOR_LENGTH,)


@needs_dlib
def test_pipeline_names_say_whether_the_crop_was_aligned():
    assert PixelFeatures().pipeline == pixel_pipeline(True) == current_pipeline("pixels")
    assert PixelFeatures(align=False).pipeline == pixel_pipeline(False)
    assert pixel_pipeline(True) != pixel_pipeline(False)
    assert current_pipeline("dlib") == "dlib/1"


def _old_pixels(chip: np.ndarray) -> np.ndarray:
    """The pixels/1 vector (before issue 13): 1.4x box crop, equalised, blurred, ellipse-masked."""
    v = cv2.GaussianBlur(cv2.equalizeHist(chip_to_crop(chip, 1.4)), (0, 0), 2.0).astype(np.float32)
    yy, xx = np.mgrid[0:FACE_SIZE, 0:FACE_SIZE] - (FACE_SIZE - 1) / 2.0
    mask = (xx / (0.4 * FACE_SIZE)) ** 2 + (yy / (0.5 * FACE_SIZE)) ** 2 <= 1.0
    v[mask] -= v[mask].mean()
    v[~mask] = 0
    return (v / np.linalg.norm(v)).ravel()


def _accuracy(X: np.ndarray, y: np.ndarray) -> float:
    rank = np.array([np.sum(y[:i] == y[i]) for i in range(len(y))])
    train = rank < N_ENROLL
    rec = Recognizer(calibrate=False).fit(X[train], y[train])
    labels, _ = rec.scores(X[~train])
    return float(np.mean(labels == y[~train]))


@needs_datasets
@needs_detector
@needs_dlib
def test_new_path_names_real_world_faces_far_better_than_the_old_one(lfw_subset):
    """lfw10 subset, closed set (36 probes): measured 78% here against 61% for the pixels/1 vector (same split)."""
    chips, y = lfw_subset
    new = _accuracy(PixelFeatures().from_chips(list(chips)), y)
    old = _accuracy(np.stack([_old_pixels(c) for c in chips]), y)
    assert new >= 0.70, new  # the old vector's 61% can never pass this bar
    assert new >= old + 0.10, (new, old)
