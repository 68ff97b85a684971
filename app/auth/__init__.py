"""Teacher accounts: sign up, log in, log out; also the layout's template helpers."""
from flask import Blueprint, current_app

bp = Blueprint("auth", __name__, url_prefix="/auth")


@bp.app_context_processor
def layout_helpers() -> dict:
    """has_endpoint(name): lets base.html link to areas only when they are installed."""

    def has_endpoint(name: str) -> bool:
        return name in current_app.view_functions

    return {"has_endpoint": has_endpoint}


from . import routes  # noqa: E402,F401
