"""Bulk enrollment from a folder holding one subfolder of photos per student (ZIP uploads, `flask enroll`)."""
from __future__ import annotations

import logging
import os
import shutil
import time
import uuid
import zipfile
from pathlib import Path, PurePosixPath
from typing import IO, Any, Callable, Mapping

from werkzeug.utils import secure_filename

from .. import db
from ..models import Course, Student
from .enrollment import EnrollmentError, enroll_image_files
from .service import delete_student, find_or_create_student

log = logging.getLogger(__name__)

# Only these are tried; other files (thumbs.db, notes) are ignored. The content check still decides.
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png"}
BATCH = 20  # photos saved per commit: bounded memory, and progress moves
# The recognizer learns from ~8-20 photos a person; more only costs time (and bounds one folder's work).
MAX_PHOTOS_PER_STUDENT = 50
# A ZIP is unpacked to disk before enrollment: cap what a small upload may expand to (zip bombs).
ZIP_MAX_FILES = 5000
ZIP_MAX_BYTES = 1024 * 1024 * 1024
BULK_PREFIX = "bulk_"
OWNER_FILE = ".owner"  # pid of the process enrolling the folder: a dead owner means a crash left it
ORPHAN_SECONDS = 24 * 3600

Progress = Callable[[float, str], None]


def list_people(folder: Path) -> list[Path]:
    """Student subfolders of a bulk folder, sorted."""
    return sorted(p for p in Path(folder).iterdir() if p.is_dir() and not p.name.startswith("."))


def new_summary() -> dict[str, Any]:
    """An empty bulk summary (JSON-able: it travels between the slices of a job)."""
    return {"students": [], "created": 0, "accepted": 0, "rejected": 0, "skipped_folders": []}


def enroll_folder(course: Course, folder: Path, config: Mapping[str, Any], progress: Progress | None = None,
                  labels: Mapping[str, str] | None = None, start: int = 0, summary: dict[str, Any] | None = None,
                  max_photos: int | None = None) -> tuple[dict[str, Any], int]:
    """Enroll <folder>/<roll number or name>/<photo> from person `start` on; returns (summary, next start).

    Stops after the folder in which max_photos photos were reached (a job slice); next start == number of
    people when everything is done. labels maps a subfolder's name on disk to the label it stands for (ZIP).
    A folder with no accepted face leaves no new student.
    """
    people = list_people(folder)
    summary = summary if summary is not None else new_summary()  # updated in place: a crash still shows what was kept
    total = sum(min(MAX_PHOTOS_PER_STUDENT, len(_photos(p))) for p in people)
    done_photos = sum(min(MAX_PHOTOS_PER_STUDENT, len(_photos(p))) for p in people[:start])
    seen = 0
    index = start
    for index in range(start, len(people)):
        person = people[index]
        label = (labels or {}).get(person.name, person.name)
        photos = _photos(person)
        student, created = find_or_create_student(course, label)
        student_id = student.id
        accepted, rejected, flagged = 0, [], 0
        try:
            for first in range(0, min(len(photos), MAX_PHOTOS_PER_STUDENT), BATCH):
                if progress:
                    progress(done_photos / max(1, total), f"{label} ({index + 1} of {len(people)} folders, "
                                                          f"{done_photos} of {total} photos)")
                part = enroll_image_files(student_id, photos[first:min(first + BATCH, MAX_PHOTOS_PER_STUDENT)],
                                          config)
                accepted, flagged = accepted + part.accepted, flagged + len(part.flagged)
                rejected.extend(part.rejected)
                done_photos += len(photos[first:first + BATCH][:MAX_PHOTOS_PER_STUDENT - first])
        except Exception:
            if accepted:  # batches already committed for this folder are kept: say so
                summary["students"].append({"folder": label, "student_id": student_id, "created": created,
                                            "accepted": accepted, "rejected": rejected, "flagged": flagged})
                summary["created"] += int(created)
                summary["accepted"] += accepted
            elif created:
                db.session.rollback()
                delete_student(db.session.get(Student, student_id) or student, config)
            raise
        if len(photos) > MAX_PHOTOS_PER_STUDENT:
            rejected.append((f"{len(photos) - MAX_PHOTOS_PER_STUDENT} more photos",
                             f"not used: at most {MAX_PHOTOS_PER_STUDENT} photos per student"))
        if created and accepted == 0:
            delete_student(student, config)  # a folder with no usable face leaves no empty student behind
            summary["skipped_folders"].append({"folder": label, "rejected": rejected})
        else:
            summary["students"].append({"folder": label, "student_id": student_id, "created": created,
                                        "accepted": accepted, "rejected": rejected, "flagged": flagged})
            summary["created"] += int(created)
        summary["accepted"] += accepted
        summary["rejected"] += len(rejected)
        seen += min(len(photos), MAX_PHOTOS_PER_STUDENT)
        if max_photos is not None and seen >= max_photos and index + 1 < len(people):
            return summary, index + 1
    if progress:
        progress(1.0, "Done")
    return summary, len(people)


