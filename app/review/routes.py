"""Review views: the queue of a session and the one-click answers (each a POST that redirects back)."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..attendance.routes import session_or_404
from ..attendance.records import CorrectionError
from . import bp, service


@bp.before_request
@login_required
def _require_login() -> None:
    """Reviews are for logged-in teachers only."""


@bp.get("/sessions/<int:session_id>")
def session(session_id: int):
    """Every unknown face and uncertain mark of a session, each with its snapshot and three answers."""
    sess = session_or_404(session_id)
    items = service.pending_items(sess, current_app.config)
    students = sorted(sess.course.students, key=lambda s: (s.name.lower(), s.id))
    return render_template("review/session.html", sess=sess, items=items, students=students,
                           names={s.id: s.name for s in students},
                           absent_pending=service.absent_with_pending(sess),
                           added=service.chips_since_training(sess.course))


@bp.post("/sessions/<int:session_id>/<kind>/<int:item_id>")
def answer(session_id: int, kind: str, item_id: int):
    """Apply "this is <student>", "stranger" or "ignore" to one sighting or mark."""
    sess = session_or_404(session_id)
    if kind not in ("sighting", "record"):
        abort(404)
    apply = service.answer_sighting if kind == "sighting" else service.answer_record
    try:
        message = apply(sess, item_id, request.form.get("answer", ""), current_user.id, current_app.config,
                        student_id=request.form.get("student_id", type=int))
        flash(message, "success")
    except (service.ReviewError, CorrectionError) as exc:
        flash(str(exc), "error")
    return redirect(url_for("review.session", session_id=sess.id))
