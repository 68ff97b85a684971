"""Student views: list, add, edit, delete, roster import, photo/video enrollment, face images."""
from __future__ import annotations

import base64
from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, send_from_directory, url_for
from flask_login import login_required

from .. import jobs
from ..courses.forms import ActionForm
from ..models import Student
from ..owned import course_or_404, sample_or_404, student_or_404
from ..storage import storage
from . import bp
from .enrollment import EnrollmentError, enroll_photos, store_video
from .bulk import unpack_zip
from .forms import BulkUploadForm, PhotoUploadForm, RosterForm, StudentForm, VideoUploadForm
from .service import (StudentError, confirm_sample, create_student, delete_sample, delete_student,
                      import_roster, look_alike_names, sample_counts, update_student)
from .tasks import run_bulk_job, run_video_job

MAX_PHOTOS_PER_UPLOAD = 50


@bp.before_request
@login_required
def _require_login() -> None:
    """Every student page is for logged-in teachers only."""


@bp.get("/courses/<int:course_id>/students/")
def index(course_id: int):
    """All students of a course with their face image counts."""
    course = course_or_404(course_id)
    return render_template("students/index.html", course=course, counts=sample_counts(course))


@bp.route("/courses/<int:course_id>/students/new", methods=["GET", "POST"])
def create(course_id: int):
    """Add a student, then go to their enrollment page."""
    course = course_or_404(course_id)
    form = StudentForm()
    if form.validate_on_submit():
        try:
            student = create_student(course, form.name.data, form.roll_number.data, form.email.data)
        except StudentError as exc:
            form.roll_number.errors.append(str(exc))
        else:
            flash(f"{student.name} added. Now upload a few photos or a short video.", "success")
            return redirect(url_for("students.detail", student_id=student.id))
    return render_template("students/create.html", form=form, course=course)


def import_roster_view(course_id: int):
    """Create students from a CSV roster and report bad rows."""
    course = course_or_404(course_id)
    form, result = RosterForm(), None
    if form.validate_on_submit():
        try:
            text = form.roster.data.read().decode("utf-8-sig")
            result = import_roster(course, text)
        except UnicodeDecodeError:
            flash("The file is not a UTF-8 text CSV. Save it from your spreadsheet as “CSV UTF-8”.", "error")
        except StudentError as exc:
            flash(str(exc), "error")
        else:
            flash(f"Imported {result.created} student{'s' if result.created != 1 else ''}"
                  f"{f'; {len(result.errors)} row{_s(result.errors)} had problems' if result.errors else ''}.",
                  "warning" if result.errors else "success")
    return render_template("students/import_roster.html", form=form, course=course, result=result)


# Endpoint students.import_roster (the view function is renamed so it does not shadow the service).
bp.add_url_rule("/courses/<int:course_id>/students/import", endpoint="import_roster",
                view_func=import_roster_view, methods=["GET", "POST"])


@bp.route("/courses/<int:course_id>/students/bulk", methods=["GET", "POST"])
def bulk(course_id: int):
    """Enroll a whole class from a ZIP of per-student photo folders, in the background."""
    course = course_or_404(course_id)
    form = BulkUploadForm()
    if form.validate_on_submit():
        try:
            folder, labels = unpack_zip(form.archive.data.stream, current_app.config["UPLOAD_DIR"])
        except EnrollmentError as exc:
            flash(f"ZIP rejected: {exc}.", "error")
        else:
            job = jobs.create_job("enroll_bulk", course.id, message="Waiting to read the photos")
            jobs.submit(current_app._get_current_object(), job.id, run_bulk_job, course_id=course.id,
                        folder=str(folder), labels=labels)
            return redirect(url_for("courses.job", course_id=course.id, job_id=job.id))
    return render_template("students/bulk.html", form=form, course=course)


@bp.get("/students/<int:student_id>")
def detail(student_id: int):
    """A student's face images and the upload forms."""
    return _render_detail(student_or_404(student_id))


def _render_detail(student: Student, previews: list[tuple[str, str, str]] | None = None):
    """The student page; previews are (name, reason, data URI) of photos just refused, boxes drawn."""
    return render_template("students/detail.html", student=student, course=student.course,
                           photo_form=PhotoUploadForm(), video_form=VideoUploadForm(), action_form=ActionForm(),
                           video_job=jobs.latest_job(student.course_id, "enroll_video", student.id),
                           recommended=current_app.config["RECOGNIZER_RECOMMENDED_IMAGES"],
                           look_alikes=look_alike_names(student), previews=previews or [])


@bp.route("/students/<int:student_id>/edit", methods=["GET", "POST"])
def edit(student_id: int):
    """Change a student's name, roll number or email."""
    student = student_or_404(student_id)
    form = StudentForm(obj=student)
    if form.validate_on_submit():
        try:
            update_student(student, form.name.data, form.roll_number.data, form.email.data)
        except StudentError as exc:
            form.roll_number.errors.append(str(exc))
        else:
            flash("Student updated.", "success")
            return redirect(url_for("students.detail", student_id=student.id))
    return render_template("students/edit.html", form=form, student=student, course=student.course,
                           action_form=ActionForm())


