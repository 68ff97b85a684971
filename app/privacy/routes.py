"""Privacy views: a student's data as a ZIP, and erasing their face data (confirmed, then the course retrains)."""
from __future__ import annotations

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import jobs
from ..courses.tasks import run_training_job
from ..courses.training import TrainingError, trainable_students
from ..owned import student_or_404
from ..students.service import sample_counts
from . import bp, service


@bp.before_request
@login_required
def _require_login() -> None:
    """Personal data is for the student's teacher only."""


@bp.get("/students/<int:student_id>/export.zip")
def export(student_id: int):
    """Everything stored about a student: photos, snapshots, records and corrections."""
    student = student_or_404(student_id)
    body = service.export_student(student, current_app.config, current_user.timezone)
    name = f"rollcall-student{student.id}-{student.roll_number}".replace('"', "")
    return Response(body, mimetype="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}.zip"'})


@bp.route("/students/<int:student_id>/erase", methods=["GET", "POST"])
def erase(student_id: int):
    """Confirm, then delete the student's face data and retrain the course without it."""
    student = student_or_404(student_id)
    if request.method == "GET":
        return render_template("privacy/erase.html", student=student, counts=service.face_data_counts(student))
    if request.form.get("confirm") != "yes":
        flash("Tick the box to confirm: the face data cannot be restored.", "error")
        return redirect(url_for("privacy.erase", student_id=student.id))
    counts = service.delete_face_data(student, current_user.id, current_app.config)
    flash(f"Deleted {student.name}'s face data: {counts['photos']} photos and "
          f"{counts['snapshots'] + counts['sightings']} snapshots. {_retrain(student.course)}", "success")
    return redirect(url_for("students.detail", student_id=student.id))


def _retrain(course) -> str:
    """Start the course's retraining; with too few students left, stop using the old recognizer instead."""
    if not course.recognizer_version:
        return ""
    try:
        trainable_students(course, sample_counts(course), int(current_app.config["RECOGNIZER_MIN_IMAGES"]))
    except TrainingError:
        service.forget_recognizer(course, current_app.config)
        return "Too few students with photos remain to retrain, so the course's recognizer was removed."
    job = jobs.create_job("train", course.id, message="Waiting to start training")
    jobs.submit(current_app._get_current_object(), job.id, run_training_job, course_id=course.id)
    return "The course is retraining without them."
