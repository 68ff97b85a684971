"""The home page sends teachers to their courses, everyone else to log in."""
from flask import redirect, url_for
from flask_login import current_user

from . import bp


@bp.get("/")
def index():
    """Courses for a logged-in teacher, otherwise the login page."""
    if current_user.is_authenticated and "courses.index" in _endpoints():
        return redirect(url_for("courses.index"))
    return redirect(url_for("auth.login")) if "auth.login" in _endpoints() else ("Rollcall", 200)


@bp.get("/healthz")
def healthz():
    """Liveness for IT's monitoring."""
    return {"status": "ok"}


def _endpoints() -> set[str]:
    from flask import current_app

    return set(current_app.view_functions)