@bp.post("/students/<int:student_id>/delete")
def delete(student_id: int):
    """Delete a student and their face images."""
    student = student_or_404(student_id)
    course_id = student.course_id
    if ActionForm().validate_on_submit():
        name = student.name
        delete_student(student, current_app.config)
        flash(f"{name} and their face images were deleted.", "success")
    return redirect(url_for("courses.detail", course_id=course_id))


@bp.post("/students/<int:student_id>/photos")
def upload_photos(student_id: int):
    """Enroll uploaded photos now (a few photos take a second or two)."""
    student = student_or_404(student_id)
    form = PhotoUploadForm()
    files = [f for f in (form.photos.data or []) if getattr(f, "filename", "")]
    if not form.validate_on_submit() or not files:
        flash("Choose one or more photos to upload.", "error:photos")
    elif len(files) > MAX_PHOTOS_PER_UPLOAD:
        flash(f"Upload at most {MAX_PHOTOS_PER_UPLOAD} photos at a time.", "error:photos")
    else:
        result = enroll_photos(student.id, [(Path(f.filename).name, f.read()) for f in files], current_app.config)
        _flash_result(result.accepted, result.rejected)
        if result.flagged:
            flash(f"{len(result.flagged)} of the new face images look like another student of this course. "
                  "They are kept out of training until you confirm them below.", "warning")
        if result.previews:  # shown once, in this response: refused photos are not stored anywhere
            return _render_detail(student, [(name, reason, "data:image/jpeg;base64," + base64.b64encode(jpeg).decode())
                                            for name, reason, jpeg in result.previews])
    return redirect(url_for("students.detail", student_id=student.id))


@bp.post("/students/<int:student_id>/video")
def upload_video(student_id: int):
    """Check the video now; sample its frames in the background and show progress."""
    student = student_or_404(student_id)
    form = VideoUploadForm()
    if not form.validate_on_submit():
        flash("Choose a video file to upload.", "error:video")
        return redirect(url_for("students.detail", student_id=student.id))
    try:
        path = store_video(form.video.data, form.video.data.filename, current_app.config["UPLOAD_DIR"])
    except EnrollmentError as exc:
        flash(f"Video rejected: {exc}.", "error:video")
        return redirect(url_for("students.detail", student_id=student.id))
    job = jobs.create_job("enroll_video", student.course_id, student.id, "Waiting to read the video")
    jobs.submit(current_app._get_current_object(), job.id, run_video_job, student_id=student.id, path=str(path))
    return redirect(url_for("courses.job", course_id=student.course_id, job_id=job.id))


@bp.get("/students/<int:student_id>/faces/<int:sample_id>.png")
def face(student_id: int, sample_id: int):
    """One stored face image (only for its owner)."""
    student = student_or_404(student_id)
    sample = sample_or_404(student, sample_id)
    folder = storage(current_app.config).student_dir(student.id)
    if not (folder / sample.filename).is_file():
        abort(404)
    return send_from_directory(folder, sample.filename, mimetype="image/png", max_age=3600)


@bp.post("/students/<int:student_id>/faces/<int:sample_id>/confirm")
def confirm_face(student_id: int, sample_id: int):
    """The teacher checked a flagged face: it is this student after all, so training may use it."""
    student = student_or_404(student_id)
    sample = sample_or_404(student, sample_id)
    if ActionForm().validate_on_submit():
        confirm_sample(sample)
        flash("Face image confirmed: it is used at the next training.", "success")
    return redirect(url_for("students.detail", student_id=student.id))


@bp.post("/students/<int:student_id>/faces/<int:sample_id>/delete")
def delete_face(student_id: int, sample_id: int):
    """Delete one bad face image."""
    student = student_or_404(student_id)
    sample = sample_or_404(student, sample_id)
    if ActionForm().validate_on_submit():
        delete_sample(sample, current_app.config)
        flash("Face image deleted.", "success")
    return redirect(url_for("students.detail", student_id=student.id))


def _s(items: list) -> str:
    """Plural ending for a count of items ("1 row", "2 rows")."""
    return "" if len(items) == 1 else "s"


def _flash_result(accepted: int, rejected: list[tuple[str, str]]) -> None:
    """A summary at the top of the page; each rejected photo's reason next to the upload field."""
    if accepted:
        flash(f"Added {accepted} face image{'s' if accepted != 1 else ''}.", "success")
    if rejected:
        flash(f"{len(rejected)} photo{'s were' if len(rejected) != 1 else ' was'} not added: "
              "the reasons are under Upload photos.", "warning")
    for name, reason in rejected[:20]:
        flash(f"{name}: rejected, {reason}.", "error:photos")
    if len(rejected) > 20:
        flash(f"… and {len(rejected) - 20} more rejected.", "error:photos")
