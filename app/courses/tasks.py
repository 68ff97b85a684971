"""Background job body for training: run by app.jobs, not by a request."""
from __future__ import annotations

from flask import current_app

from .. import jobs
from .training import TrainingError, train_course


def run_training_job(job_id: int, course_id: int) -> dict:
    """Job body: train the course, reporting progress; TrainingError becomes the job's message."""
    try:
        return train_course(course_id, current_app.config,
                            lambda fraction, message: jobs.report_progress(job_id, fraction, message))
    except TrainingError as exc:
        raise jobs.JobError(f"{exc} The previous recognizer (if any) stays in use.") from exc
