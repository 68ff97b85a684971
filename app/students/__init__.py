"""Students of a course and their enrollment (photos, video, roster import)."""
from flask import Blueprint

bp = Blueprint("students", __name__)

from . import routes  # noqa: E402,F401
