"""Feature extractors: pixels always; dlib embeddings on real LFW faces (requirements.txt installs dlib)."""
from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from app.vision.dataset_io import list_identity_images, load_face_folder
from app.vision.detector import FaceDetector
from app.vision.features import FEATURE_KINDS, FeatureError, get_extractor
from app.vision.preprocess import CHIP_SIZE, VECTOR_LENGTH
from app.vision.recognizer import Recognizer
from tests.conftest import DATASETS, DETECTOR_DIR, needs_datasets, needs_detector, needs_dlib



# lfw10: five people enrolled from 8 photos each, 5 more photos each to recognise; two never enrolled.
ENROLLED = ("Alejandro_Toledo", "Arnold_Schwarzenegger", "Jacques_Chirac", "Kofi_Annan", "Vladimir_Putin")
STRANGERS = ("Megawati_Sukarnoputri", "Silvio_Berlusconi")
N_ENROLL, N_PROBE, N_STRANGER = 8, 5, 5


def _link_folder(root: Path, picks: dict[str, list[Path]]) -> Path:
    """A <identity>/<image> folder of symlinks to the shared photos (nothing is copied)."""
    for identity, paths in picks.items():
        (root / identity).mkdir(parents=True)
        for p in paths:
            (root / identity / p.name).symlink_to(p)
    return root


@pytest.fixture(scope="module")
def lfw(tmp_path_factory):
    """Detector chips and dlib embeddings of the chosen lfw10 photos, computed once for the module."""
    photos = list_identity_images(DATASETS / "lfw10")
    detector = FaceDetector(DETECTOR_DIR / "deploy.prototxt", DETECTOR_DIR / "res10_300x300_ssd_iter_140000.caffemodel", 0.5)
    known = load_face_folder(_link_folder(tmp_path_factory.mktemp("known"), {
        name: photos[name][:N_ENROLL + N_PROBE] for name in ENROLLED}), detector)
    strangers = load_face_folder(_link_folder(tmp_path_factory.mktemp("strangers"), {
        name: photos[name][:N_STRANGER] for name in STRANGERS}), detector)
    extractor = get_extractor("dlib")
    y = np.asarray(known.identities)
    # The first N_ENROLL faces found per person enroll; the rest are the held-out probes.
    rank = np.array([np.sum(y[:i] == y[i]) for i in range(len(y))])
    return {
        "X": extractor.from_chips(list(known.chips)),
        "y": y,
        "enroll": rank < N_ENROLL,
        "chips": known.chips,
        "strangers": extractor.from_chips(list(strangers.chips)),
    }


@pytest.fixture(scope="module")
def trained(lfw):
    return Recognizer(target_far=0.01).fit(lfw["X"][lfw["enroll"]], lfw["y"][lfw["enroll"]])


def test_pixel_features_shape_and_dtype():
    chips = [np.random.default_rng(i).integers(0, 256, (CHIP_SIZE, CHIP_SIZE, 3), dtype=np.uint8) for i in range(3)]
    X = get_extractor("pixels").from_chips(chips)
    assert X.shape == (3, VECTOR_LENGTH) and X.dtype == np.float32
    assert np.allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-4)
    assert get_extractor("pixels").from_chips([]).shape == (0, VECTOR_LENGTH)


def test_unknown_feature_kind_names_the_choices():
    with pytest.raises(FeatureError, match="pixels, dlib"):
        get_extractor("hog")
    assert FEATURE_KINDS == ("pixels", "dlib")


@pytest.mark.parametrize("package", ["dlib", "face_recognition_models"])
def test_missing_dlib_package_says_what_to_install(monkeypatch, package):
    monkeypatch.setitem(sys.modules, package, None)  # makes `import` / find_spec see it as absent
    with pytest.raises(FeatureError) as info:
        get_extractor("dlib")
    message = str(info.value)
    # What IT should install, by package name; never a pip command line for the teacher.
    assert "dlib-bin" in message and "face-recognition-models" in message and "pip" not in message
    assert get_extractor("pixels").name == "pixels"  # the default path keeps working


