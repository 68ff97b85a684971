"""Bulk enrollment from a folder holding one subfolder of photos per student."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable, Mapping

from ..models import Course
from .enrollment import EnrollResult, enroll_image_files
from .service import find_or_create_student

log = logging.getLogger(__name__)

# Only these are tried; other files (thumbs.db, notes) are ignored. The content check still decides.
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png"}
BATCH = 20  # photos saved per commit: bounded memory, and progress moves


def enroll_folder(course: Course, folder: Path, config: Mapping[str, Any],
                  progress: Callable[[float, str], None] | None = None) -> dict[str, Any]:
    """Enroll every <folder>/<roll number or name>/<photo>; returns per-student counts."""
    people = sorted(p for p in Path(folder).iterdir() if p.is_dir() and not p.name.startswith("."))
    summary: dict[str, Any] = {"students": [], "created": 0, "accepted": 0, "rejected": 0}
    for i, person in enumerate(people):
        if progress:
            progress(i / max(1, len(people)), f"{person.name} ({i + 1} of {len(people)})")
        photos = sorted(p for p in person.iterdir() if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES)
        student, created = find_or_create_student(course, person.name)
        result = EnrollResult()
        for start in range(0, len(photos), BATCH):
            part = enroll_image_files(student.id, photos[start:start + BATCH], config)
            result.accepted += part.accepted
            result.rejected.extend(part.rejected)
        summary["students"].append({"folder": person.name, "student_id": student.id, "created": created,
                                    "accepted": result.accepted, "rejected": result.rejected})
        summary["created"] += int(created)
        summary["accepted"] += result.accepted
        summary["rejected"] += len(result.rejected)
    if progress:
        progress(1.0, "Done")
    return summary
