"""Attendance records after the camera: sessions, corrections, statistics, charts, exports, digest."""
from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")


from . import routes  # noqa: E402,F401
