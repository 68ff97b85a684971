"""Live attendance: start/stop a camera session, live view, MJPEG stream, status JSON."""
from flask import Blueprint

bp = Blueprint("attendance", __name__, url_prefix="/attendance")


@bp.record_once
def _reload_cameras_when_a_course_retrains(state) -> None:
    """Courses tell whoever registered that a recognizer became current; running cameras of this process load it."""
    from ..courses.service import on_recognizer_changed
    from .camera_service import camera_service

    on_recognizer_changed(state.app, lambda _course_id: camera_service(state.app).follow_current_recognizers())

from . import routes  # noqa: E402,F401
