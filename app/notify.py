"""Email through an outbox table: callers add rows, one sender thread delivers them with yagmail and retries."""
from __future__ import annotations

import logging
import mimetypes
import re
import threading
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any, Mapping

import yagmail
from flask import Flask
from sqlalchemy import func, select, update

from . import db
from .models import MailStatus, OutboxMessage

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0
FIRST_RETRY_SECONDS = 5.0
BATCH = 20
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


class PermanentMailError(ValueError):
    """This message can never be sent as it is (no retry helps)."""


def enqueue_mail(teacher_id: int | None, to: str, subject: str, body: str,
                 attachment: str | None = None) -> OutboxMessage:
    """Add a pending message to the current DB session (the caller commits); the sender thread delivers it."""
    message = OutboxMessage(teacher_id=teacher_id, to=to, subject=subject[:300], body=body,
                            attachment=attachment, status=MailStatus.PENDING, next_attempt_at=_now())
    db.session.add(message)
    db.session.flush()
    _wake.set()
    return message


def build_message(sender: str, message: OutboxMessage) -> EmailMessage:
    """The MIME message: plain text only (names teachers type never become HTML), its own Message-ID."""
    msg = EmailMessage()
    # A line break in a name must not end the header (or fail the mail forever): headers get one line.
    msg["Subject"] = one_line(message.subject)
    msg["From"] = sender
    msg["To"] = one_line(message.to)
    msg["Date"] = formatdate(localtime=False)
    # Unique per mail: yagmail's default Message-ID is the same for every alert, so clients hide repeats.
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    msg.set_content(message.body)
    if message.attachment:
        path = Path(message.attachment)
        if not path.is_file():
            raise FileNotFoundError(f"attachment {path.name} is missing")
        kind = (mimetypes.guess_type(path.name)[0] or "application/octet-stream").split("/", 1)
        msg.add_attachment(path.read_bytes(), maintype=kind[0], subtype=kind[1], filename=path.name)
    return msg


def one_line(text: str) -> str:
    """Text with every control character (line breaks included) turned into one space."""
    return _CONTROL.sub(" ", text or "").strip()


def send_now(config: Mapping[str, Any], message: OutboxMessage) -> None:
    """Deliver one message over SMTP; raises on any failure (the caller records it)."""
    password = config["MAIL_PASSWORD"] or None
    sender = config["MAIL_SENDER"] or config["MAIL_USER"] or "rollcall@localhost"  # overrides may blank it
    try:
        msg = build_message(sender, message)
    except (ValueError, TypeError) as exc:  # a header the email package refuses: retrying cannot help
        raise PermanentMailError(f"the message cannot be built: {exc}") from exc
    # Always a password or smtp_skip_login: otherwise yagmail asks the keyring and then prompts.
    smtp = yagmail.SMTP(
        user=config["MAIL_USER"] or sender,
        password=password,
        host=config["MAIL_HOST"],
        port=int(config["MAIL_PORT"]),
        smtp_ssl=bool(config["MAIL_SSL"]),
        smtp_starttls=bool(config["MAIL_STARTTLS"]),
        smtp_skip_login=password is None,
        soft_email_validation=False,
    )
    try:
        # yagmail connects (SSL / STARTTLS / login); the message is ours, so nothing is re-encoded as
        # HTML, and an SMTP error raises here instead of being parked in yagmail's `unsent` list.
        smtp.login()
        smtp.smtp.send_message(msg, from_addr=smtp.user, to_addrs=[msg["To"]])
    finally:
        smtp.close()


def deliver_due(app: Flask, now: datetime | None = None) -> int:
    """Send every pending message whose time has come; returns how many were sent."""
    sent = 0
    with app.app_context():
        now = now or _now()
        ids = db.session.scalars(
            select(OutboxMessage.id).where(OutboxMessage.status == MailStatus.PENDING, OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.id).limit(BATCH)
        ).all()
        for message_id in ids:
            # Claim the row first, so two senders (web app and `flask attend`) never send it twice.
            claimed = db.session.execute(
                update(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.status == MailStatus.PENDING)
                .values(status=MailStatus.SENDING)
            ).rowcount
            db.session.commit()
            if not claimed:
                continue
            sent += _deliver_one(app, message_id)
        db.session.remove()
    return sent


