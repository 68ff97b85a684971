"""Bulk enrollment from a folder holding one subfolder of photos per student."""
from __future__ import annotations

import logging
import shutil
import uuid
import zipfile
from pathlib import Path, PurePosixPath
from typing import IO, Any, Callable, Mapping

from werkzeug.utils import secure_filename

from ..models import Course
from .enrollment import EnrollmentError, EnrollResult, enroll_image_files
from .service import find_or_create_student

log = logging.getLogger(__name__)

# Only these are tried; other files (thumbs.db, notes) are ignored. The content check still decides.
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png"}
BATCH = 20  # photos saved per commit: bounded memory, and progress moves
# A ZIP is unpacked to disk before enrollment: cap what a small upload may expand to (zip bombs).
ZIP_MAX_FILES = 5000
ZIP_MAX_BYTES = 1024 * 1024 * 1024


def enroll_folder(course: Course, folder: Path, config: Mapping[str, Any],
                  progress: Callable[[float, str], None] | None = None,
                  labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Enroll every <folder>/<roll number or name>/<photo>; returns per-student counts.

    labels maps a subfolder's name on disk to the roll number or name it stands for (ZIP uploads).
    """
    people = sorted(p for p in Path(folder).iterdir() if p.is_dir() and not p.name.startswith("."))
    summary: dict[str, Any] = {"students": [], "created": 0, "accepted": 0, "rejected": 0}
    for i, person in enumerate(people):
        if progress:
            progress(i / max(1, len(people)), f"{person.name} ({i + 1} of {len(people)})")
        photos = sorted(p for p in person.iterdir() if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES)
        label = (labels or {}).get(person.name, person.name)
        student, created = find_or_create_student(course, label)
        result = EnrollResult()
        for start in range(0, len(photos), BATCH):
            part = enroll_image_files(student.id, photos[start:start + BATCH], config)
            result.accepted += part.accepted
            result.rejected.extend(part.rejected)
        summary["students"].append({"folder": label, "student_id": student.id, "created": created,
                                    "accepted": result.accepted, "rejected": result.rejected})
        summary["created"] += int(created)
        summary["accepted"] += result.accepted
        summary["rejected"] += len(result.rejected)
    if progress:
        progress(1.0, "Done")
    return summary


def unpack_zip(stream: IO[bytes], upload_dir: str | Path) -> tuple[Path, dict[str, str]]:
    """Unpack <student>/<photo> entries of a ZIP into a fresh folder with safe names.

    Returns the folder and {folder name on disk: original student label}. Names inside the ZIP are
    never used as paths: each part goes through secure_filename, and only photo files are written.
    """
    dest = Path(upload_dir) / f"bulk_{uuid.uuid4().hex}"
    try:
        with zipfile.ZipFile(stream) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if len(members) > ZIP_MAX_FILES or sum(m.file_size for m in members) > ZIP_MAX_BYTES:
                raise EnrollmentError(f"the ZIP is too big (at most {ZIP_MAX_FILES} files, "
                                      f"{ZIP_MAX_BYTES // 2**20} MB unpacked)")
            labels = _unpack_members(archive, members, dest)
    except zipfile.BadZipFile as exc:
        shutil.rmtree(dest, ignore_errors=True)
        raise EnrollmentError("not a readable ZIP file") from exc
    except Exception:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    if not labels:
        shutil.rmtree(dest, ignore_errors=True)
        raise EnrollmentError("the ZIP has no folder of photos; put each student's photos in a folder "
                              "named by roll number or name")
    return dest, labels


def _unpack_members(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], dest: Path) -> dict[str, str]:
    labels: dict[str, str] = {}
    for member in members:
        parts = [p for p in PurePosixPath(member.filename.replace("\\", "/")).parts if p not in ("", ".", "..", "/")]
        if len(parts) < 2 or parts[-1].startswith(".") or "__MACOSX" in parts:
            continue
        label, name = parts[-2].strip(), secure_filename(parts[-1])
        if Path(name).suffix.lower() not in PHOTO_SUFFIXES:
            continue
        folder = secure_filename(label) or "student"
        folder = next(f for i in range(10_000) if (f := folder if i == 0 else f"{folder}_{i}") not in labels
                      or labels[f] == label)
        labels[folder] = label
        (dest / folder).mkdir(parents=True, exist_ok=True)
        with archive.open(member) as src, open(dest / folder / name, "wb") as out:
            shutil.copyfileobj(src, out)
    return labels
