"""Shared bench helpers: repo import path, detector from Config, cached crops, RESULTS.md sections."""
from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

OUT = BENCH_DIR / "out"  # git-ignored cache


def bench_app(folder: Path, **settings: Any):
    """A real Rollcall app whose database and data folders all live in folder (migrations applied)."""
    from app import create_app
    from app.database import upgrade_database
    from config import BASE_DIR, Config

    config = {
        "TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'rollcall.sqlite'}",
        "INSTANCE_DIR": str(folder / "instance"), "DATASET_DIR": str(folder / "dataset"),
        "RECOGNIZER_DIR": str(folder / "models"), "SNAPSHOT_DIR": str(folder / "snapshots"),
        "UPLOAD_DIR": str(folder / "uploads"), "CAMERA_VIDEO_DIR": str(folder / "videos"),
        "DETECTOR_DIR": str(BASE_DIR / "dnn_models"), "START_BACKGROUND": False, "MAIL_ENABLED": False,
    }
    config.update(settings)
    application = create_app(Config, config)
    upgrade_database(application)
    return application
RESULTS = BENCH_DIR / "RESULTS.md"
DATASETS = Path(os.environ.get("ROLLCALL_DATASETS", REPO.parent / "shared" / "datasets"))

RESULTS_HEADER = """# Rollcall benchmarks

Every number here comes from a script in `bench/`; each script rewrites only its own `##` section
(between its markers) and prints the same table. Re-run everything with:

```
make bench                                   # builds bench/.venv-bench (opencv-contrib), runs the scripts
bench/.venv-bench/bin/python bench/bench_recognition.py   # accuracy vs cv2.face and sklearn baselines
bench/.venv-bench/bin/python bench/bench_detector.py      # detector speed and counts, per-face timing
```

The bench venv is the app's requirements.txt with `opencv-python-headless` swapped for
`opencv-contrib-python-headless` of the same 4.x version (cv2.face lives in contrib; the app never
needs it). Datasets are read in place from `../shared/datasets` (override with `ROLLCALL_DATASETS`);
detector crops are cached in `bench/out/` (git-ignored).

**Timings are noisy.** They were taken on a 2-core machine while other jobs ran on the same cores; each
section records the load average it saw. The lead will re-run the scripts on a quiet machine before
any timing is quoted as final. Accuracy numbers do not depend on load.
"""


def app_config() -> dict:
    """The app's Config as a plain mapping (no Flask app needed)."""
    from config import Config

    return {k: getattr(Config, k) for k in dir(Config) if k.isupper()}


def new_detector(**kwargs):
    """A FaceDetector built from the app's config paths; kwargs override (blob_size, min_confidence)."""
    from app.pipeline import detector_paths
    from app.vision.detector import FaceDetector

    cfg = app_config()
    prototxt, weights = detector_paths(cfg)
    kwargs.setdefault("min_confidence", float(cfg["DETECTOR_MIN_CONFIDENCE"]))
    return FaceDetector(prototxt, weights, **kwargs)


def _folder_key(root: Path) -> str:
    """Changes when any image of the folder or the detector settings change."""
    from app.vision.dataset_io import list_identity_images

    cfg = app_config()
    digest = hashlib.sha256(json.dumps([cfg["DETECTOR_WEIGHTS"], cfg["DETECTOR_MIN_CONFIDENCE"]]).encode())
    for identity, paths in list_identity_images(root).items():
        for p in paths:
            st = p.stat()
            digest.update(f"{identity}/{p.name}:{st.st_size}:{int(st.st_mtime)}".encode())
    # The code that finds faces and cuts chips is part of what is cached.
    for module in ("detector.py", "dataset_io.py", "face_policy.py", "preprocess.py"):
        digest.update((REPO / "app" / "vision" / module).read_bytes())
    return digest.hexdigest()[:16]


def detected_folder(root: Path):
    """load_face_folder(root, detector) as enrollment does it, cached in bench/out/."""
    from app.vision.dataset_io import FaceFolder, load_face_folder

    OUT.mkdir(parents=True, exist_ok=True)
    cache = OUT / f"chips_{root.name}_{_folder_key(root)}.npz"
    if cache.is_file():
        data = np.load(cache, allow_pickle=False)
        return FaceFolder(data["chips"], [str(s) for s in data["identities"]],
                          [str(s) for s in data["no_face"]], [str(s) for s in data["unreadable"]])
    folder = load_face_folder(root, new_detector())
    tmp = cache.with_suffix(".tmp.npz")
    np.savez(tmp, chips=folder.chips, identities=np.asarray(folder.identities, dtype=str),
             no_face=np.asarray(folder.no_face, dtype=str), unreadable=np.asarray(folder.unreadable, dtype=str))
    os.replace(tmp, cache)
    return folder


def code_version() -> str:
    """The commit measured, and whether app/ had uncommitted changes."""
    import subprocess

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    return f"commit {head}" + (" + uncommitted changes in app/" if git("status", "--porcelain", "--", "app") else "")


def machine_line() -> str:
    """One line describing the code, the machine and its load right now."""
    import cv2
    import sklearn

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {code_version()}; {platform.machine()}, {os.cpu_count()} cores, "
            f"load average (1/5/15 min) {load}; Python {platform.python_version()}, OpenCV {cv2.__version__}, "
            f"scikit-learn {sklearn.__version__}, numpy {np.__version__}")


def replace_section(name: str, title: str, body: str, path: Path = RESULTS) -> None:
    """Write `## title` + body between this script's markers in RESULTS.md, leaving other sections alone."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n## {title}\n\n{body.rstrip()}\n{end}"
    text = path.read_text() if path.is_file() else RESULTS_HEADER
    if start in text and end in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def pct(value: float | None, std: float | None = None) -> str:
    """'97.1%' or '97.1 ± 1.2%'; n/a for None."""
    if value is None:
        return "n/a"
    return f"{100 * value:.1f}%" if std is None else f"{100 * value:.1f} ± {100 * std:.1f}%"