def _photos(person: Path) -> list[Path]:
    return sorted(p for p in person.iterdir() if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES)


def describe(summary: dict[str, Any]) -> str:
    """One sentence saying exactly what was kept."""
    skipped = summary["skipped_folders"]
    return (f"Kept {summary['accepted']} face image{'s' if summary['accepted'] != 1 else ''} for "
            f"{len(summary['students'])} student{'s' if len(summary['students']) != 1 else ''} "
            f"({summary['created']} new); {summary['rejected']} photos rejected"
            + (f"; {len(skipped)} folder{'s' if len(skipped) != 1 else ''} with no usable face created no student"
               if skipped else "") + ".")


def unpack_zip(stream: IO[bytes], upload_dir: str | Path) -> tuple[Path, dict[str, str]]:
    """Unpack <student>/<photo> entries of a ZIP into a fresh folder with safe names.

    Returns the folder and {folder name on disk: original student label}. A ZIP with an entry that
    points outside it (`../`, an absolute path or a drive) is refused whole. Each name part goes
    through secure_filename, and only photo files are written.
    """
    sweep_bulk_folders(upload_dir)
    dest = Path(upload_dir) / f"{BULK_PREFIX}{uuid.uuid4().hex}"
    try:
        with zipfile.ZipFile(stream) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if len(members) > ZIP_MAX_FILES or sum(m.file_size for m in members) > ZIP_MAX_BYTES:
                raise EnrollmentError(f"the ZIP is too big (at most {ZIP_MAX_FILES} files, "
                                      f"{ZIP_MAX_BYTES // 2**20} MB unpacked)")
            unsafe = next((m.filename for m in members if _unsafe_name(m.filename)), None)
            if unsafe is not None:
                raise EnrollmentError(f"the entry “{unsafe[:80]}” points outside the ZIP; "
                                      "make the ZIP again from the class folder")
            dest.mkdir(parents=True)
            (dest / OWNER_FILE).write_text(str(os.getpid()))
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


def _unsafe_name(name: str) -> bool:
    """True for an entry naming a path outside the archive's folder."""
    posix = name.replace("\\", "/")
    return posix.startswith("/") or (len(posix) > 1 and posix[1] == ":") or ".." in PurePosixPath(posix).parts


def _unpack_members(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], dest: Path) -> dict[str, str]:
    labels: dict[str, str] = {}
    for member in members:
        parts = [p for p in PurePosixPath(member.filename.replace("\\", "/")).parts if p not in ("", ".", "/")]
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


def sweep_bulk_folders(upload_dir: str | Path, at_start: bool = False) -> int:
    """Remove unpacked ZIP folders whose process is gone (a crash or restart); returns how many.

    At start-up every folder is another process's (even one with our pid: pids are reused after a
    restart), so only folders of other live processes stay.
    """
    removed = 0
    root = Path(upload_dir)
    for folder in root.glob(f"{BULK_PREFIX}*") if root.is_dir() else []:
        try:
            owner = int((folder / OWNER_FILE).read_text().strip())
        except (OSError, ValueError):
            owner = None
        alive = owner is not None and (owner != os.getpid() or not at_start) and _pid_alive(owner)
        too_old = owner is None and time.time() - folder.stat().st_mtime > ORPHAN_SECONDS
        if (owner is not None and not alive) or too_old or (at_start and owner == os.getpid()):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    if removed:
        log.info("removed %d unpacked bulk folder(s) left by an interrupted enrollment", removed)
    return removed


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
