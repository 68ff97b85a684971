"""The home page sends teachers to their courses, everyone else to log in."""
from flask import redirect, url_for
from flask_login import current_user

from . import bp


@bp.get("/")
def index():
    """Courses for a logged-in teacher, otherwise the login page."""
    return redirect(url_for("courses.index" if current_user.is_authenticated else "auth.login"))


@bp.get("/healthz")
def healthz():
    """Liveness for IT's monitoring."""
    return {"status": "ok"}
