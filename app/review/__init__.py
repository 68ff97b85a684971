"""The teacher's review of what the camera was unsure about: unknown faces and low-scoring marks."""
from flask import Blueprint

bp = Blueprint("review", __name__, url_prefix="/review")

from . import routes  # noqa: E402,F401
