"""Attendance records after the camera: sessions, corrections, statistics, charts, exports, digest."""
from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")


@bp.record_once
def _mail_digest_when_sessions_end(state) -> None:
    """Attendance tells whoever registered when a session ends; the dependency runs reports -> attendance only."""
    from ..attendance.service import on_session_ended
    from .digest import send_absence_digest

    on_session_ended(state.app, send_absence_digest)


from . import routes  # noqa: E402,F401
