"""The one owner of Rollcall's files: face chips, recognizer versions, snapshots and uploads.

Every path, the v<N>.joblib version rule, atomic writes and deletions are written here once; callers
pass ids. No Flask and no database: which recognizer version is *current* is the database's answer
(Course.recognizer_version, written by courses.service); this module only knows which ones are on disk.

    dataset/<student_id>/<hex>.png                  enrolled face chips (FaceSample.filename)
    models/course_<id>/v<N>.joblib + v<N>.json      recognizer versions; the JSON sidecar is written last,
                                                    so a version without one is a save in progress or failed
    instance/snapshots/session_<id>/<name>.jpg      live snapshots (rows store "session_<id>/<name>.jpg")
    instance/uploads/                               uploaded videos and ZIPs, swept by app.retention
"""
from __future__ import annotations

import os
import re
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import cv2
import numpy as np

VERSION_FILE = re.compile(r"v(\d+)\.(joblib|json)")
# A file younger than this may belong to a row or a save being written right now: sweeps leave it.
IN_FLIGHT_SECONDS = 600


def atomic_write(path: Path, data: bytes) -> Path:
    """Write data to path through a temp file and os.replace, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def age_seconds(path: Path, now: float | None = None) -> float:
    """Seconds since path was modified (0 for a file that vanished meanwhile)."""
    now = time.time() if now is None else now
    try:
        return now - path.stat().st_mtime
    except OSError:
        return 0.0


def _numbered(root: Path, pattern: str) -> dict[int, Path]:
    """id -> folder for root's sub-folders named by pattern (one integer group)."""
    if not root.is_dir():
        return {}
    found = {}
    for path in root.iterdir():
        if path.is_dir() and (m := re.fullmatch(pattern, path.name)):
            found[int(m.group(1))] = path
    return found


def _versions(folder: Path) -> set[int]:
    if not folder.is_dir():
        return set()
    return {int(m.group(1)) for p in folder.iterdir() if (m := VERSION_FILE.fullmatch(p.name))}


def prune_versions(folder: Path, current: int | None) -> int:
    """In one course's recognizer folder keep the version in use and the one before it; delete older
    versions and stale temp files. Returns how many files went."""
    if not folder.is_dir():
        return 0
    older = [v for v in _versions(folder) if current is not None and v < current]
    previous = max(older, default=None)
    removed = 0
    for path in folder.iterdir():
        m = VERSION_FILE.fullmatch(path.name)
        # Versions above the current one may be a training saving right now: only older ones go.
        stale = m is not None and int(m.group(1)) in older and int(m.group(1)) != previous
        if stale or (path.name.endswith(".tmp") and age_seconds(path) > IN_FLIGHT_SECONDS):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


