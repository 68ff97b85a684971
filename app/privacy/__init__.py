"""Personal data of a student: export everything stored about them, erase their face data."""
from flask import Blueprint

bp = Blueprint("privacy", __name__, url_prefix="/privacy")

from . import routes  # noqa: E402,F401
