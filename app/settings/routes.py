"""Settings views: the mail set-up IT configured, the teacher's outbox, a test email."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from .. import db
from ..notify import enqueue_mail, outbox_counts, recent_messages, wake_sender
from . import bp


@bp.before_request
@login_required
def _require_login() -> None:
    """Settings are for logged-in teachers only."""


@bp.get("/")
def index():
    """Mail settings (never the password), outbox counts and recent messages."""
    config = current_app.config
    mail = {
        "enabled": config["MAIL_ENABLED"], "host": config["MAIL_HOST"], "port": config["MAIL_PORT"],
        "user": config["MAIL_USER"] or "(none: no login)", "sender": config["MAIL_SENDER"],
        "ssl": config["MAIL_SSL"], "starttls": config["MAIL_STARTTLS"],
        "password_set": bool(config["MAIL_PASSWORD"]),
    }
    return render_template("settings/index.html", mail=mail, counts=outbox_counts(current_user.id),
                           messages=recent_messages(current_user.id), max_attempts=config["MAIL_MAX_ATTEMPTS"])


@bp.post("/test-email")
def test_email():
    """Queue a test email to the logged-in teacher."""
    enqueue_mail(current_user.id, current_user.email, "Rollcall test email",
                 "This is a test email from Rollcall. If you can read it, unknown-person alerts will reach you.")
    db.session.commit()
    wake_sender()
    if current_app.config["MAIL_ENABLED"]:
        flash(f"Test email queued to {current_user.email}; its state shows below.", "success")
    else:
        flash("Test email queued, but mail is turned off (MAIL_ENABLED): it will wait in the outbox.", "warning")
    return redirect(url_for("settings.index"))
