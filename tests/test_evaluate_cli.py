"""`flask evaluate` on small real folders: JSON keys, both protocols, unusable images counted."""
import json
import shutil

import numpy as np
import pytest

from tests.conftest import DATASETS, needs_datasets, needs_detector

pytestmark = [needs_datasets, needs_detector]


@pytest.fixture
def johns_folder(tmp_path):
    """The five Johns (read in place would do, but we add bad files, so copy into tmp_path)."""
    root = tmp_path / "faces"
    shutil.copytree(DATASETS / "johns", root)
    (root / "John_Simm" / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    # A real image with no face in it: a smooth grey gradient.
    import cv2

    gradient = np.tile(np.linspace(0, 255, 200, dtype=np.uint8), (200, 1))
    cv2.imwrite(str(root / "John_Savage" / "wall.png"), gradient)
    return root


def _run(runner, *args):
    result = runner.invoke(args=["evaluate", *map(str, args), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output.strip().splitlines()[-1])


def test_closed_protocol_reports_every_key(runner, johns_folder):
    out = _run(runner, johns_folder, "--seeds", "2", "--train-per-class", "5")
    for key in ("closed_accuracy_mean", "closed_accuracy_std", "open_dir_at_far1", "open_dir_at_far5",
                "no_face_images", "train_seconds_median", "predict_ms_per_face_median", "n_identities",
                "n_images"):
        assert key in out
    assert out["n_identities"] == 5 and out["n_images"] == 55
    assert out["no_face_images"] == 1 and out["unreadable_images"] == 1
    assert out["open_dir_at_far1"] is None
    assert 0.6 <= out["closed_accuracy_mean"] <= 1.0
    from app.vision.features import current_pipeline

    assert out["feature_pipeline"] == current_pipeline("pixels")  # which chip -> vector code was measured


def test_open_protocol_on_orl_subset(runner, tmp_path):
    root = tmp_path / "orl"
    root.mkdir()
    for i in range(1, 9):  # read in place through symlinks: 8 people, 2 of them held out as strangers
        (root / f"s{i}").symlink_to(DATASETS / "orl" / f"s{i}")
    out = _run(runner, root, "--protocol", "open", "--seeds", "1", "--unknown-fraction", "0.25")
    assert out["n_identities"] == 8
    assert 0.0 <= out["open_dir_at_far1"] <= out["open_dir_at_far5"] <= 1.0
    assert out["open_dir_at_far5"] >= 0.5
    assert out["closed_accuracy_mean"] >= 0.8


def test_no_detect_uses_whole_images(runner, tmp_path):
    root = tmp_path / "orl"
    root.mkdir()
    for i in range(1, 5):
        (root / f"s{i}").symlink_to(DATASETS / "orl" / f"s{i}")
    out = _run(runner, root, "--no-detect", "--seeds", "1")
    assert out["detect"] is False and out["no_face_images"] == 0 and out["n_images"] == 40


def test_folder_with_too_few_people_is_a_clear_error(runner, tmp_path):
    root = tmp_path / "one"
    (root / "a").mkdir(parents=True)
    shutil.copy(DATASETS / "orl" / "s1" / "1.pgm", root / "a" / "1.pgm")
    result = runner.invoke(args=["evaluate", str(root)])
    assert result.exit_code != 0
    assert "not enough identities" in result.output


def test_human_readable_output(runner, johns_folder):
    for name in ("John_Salley", "John_Schneider"):  # three people are enough to print every line
        shutil.rmtree(johns_folder / name)
    result = runner.invoke(args=["evaluate", str(johns_folder), "--seeds", "1"])
    assert result.exit_code == 0, result.output
    assert "closed-set accuracy" in result.output and "no face found: 1" in result.output
