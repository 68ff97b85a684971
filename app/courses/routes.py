"""Course views: list, create, detail, rename, delete, train and job progress."""
from __future__ import annotations

import threading

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import jobs
from ..models import JobStatus
# Modules, not names: these areas import courses too, and their names are looked up per request.
from ..attendance import service as attendance, sources as attendance_sources
from ..privacy import service as privacy
from ..reports import stats as reports
from ..review import service as review
from ..owned import course_or_404
from ..vision.features import FEATURE_KINDS, FeatureError, check_feature_kind
from . import bp
from .forms import ActionForm, CourseForm
from .service import course_counts, create_course, delete_course, list_courses, retrain_needed, update_course
from .tasks import run_training_job

# Check-then-queue must be one step: five Train clicks at once queue one job (one server process).
_train_lock = threading.Lock()


@bp.before_request
@login_required
def _require_login() -> None:
    """Every course page is for logged-in teachers only."""


@bp.get("/")
def index():
    """The teacher's courses, or an invitation to create the first one."""
    courses = list_courses(current_user.id)
    return render_template("courses/index.html", courses=courses,
                           counts=course_counts([c.id for c in courses]))


@bp.route("/create", methods=["GET", "POST"])
def create():
    """Create a course."""
    form = CourseForm()
    if request.method == "GET":
        form.features.data = current_app.config["RECOGNIZER_FEATURES"]
    if form.validate_on_submit():
        course = create_course(current_user.id, form.name.data, form.features.data)
        flash(f"Course “{course.name}” created. Add its students next.", "success")
        return redirect(url_for("courses.detail", course_id=course.id))
    return render_template("courses/create.html", form=form)


@bp.get("/<int:course_id>")
def detail(course_id: int):
    """Course page: students, recognizer, attendance and reports panels."""
    course = course_or_404(course_id)
    stale = retrain_needed(course, current_app.config)
    if stale:
        flash(stale, "warning")
    # The view gathers each area's panel (its own service's query), so templates run no queries.
    config = current_app.config
    return render_template("courses/detail.html", course=course, action_form=ActionForm(),
                           train_job=jobs.latest_job(course.id, "train"),
                           counts={s.id: len(s.samples) for s in course.students},
                           attendance_panel=attendance_sources.start_panel(
                               course, config, attendance.running_session(course.id)),
                           reports_panel=reports.course_panel(course), review_added=review.chips_since_training(course),
                           snapshot_retention=privacy.retention(course, config["SNAPSHOT_RETENTION_DAYS"]))


@bp.route("/<int:course_id>/edit", methods=["GET", "POST"])
def edit(course_id: int):
    """Rename a course or switch its face features (which retrains it)."""
    course = course_or_404(course_id)
    form = CourseForm(obj=course)
    if form.validate_on_submit():
        if update_course(course, form.name.data, form.features.data) and course.recognizer_version:
            return _start_training(course, f"Face features set to “{course.features}”: retraining now. "
                                           "The previous recognizer stays in use until it finishes.")
        flash("Course saved.", "success")
        return redirect(url_for("courses.detail", course_id=course.id))
    return render_template("courses/edit.html", form=form, course=course, action_form=ActionForm())


@bp.post("/<int:course_id>/features")
def switch_features(course_id: int):
    """One click from the comparison on the course page: use the other feature kind (retrains)."""
    course = course_or_404(course_id)
    kind = request.form.get("features", "")
    if not ActionForm().validate_on_submit() or kind not in FEATURE_KINDS or kind == course.features:
        return redirect(url_for("courses.detail", course_id=course.id))
    try:
        check_feature_kind(kind)
    except FeatureError as exc:
        flash(str(exc), "error")
        return redirect(url_for("courses.detail", course_id=course.id))
    update_course(course, course.name, kind)
    return _start_training(course, f"Face features set to “{kind}”: retraining now. "
                                   "The previous recognizer stays in use until it finishes.")


@bp.post("/<int:course_id>/delete")
def delete(course_id: int):
    """Delete a course with all its students' face data (the page asks for confirmation first)."""
    course = course_or_404(course_id)
    if ActionForm().validate_on_submit():
        name = course.name
        delete_course(course, current_app.config)
        flash(f"Course “{name}” and its students' face data were deleted.", "success")
    return redirect(url_for("courses.index"))


@bp.post("/<int:course_id>/train")
def train(course_id: int):
    """Start training in the background and show its progress."""
    course = course_or_404(course_id)
    if not ActionForm().validate_on_submit():
        return redirect(url_for("courses.detail", course_id=course.id))
    return _start_training(course, "Training started. It keeps running if you leave this page.")


def _start_training(course, message: str):
    """Queue a training job unless one is already running, and show its progress page."""
    with _train_lock:  # submit inside too: a job not yet submitted would look orphaned to the next click
        running = jobs.latest_job(course.id, "train")
        if running is not None and running.status in (JobStatus.QUEUED, JobStatus.RUNNING):
            flash("Training is already running for this course.", "info")
            return redirect(url_for("courses.job", course_id=course.id, job_id=running.id))
        job = jobs.create_job("train", course.id, message="Waiting to start training")
        jobs.submit(current_app._get_current_object(), job.id, run_training_job, course_id=course.id)
    flash(message, "info")
    return redirect(url_for("courses.job", course_id=course.id, job_id=job.id))


@bp.get("/<int:course_id>/jobs/<int:job_id>")
def job(course_id: int, job_id: int):
    """Progress of a background job (JSON for scripts, an auto-refreshing page otherwise)."""
    course = course_or_404(course_id)
    item = jobs.get_job_or_404(course, job_id)
    if request.accept_mimetypes.best == "application/json":
        return {"id": item.id, "kind": item.kind, "status": item.status, "progress": item.progress,
                "message": item.message, "result": item.result}
    return render_template("courses/job.html", course=course, job=item)
