"""Report views: parse the request, check ownership, call the service, render or redirect."""
from __future__ import annotations

from datetime import date

from flask import Response, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from ..attendance.routes import session_or_404
from ..auth.service import set_absence_digest
from ..attendance.records import CorrectionError, set_mark
from ..attendance.service import AttendanceError, set_excluded
from ..attendance.service import delete_session as delete_attendance_session
from ..review import service as review
from ..owned import course_or_404, student_or_404
from ..redirects import safe_redirect_target
from ..storage import storage
from . import bp, charts, exports, service, stats
from ..timezones import format_local
from .digest import send_absence_digest
from .forms import CorrectionForm, PreferencesForm

EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@bp.before_request
@login_required
def _require_login() -> None:
    """Every report is for logged-in teachers only."""


@bp.get("/courses/<int:course_id>")
def course(course_id: int):
    """Course statistics: chart, per-student percentages (low ones highlighted), exports."""
    course = course_or_404(course_id)
    students = stats.student_stats_page(course.id, _page(), request.args.get("sort", "roll"),
                                        low_only=request.args.get("low") == "1")
    return render_template("reports/course.html", course=course, students=students,
                           sort=request.args.get("sort", "roll"), low=request.args.get("low") == "1")


@bp.get("/courses/<int:course_id>/sessions")
def index(course_id: int):
    """All sessions of a course with counts and status."""
    course = course_or_404(course_id)
    status, sort = request.args.get("status", ""), request.args.get("sort", "newest")
    sessions = service.sessions_page(course.id, _page(), status, sort)
    return render_template("reports/index.html", course=course, sessions=sessions, status=status, sort=sort,
                           statuses=service.SESSION_STATUSES)


@bp.get("/courses/<int:course_id>/chart.svg")
def chart(course_id: int):
    """Attendance % per session as SVG (last 60 counted sessions)."""
    course = course_or_404(course_id)
    bars = [(format_local(s.started_at, current_user.timezone, "%Y-%m-%d %H:%M", with_zone=False), rate)
            for s, rate in stats.session_rates(course.id)]
    svg = charts.attendance_svg(bars, stats.low_threshold())
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "private, no-cache"})


@bp.get("/sessions/<int:session_id>")
def session(session_id: int):
    """One session: every student's mark and evidence, unknown faces, the audit log."""
    sess = session_or_404(session_id)
    args = {k: request.args.get(k, d) for k, d in (("show", "all"), ("sort", "roll"), ("q", ""))}
    roster = service.roster_page(sess, _page(), **args)
    review.fill_best_labels(sess, current_app.config)  # "looks most like Ana" on the unknown-face cards
    names = {s.id: s.name for s in sess.course.students}
    return render_template("reports/session.html", sess=sess, roster=roster, args=args,
                           counts=service.with_counts(sess.course_id, [sess])[0],
                           sightings=[(s, review.describe_match(names.get(s.best_label), s.score,
                                                                review.threshold_of(sess.course)))
                                      for s in service.sightings(sess.id)],
                           absent_pending=review.absent_with_pending(sess), pending=review.pending_count(sess.id),
                           audit=service.corrections(session_id=sess.id))


@bp.post("/sessions/<int:session_id>/delete")
def delete_session(session_id: int):
    """Delete a session with its marks and snapshots (audited)."""
    sess = session_or_404(session_id)
    course_id = sess.course_id
    try:
        described = delete_attendance_session(sess.id, current_user.id, storage(current_app.config))
    except AttendanceError as exc:
        flash(f"Not deleted: {exc}.", "error")
        return redirect(url_for("reports.session", session_id=sess.id))
    flash(f"Deleted {described}.", "success")
    return redirect(url_for("reports.index", course_id=course_id))


@bp.post("/sessions/<int:session_id>/exclude")
def exclude_session(session_id: int):
    """Leave a trial session out of percentages and the chart, or count it again."""
    sess = session_or_404(session_id)
    excluded = request.form.get("excluded") == "1"
    set_excluded(sess.id, current_user.id, excluded)
    flash("This session no longer counts in percentages and the chart." if excluded
          else "This session counts in percentages again.", "success")
    return redirect(url_for("reports.session", session_id=sess.id))


