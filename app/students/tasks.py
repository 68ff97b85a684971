"""Background job bodies for enrollment (a video, a ZIP of folders): run by app.jobs, not by a request."""
from __future__ import annotations

import logging
import shutil
from pathlib import Path

from flask import current_app

from .. import db, jobs
from ..models import Course
from .bulk import describe, enroll_folder, list_people, new_summary
from .enrollment import EnrollmentError, enroll_video

log = logging.getLogger(__name__)


def run_video_job(job_id: int, student_id: int, path: str) -> dict:
    """Job body: enroll a stored video; expected problems become the job's message."""
    try:
        result = enroll_video(student_id, Path(path), current_app.config,
                              lambda fraction, message: jobs.report_progress(job_id, fraction, message))
    except EnrollmentError as exc:
        raise jobs.JobError(f"Video rejected: {exc}. Nothing was saved.") from exc
    return result.as_dict()


# Photos per slice of a bulk job: a slice takes about a minute, then jobs queued meanwhile (training) run.
BULK_SLICE_PHOTOS = 100


def run_bulk_job(job_id: int, course_id: int, folder: str, labels: dict[str, str], start: int = 0,
                 summary: dict | None = None) -> dict | jobs.Requeue:
    """Job body: enroll an unpacked ZIP one slice at a time, then remove it; messages say what was kept."""
    finished = False
    summary = summary if summary is not None else new_summary()
    try:
        course = db.session.get(Course, course_id)
        if course is None:
            finished = True
            raise jobs.JobError("The course was deleted.")
        summary, start = enroll_folder(course, Path(folder), current_app.config,
                                       lambda fraction, message: jobs.report_progress(job_id, fraction, message),
                                       labels, start=start, summary=summary, max_photos=BULK_SLICE_PHOTOS)
        finished = start >= len(list_people(Path(folder)))
    except jobs.JobError:
        raise
    except Exception as exc:
        finished = True
        db.session.rollback()
        log.exception("bulk job %s stopped", job_id)
        kept = describe(summary) if summary["accepted"] else "Nothing was kept."
        raise jobs.JobError(f"Stopped by a server error while reading the photos. {kept} "
                            "Upload the remaining folders again.") from exc
    finally:
        if finished:
            shutil.rmtree(folder, ignore_errors=True)
    if not finished:
        return jobs.Requeue({"course_id": course_id, "folder": folder, "labels": labels, "start": start,
                             "summary": summary})
    summary["message"] = describe(summary)
    return summary
