"""Settings: mail configuration (read-only, from the environment), outbox state, test email."""
from flask import Blueprint

bp = Blueprint("settings", __name__, url_prefix="/settings")

from . import routes  # noqa: E402,F401