def test_missing_dlib_fails_evaluate_cleanly(runner, monkeypatch):
    monkeypatch.setitem(sys.modules, "dlib", None)
    result = runner.invoke(args=["evaluate", str(DATASETS), "--features", "dlib"])
    assert result.exit_code != 0 and "ask IT to install the packages dlib-bin" in result.output


@needs_dlib
@needs_datasets
@needs_detector
def test_dlib_embeddings_are_128_float32(lfw):
    X = lfw["X"]
    assert X.shape == (len(lfw["y"]), 128) and X.dtype == np.float32 and np.all(np.isfinite(X))
    assert len(X) >= len(ENROLLED) * (N_ENROLL + N_PROBE) - 2  # the detector found (nearly) every face
    assert get_extractor("dlib").from_chips([]).shape == (0, 128)


@needs_dlib
@needs_datasets
@needs_detector
def test_dlib_same_person_closer_than_different(lfw):
    X, y = lfw["X"], lfw["y"]
    d = np.linalg.norm(X[:, None] - X[None], axis=2)
    same = (y[:, None] == y[None]) & ~np.eye(len(y), dtype=bool)
    assert np.median(d[same]) < 0.5 < np.median(d[~same])


@needs_dlib
@needs_datasets
@needs_detector
def test_dlib_names_held_out_photos(lfw, trained):
    probes = ~lfw["enroll"]
    predictions = trained.predict(lfw["X"][probes])
    named = np.mean([p.best_label == truth for p, truth in zip(predictions, lfw["y"][probes])])
    assert trained.report_.pca_components <= 128
    assert named >= 0.8, named


@needs_dlib
@needs_datasets
@needs_detector
def test_dlib_accepts_held_out_photos_at_the_calibrated_threshold(lfw, trained):
    """5 students x 8 photos give 40 stranger scores, too few for a 1% tail: the calibration keeps 90%
    of held-out genuine faces instead of the stranger maximum (it accepted about half before)."""
    probes = ~lfw["enroll"]
    predictions = trained.predict(lfw["X"][probes])
    accepted = np.mean([p.label == truth for p, truth in zip(predictions, lfw["y"][probes])])
    assert accepted >= 0.8, (accepted, trained.operating_point_)


@needs_dlib
@needs_datasets
@needs_detector
def test_dlib_rejects_people_not_enrolled(lfw, trained):
    predictions = trained.predict(lfw["strangers"])
    assert len(predictions) >= len(STRANGERS) * N_STRANGER - 1
    rejected = np.mean([p.label is None for p in predictions])
    assert rejected >= 0.8, ([p.score for p in predictions], trained.operating_point_.threshold)


@needs_dlib
@needs_datasets
@needs_detector
def test_dlib_embedding_is_thread_safe_and_deterministic(lfw):
    chips = list(lfw["chips"][:4])
    expected = lfw["X"][:4]
    extractor = get_extractor("dlib")
    results: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        results[i] = extractor.from_chips(chips)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 3
    for X in results.values():
        assert np.allclose(X, expected, atol=1e-5)


@needs_dlib
@needs_datasets
@needs_detector
def test_dlib_reads_grey_chips_like_colour_ones(lfw):
    import cv2

    grey = cv2.cvtColor(lfw["chips"][0], cv2.COLOR_BGR2GRAY)
    X = get_extractor("dlib").from_chips([grey, cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)])
    assert X.shape == (2, 128) and np.allclose(X[0], X[1], atol=1e-5)


@needs_dlib
@needs_datasets
@needs_detector
def test_evaluate_command_with_dlib_features(runner, tmp_path):
    photos = list_identity_images(DATASETS / "lfw10")
    root = _link_folder(tmp_path / "faces", {name: photos[name][:4] for name in ENROLLED[:4]})
    result = runner.invoke(args=["evaluate", str(root), "--features", "dlib", "--train-per-class", "3",
                                 "--seeds", "1", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["features"] == "dlib" and report["n_identities"] == 4
    assert report["closed_accuracy_mean"] >= 0.8
