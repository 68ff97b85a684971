"""Attendance records after the camera: sessions, corrections, statistics, charts, exports, digest."""
from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")


@bp.app_context_processor
def panel_helpers() -> dict:
    """reports_panel(course): the data the course page's attendance panel shows."""
    from .stats import course_panel

    return {"reports_panel": course_panel}


from . import routes  # noqa: E402,F401