@dataclass(frozen=True)
class Storage:
    """Paths under the four data folders; build one with storage(config)."""

    dataset_dir: Path
    recognizer_dir: Path
    snapshot_dir: Path
    upload_dir: Path

    # ----- face chips ------------------------------------------------------------------------------

    def student_dir(self, student_id: int) -> Path:
        """dataset/<student_id>/: every enrolled chip of one student."""
        return self.dataset_dir / str(student_id)

    def chip_path(self, student_id: int, filename: str) -> Path:
        """One stored chip (FaceSample.filename)."""
        return self.student_dir(student_id) / filename

    def write_chip(self, student_id: int, chip: np.ndarray) -> Path:
        """Store a chip as a new PNG (atomically) and return its path; ValueError if it cannot be encoded."""
        ok, encoded = cv2.imencode(".png", chip)
        if not ok:
            raise ValueError("could not encode the face image")
        return atomic_write(self.chip_path(student_id, f"{uuid.uuid4().hex}.png"), encoded.tobytes())

    def delete_chip(self, student_id: int, filename: str) -> None:
        """Remove one chip (its row is deleted by the caller)."""
        self.chip_path(student_id, filename).unlink(missing_ok=True)

    def delete_student_chips(self, student_id: int) -> None:
        """Remove dataset/<student_id>/ entirely."""
        shutil.rmtree(self.student_dir(student_id), ignore_errors=True)

    def student_dirs(self) -> dict[int, Path]:
        """student id -> chip folder, for every folder on disk (the sweep compares them with the rows)."""
        return _numbered(self.dataset_dir, r"(\d+)")

    # ----- recognizer versions ---------------------------------------------------------------------

    def course_dir(self, course_id: int) -> Path:
        """models/course_<id>/: every recognizer version of one course."""
        return self.recognizer_dir / f"course_{course_id}"

    def recognizer_path(self, course_id: int, version: int) -> Path:
        """models/course_<id>/v<version>.joblib (its JSON sidecar sits beside it)."""
        return self.course_dir(course_id) / f"v{version}.joblib"

    def versions_on_disk(self, course_id: int) -> set[int]:
        """Every version with a file on disk, finished or not (a failed save still takes its number)."""
        return _versions(self.course_dir(course_id))

    def next_version(self, course_id: int, in_use: int | None) -> int:
        """One above both the version in use and any file already on disk."""
        return max([in_use or 0, *self.versions_on_disk(course_id)]) + 1

    def is_saved(self, course_id: int, version: int) -> bool:
        """True when both files of a version exist (Recognizer.save writes the sidecar last)."""
        path = self.recognizer_path(course_id, version)
        return path.is_file() and path.with_suffix(".json").is_file()

    def discard_unsaved(self, course_id: int, version: int) -> None:
        """Remove what a failed save of a version left behind (temp files and a model without sidecar)."""
        for tmp in self.course_dir(course_id).glob(f"v{version}.*tmp"):
            tmp.unlink(missing_ok=True)

    def delete_version(self, course_id: int, version: int) -> None:
        """Remove both files of one version (sidecar first, so a reader never sees it complete meanwhile)."""
        path = self.recognizer_path(course_id, version)
        path.with_suffix(".json").unlink(missing_ok=True)
        path.unlink(missing_ok=True)

    def delete_recognizers(self, course_id: int) -> None:
        """Remove every recognizer version of a course."""
        shutil.rmtree(self.course_dir(course_id), ignore_errors=True)

    def delete_recognizer_files(self, course_id: int) -> None:
        """Remove the version files of a course but keep its folder (a training may be saving into it)."""
        for path in self.course_dir(course_id).glob("v*"):
            path.unlink(missing_ok=True)

    def prune_versions(self, course_id: int, current: int | None) -> int:
        """Keep the version in use and the one before it; delete older versions and stale temp files."""
        return prune_versions(self.course_dir(course_id), current)

    def course_dirs(self) -> dict[int, Path]:
        """course id -> recognizer folder, for every folder on disk."""
        return _numbered(self.recognizer_dir, r"course_(\d+)")

    # ----- snapshots -------------------------------------------------------------------------------

    def session_dir(self, session_id: int) -> Path:
        """instance/snapshots/session_<id>/: the snapshots of one attendance session."""
        return self.snapshot_dir / f"session_{session_id}"

    def save_snapshot(self, session_id: int, name: str, chip: np.ndarray | None) -> str | None:
        """Write a chip as session_<id>/<name>.jpg (atomically); the path relative to the snapshot folder."""
        if chip is None:
            return None
        ok, encoded = cv2.imencode(".jpg", chip)
        if not ok:
            return None
        atomic_write(self.session_dir(session_id) / f"{name}.jpg", encoded.tobytes())
        return f"session_{session_id}/{name}.jpg"

    def snapshot_file(self, name: str | None) -> Path | None:
        """The file a row's snapshot names (relative, or absolute inside the folder); None if outside or gone."""
        if not name:
            return None
        folder = self.snapshot_dir.resolve()
        path = Path(name)
        path = (path if path.is_absolute() else folder / path).resolve()
        if not path.is_relative_to(folder) or not path.is_file():
            return None
        return path

    def read_snapshot(self, name: str | None) -> np.ndarray | None:
        """A stored snapshot chip (BGR, HxWx3 uint8); None if gone."""
        path = self.snapshot_file(name)
        return cv2.imread(str(path), cv2.IMREAD_COLOR) if path is not None else None

    def delete_snapshots(self, names: list[str]) -> None:
        """Remove the named snapshot files (rows were changed by the caller first)."""
        for name in names:
            path = self.snapshot_file(name)
            if path is not None:
                path.unlink(missing_ok=True)

    def delete_session_snapshots(self, session_id: int) -> None:
        """Remove a session's snapshot folder."""
        shutil.rmtree(self.session_dir(session_id), ignore_errors=True)

    def session_dirs(self) -> dict[int, Path]:
        """session id -> snapshot folder, for every folder on disk."""
        return _numbered(self.snapshot_dir, r"session_(\d+)")


def storage(config: Mapping[str, Any]) -> Storage:
    """The Storage of an app's config (DATASET_DIR, RECOGNIZER_DIR, SNAPSHOT_DIR, UPLOAD_DIR)."""
    return Storage(Path(config["DATASET_DIR"]), Path(config["RECOGNIZER_DIR"]), Path(config["SNAPSHOT_DIR"]),
                   Path(config["UPLOAD_DIR"]))