@bp.post("/sessions/<int:session_id>/students/<int:student_id>/mark")
def correct(session_id: int, student_id: int):
    """Mark a student present or absent by hand (reason required, audited)."""
    sess = session_or_404(session_id)
    student_or_404(student_id)
    form = CorrectionForm()
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
    else:
        try:
            set_mark(sess.id, student_id, current_user.id, form.mark.data == "present", form.reason.data)
            flash("Attendance corrected; the change is in the audit log below.", "success")
        except CorrectionError as exc:
            flash(str(exc), "error")
    return redirect(safe_redirect_target(request.form.get("next"), url_for("reports.session", session_id=sess.id)))


@bp.post("/sessions/<int:session_id>/digest")
def digest(session_id: int):
    """Email the absence list of a session now (e.g. again after corrections)."""
    sess = session_or_404(session_id)
    send_absence_digest(sess.id, force=True)
    flash(f"The absence list is on its way to {current_user.email}.", "success")
    return redirect(url_for("reports.session", session_id=sess.id))


@bp.get("/students/<int:student_id>")
def student(student_id: int):
    """A student's attendance history and percentage."""
    st = student_or_404(student_id)
    show = request.args.get("show", "all")
    return render_template("reports/student.html", student=st, stat=stats.student_rate(st), show=show,
                           history=stats.student_history_page(st, _page(), show),
                           audit=service.corrections(student_id=st.id))


@bp.get("/courses/<int:course_id>/export.<fmt>")
def export_course(course_id: int, fmt: str):
    """Course over a date range: one row per student, one column per session."""
    course = course_or_404(course_id)
    try:
        start, end = _date_arg("start"), _date_arg("end")
        if start and end and start > end:
            raise ValueError("The start date is after the end date.")
    except ValueError as exc:
        flash(str(exc), "error")
        return redirect(url_for("reports.course", course_id=course.id))
    rows = exports.course_table(course, start, end, current_user.timezone)
    span = f"{start or 'start'}_{end or 'end'}"
    return _download(rows, fmt, f"rollcall-course{course.id}-{span}",
                     exports.export_info(course, start, end, zone_name=current_user.timezone))


@bp.get("/sessions/<int:session_id>/export.<fmt>")
def export_session(session_id: int, fmt: str):
    """One session: one row per student with status and evidence."""
    sess = session_or_404(session_id)
    rows = exports.session_table(sess, current_user.timezone)
    stamp = format_local(sess.started_at, current_user.timezone, "%Y%m%d-%H%M", with_zone=False)
    return _download(rows, fmt, f"rollcall-session{sess.id}-{stamp}",
                     exports.export_info(sess.course, session=sess, zone_name=current_user.timezone))


@bp.get("/sessions/<int:session_id>/students/<int:student_id>/snapshot")
def record_snapshot(session_id: int, student_id: int):
    """The camera snapshot kept on a student's record."""
    session_or_404(session_id)
    return _snapshot(service.record_snapshot(session_id, student_id))


@bp.get("/sessions/<int:session_id>/sightings/<int:sighting_id>/snapshot")
def sighting_snapshot(session_id: int, sighting_id: int):
    """The snapshot of an unknown face."""
    session_or_404(session_id)
    return _snapshot(service.sighting_snapshot(session_id, sighting_id))


@bp.route("/preferences", methods=["GET", "POST"])
def preferences():
    """Report settings: the absence digest email."""
    form = PreferencesForm()
    if request.method == "GET":
        form.absence_digest.data = current_user.absence_digest
    if form.validate_on_submit():
        set_absence_digest(current_user.id, bool(form.absence_digest.data))
        flash("Absence digest turned " + ("on." if form.absence_digest.data else "off."), "success")
        return redirect(url_for("reports.preferences"))
    return render_template("reports/preferences.html", form=form)


def _page() -> int:
    return request.args.get("page", 1, type=int)


def _date_arg(name: str) -> date | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"“{value}” is not a date; use YYYY-MM-DD.") from None


def _download(rows: list, fmt: str, stem: str, info: dict) -> Response:
    if fmt not in EXPORT_TYPES:
        abort(404)
    body = exports.to_csv(rows) if fmt == "csv" else exports.to_xlsx(rows, info)
    return Response(body, mimetype=EXPORT_TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{stem}.{fmt}"'})


def _snapshot(name: str | None):
    path = storage(current_app.config).snapshot_file(name)
    if path is None:
        abort(404)
    return send_file(path, max_age=3600)
