"""Attendance views: start, stop, sessions list, live page, MJPEG stream and status JSON."""
from __future__ import annotations

import time

from flask import (Response, abort, current_app, flash, jsonify, redirect, render_template, request,
                   send_from_directory, url_for)
from flask_login import current_user, login_required

from . import bp, service
from .camera_service import camera_service
from ..errors import public_message
from ..models import SessionStatus
from ..storage import storage
from .service import AttendanceError
from .sources import discard_upload, source_from_form
from .viewers import viewer_limits

# A viewer's stream ends after this long without a new frame (camera finished or stuck).
STREAM_IDLE_SECONDS = 10.0


@bp.before_request
@login_required
def _require_login() -> None:
    """Every attendance page is for logged-in teachers only."""


@bp.get("/")
def index():
    """The teacher's sessions, running ones first."""
    sessions = service.recent_sessions(current_user.id)
    return render_template("attendance/index.html", sessions=sessions)


@bp.post("/start")
def start():
    """Start Attendance: resolve the source, start the camera, go to the live page."""
    course_id = request.form.get("course_id", type=int)
    if course_id is not None and not 0 < course_id < 2**63:
        course_id = None  # beyond a database id: "not found", not an overflow
    back = url_for("courses.detail", course_id=course_id) if course_id else url_for("attendance.index")
    source = None
    try:
        source = source_from_form(request.form, request.files.get("video_file"), current_app.config)
        session_id = camera_service(current_app._get_current_object()).start(
            course_id or 0, source, teacher_id=current_user.id, email=True, view=request.form.get("camera_view"))
    except AttendanceError as exc:
        if source is not None:
            discard_upload(source, current_app.config)  # a refused start keeps no uploaded video
        flash(f"Attendance not started: {public_message(str(exc))}", "error")
        return redirect(back)
    flash("Attendance started.", "success")
    return redirect(url_for("attendance.live", session_id=session_id))


@bp.post("/<int:session_id>/stop")
def stop(session_id: int):
    """Stop the camera and close the session."""
    session_or_404(session_id)
    stats = camera_service(current_app._get_current_object()).stop(session_id) or {}
    service.end_session(session_id, SessionStatus.ENDED, "stopped by the teacher", stats.get("frames"), stats.get("frames_analysed"))
    flash("Attendance stopped.", "success")
    return redirect(url_for("attendance.live", session_id=session_id))


@bp.get("/<int:session_id>")
def live(session_id: int):
    """Live page: the annotated stream, who is marked, counts and camera status."""
    session = session_or_404(session_id)
    worker = camera_service(current_app._get_current_object()).worker(session_id)
    return render_template("attendance/live.html", session=session, summary=service.session_summary(session_id),
                           camera=worker.stats() if worker else None, streaming=bool(worker and worker.is_alive()))


@bp.get("/<int:session_id>/status")
def status(session_id: int):
    """Status JSON polled by the live page."""
    session_or_404(session_id)
    worker = camera_service(current_app._get_current_object()).worker(session_id)
    summary = service.session_summary(session_id)
    summary["camera"] = worker.stats() if worker else None
    for m in summary["marked"]:
        m["snapshot_url"] = url_for("attendance.snapshot", session_id=session_id, name=m["snapshot"]) \
            if m["snapshot"] else None
    return jsonify(summary)


@bp.get("/<int:session_id>/stream")
def stream(session_id: int):
    """MJPEG of the annotated camera; viewers are capped per session and per teacher (429 beyond)."""
    session_or_404(session_id)
    worker = camera_service(current_app._get_current_object()).worker(session_id)
    if worker is None:
        abort(404)
    release = viewer_limits(current_app.extensions).acquire(
        session_id, current_user.id, int(current_app.config["CAMERA_MAX_VIEWERS_PER_SESSION"]),
        int(current_app.config["CAMERA_MAX_VIEWERS_PER_TEACHER"]))
    if release is None:
        return Response("Too many live views are open for this session or account; close one and reload.",
                        status=429, mimetype="text/plain", headers={"Retry-After": str(int(STREAM_IDLE_SECONDS))})

    def frames():
        seq, last_new = 0, time.monotonic()
        while True:
            jpeg, new_seq = worker.latest_jpeg(seq, timeout=1.0)
            if jpeg is not None and new_seq != seq:
                seq, last_new = new_seq, time.monotonic()
                yield b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: " + str(len(jpeg)).encode() \
                    + b"\r\n\r\n" + jpeg + b"\r\n"
            elif not worker.is_alive() or time.monotonic() - last_new > STREAM_IDLE_SECONDS:
                return

    response = Response(frames(), mimetype="multipart/x-mixed-replace; boundary=frame",
                        headers={"Cache-Control": "no-store"})
    response.call_on_close(release)  # the server closes the response when the viewer goes away
    return response


@bp.get("/<int:session_id>/snapshots/<name>")
def snapshot(session_id: int, name: str):
    """A face snapshot of this session (marked student or unknown person)."""
    session_or_404(session_id)
    folder = storage(current_app.config).session_dir(session_id)
    return send_from_directory(folder, name, max_age=0)  # safe_join inside refuses "../"


def session_or_404(session_id: int):
    """The current teacher's attendance session, or 404 (reports and review use it too)."""
    session = service.get_session(session_id, current_user.id)
    if session is None:
        abort(404)
    return session
