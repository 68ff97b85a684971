"""Live attendance: start/stop a camera session, live view, MJPEG stream, status JSON."""
from flask import Blueprint

bp = Blueprint("attendance", __name__, url_prefix="/attendance")

from . import routes  # noqa: E402,F401
