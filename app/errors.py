"""Friendly error pages for the statuses a teacher can meet; none shows a server path."""
from __future__ import annotations

import errno
import re

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .vision.detector import DetectorError

MESSAGES = {
    400: "The request could not be understood.",
    403: "You do not have access to this page.",
    404: "Not found. It may have been deleted, or it belongs to another account.",
    405: "That action is not allowed here.",
    413: "The file is too large. Upload a smaller photo or a shorter video.",
    429: "Too many attempts. Wait a little and try again.",
    500: "Something went wrong on the server. Nothing you saved was lost; please try again.",
    507: "The server could not save this: its data folder is full or read-only. Nothing was half-saved; "
         "ask IT to free space or fix the folder's permissions, then try again.",
}
# Errors of the storage itself (not of one request): the teacher can only report them.
STORAGE_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT, errno.ENOTDIR, errno.EFBIG}
# An absolute path with at least two parts (/srv/rollcall/models/...): never shown, only its last part.
_PATH = re.compile(r"(?<![\w:/])/(?:[^\s/'\"():,]+/)+([^\s/'\"():,]*)")


def public_message(text: str) -> str:
    """A message safe to show: server paths are cut to their last part (a file name says enough)."""
    return _PATH.sub(lambda m: m.group(1) or "(folder)", str(text))


def is_storage_error(exc: BaseException) -> bool:
    """True for disk full, read-only or permission errors of the data folders."""
    return isinstance(exc, OSError) and exc.errno in STORAGE_ERRNOS


def register_error_handlers(app: Flask) -> None:
    """HTML error pages (JSON for /api-style requests that ask for it)."""

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return _render(400, "The form expired or was sent from elsewhere. Go back, reload the page and try again.")

    @app.errorhandler(DetectorError)
    def detector_missing(exc: DetectorError):
        app.logger.error("face detector unavailable: %s", exc)
        return _render(503, "The face detector is not installed on this server, so nothing was processed "
                            "and nothing you saved was lost. Ask IT to run `make run` or "
                            f"`flask --app run fetch-models`. ({public_message(str(exc))})")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        # A 429's Retry-After is added by Flask-Limiter's after-request hook (RATELIMIT_HEADERS_ENABLED).
        return _render(exc.code or 500, MESSAGES.get(exc.code or 500, public_message(exc.description or "")))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        from . import db

        db.session.rollback()
        if is_storage_error(exc):
            app.logger.error("storage error on %s: %s", request.path, exc)
            return _render(507, MESSAGES[507])
        app.logger.exception("unhandled error on %s", request.path)
        return _render(500, MESSAGES[500])


def _render(code: int, message: str):
    if request.accept_mimetypes.best == "application/json":
        return {"error": message}, code
    return render_template("error.html", code=code, message=message), code
