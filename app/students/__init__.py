"""Students of a course and their enrollment (photos, video, roster import)."""
from flask import Blueprint

bp = Blueprint("students", __name__)


@bp.record_once
def _sweep_at_start(state) -> None:  # noqa: ANN001
    """A crash can leave unpacked ZIP folders (students' faces) behind: remove them when the app starts."""
    from .bulk import sweep_bulk_folders

    sweep_bulk_folders(state.app.config["UPLOAD_DIR"], at_start=True)


from . import routes  # noqa: E402,F401
