"""Friendly error pages for the statuses a teacher can meet."""
from __future__ import annotations

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
    500: "Something went wrong on the server. Nothing you saved was lost; please try again.",
}


def register_error_handlers(app: Flask) -> None:
    """HTML error pages (JSON for /api-style requests that ask for it)."""

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return _render(400, "The form expired or was sent from elsewhere. Go back, reload the page and try again.")

    @app.errorhandler(DetectorError)
    def detector_missing(exc: DetectorError):
        app.logger.error("face detector unavailable: %s", exc)
        return _render(503, f"The face detector is not installed on this server, so nothing was processed "
                            f"and nothing you saved was lost. Ask IT to run `make run` or "
                            f"`flask --app run fetch-models`. ({exc})")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return _render(exc.code or 500, MESSAGES.get(exc.code or 500, exc.description))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        app.logger.exception("unhandled error on %s", request.path)
        from . import db

        db.session.rollback()
        return _render(500, MESSAGES[500])


def _render(code: int, message: str):
    if request.accept_mimetypes.best == "application/json":
        return {"error": message}, code
    return render_template("error.html", code=code, message=message), code