def _deliver_one(app: Flask, message_id: int) -> int:
    message = db.session.get(OutboxMessage, message_id)
    message.attempts += 1
    try:
        send_now(app.config, message)
    except Exception as exc:  # noqa: BLE001  (any SMTP/network error means "try again later")
        message.last_error = f"{type(exc).__name__}: {exc}"[:1000]
        max_attempts = int(app.config["MAIL_MAX_ATTEMPTS"])
        if isinstance(exc, PermanentMailError) or message.attempts >= max_attempts:
            # A final state the settings page shows, instead of retrying forever.
            message.status = MailStatus.FAILED
            db.session.commit()
            log.error("mail %s to %s failed for good after %s attempt(s): %s",
                      message_id, message.to, message.attempts, exc)
            return 0
        delay = min(FIRST_RETRY_SECONDS * 2 ** (message.attempts - 1), float(app.config["MAIL_RETRY_MAX_SECONDS"]))
        message.status = MailStatus.PENDING
        message.next_attempt_at = _now() + timedelta(seconds=delay)
        db.session.commit()
        log.warning("mail %s to %s failed (attempt %s), retry in %.0f s: %s",
                    message_id, message.to, message.attempts, delay, exc)
        return 0
    message.status, message.sent_at, message.last_error = MailStatus.SENT, _now(), ""
    db.session.commit()
    log.info("mail %s sent to %s", message_id, message.to)
    return 1


def outbox_counts(teacher_id: int | None = None) -> dict[str, int]:
    """Messages per status (pending, sending, sent, failed), optionally for one teacher."""
    query = select(OutboxMessage.status, func.count(OutboxMessage.id)).group_by(OutboxMessage.status)
    if teacher_id is not None:
        query = query.where(OutboxMessage.teacher_id == teacher_id)
    counts = {status.value: 0 for status in MailStatus}
    counts.update({status: n for status, n in db.session.execute(query).all()})
    return counts


def recent_messages(teacher_id: int, limit: int = 20) -> list[OutboxMessage]:
    """A teacher's newest outbox messages, for the settings page."""
    return list(db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.teacher_id == teacher_id)
        .order_by(OutboxMessage.id.desc()).limit(limit)
    ))


def release_stuck(app: Flask) -> None:
    """Messages left 'sending' by a crash go back to 'pending' (at worst one duplicate, never a loss)."""
    with app.app_context():
        db.session.execute(update(OutboxMessage).where(OutboxMessage.status == MailStatus.SENDING).values(status=MailStatus.PENDING))
        db.session.commit()
        db.session.remove()


_wake = threading.Event()


def wake_sender() -> None:
    """Ask the sender to look at the outbox now instead of at its next poll."""
    _wake.set()


class OutboxSender(threading.Thread):
    """The one thread that talks to SMTP; a dead server only delays mail."""

    def __init__(self, app: Flask, poll_seconds: float = POLL_SECONDS) -> None:
        super().__init__(name="outbox-sender", daemon=True)
        self.app, self.poll_seconds = app, poll_seconds
        self.stop_event = threading.Event()

    def run(self) -> None:
        """Deliver due mail until stopped; every round is guarded."""
        while not self.stop_event.is_set():
            try:
                deliver_due(self.app)
            except Exception:  # noqa: BLE001  (a DB hiccup must not end mail for good)
                log.exception("outbox round failed")
            _wake.wait(self.poll_seconds)
            _wake.clear()

    def stop(self, timeout: float = 10.0) -> None:
        """End the loop and wait for it."""
        self.stop_event.set()
        _wake.set()
        self.join(timeout)


def _now() -> datetime:
    return datetime.now(timezone.utc)
