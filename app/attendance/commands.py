"""`flask attend`: the same camera worker and writer as the web app, without the web server."""
from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import with_appcontext

from .. import db
from ..models import SessionStatus



@click.command("attend")
@click.option("--course", "course_id", type=int, required=True, help="Course id to take attendance for.")
@click.option("--source", required=True, help="Webcam number (0), stream URL, or video file path.")
@click.option("--no-email", is_flag=True, help="Record unknown people but send no alert email.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (session_id, marked, ...).")
@with_appcontext
def attend_command(course_id: int, source: str, no_email: bool, as_json: bool) -> None:
    """Take attendance until the video ends or Ctrl-C, then print a summary."""
    from ..background import start_background
    from ..notify import deliver_due
    from . import service
    from .camera_service import camera_service
    from .service import AttendanceError

    app = current_app._get_current_object()
    if app.config.get("REDIS_URL"):  # a session here would also be claimed by a camera-worker process
        raise click.ClickException("REDIS_URL is set: camera workers run attendance; start it from the web page")
    # Not closing "interrupted" sessions here: the web server may be running one right now.
    background = start_background(app, force=True, close_interrupted=False, sender=False)
    cameras = camera_service(app)
    try:
        session_id = cameras.start(course_id, source, email=not no_email)
    except AttendanceError as exc:
        background.stop()
        raise click.ClickException(str(exc)) from exc
    worker = cameras.worker(session_id)
    if not as_json:
        click.echo(f"session {session_id}: taking attendance from {worker.source.label} (Ctrl-C to stop)")
    try:
        while not worker.done.wait(0.5):
            pass
    except KeyboardInterrupt:
        click.echo("stopping...", err=True)
    worker.stop()
    background.recorder.flush()
    background.stop()
    stats = worker.stats()
    if not no_email and app.config["MAIL_ENABLED"]:
        _send_queued_mail(app, deliver_due)
    with app.app_context():
        service.end_session(session_id, SessionStatus.ENDED, stats["message"] or "ended", stats["frames"], stats["frames_analysed"])
        summary = service.session_summary(session_id)
        db.session.remove()
    result = {
        "session_id": session_id,
        "marked": [m["roll_number"] for m in summary["marked"]],
        "unknown_sightings": summary["unknown"],
        "frames": stats["frames"],
        "frames_analysed": stats["frames_analysed"],
        "fps": stats["fps"],
        "seconds_to_first_mark": stats["seconds_to_first_mark"],
    }
    if as_json:
        click.echo(json.dumps(result))
        return
    click.echo(f"camera {stats['status']}: {stats['message']}")
    click.echo(f"marked present ({len(result['marked'])}): {', '.join(result['marked']) or 'nobody'}")
    click.echo(f"absent: {summary['absent']}; unknown sightings: {result['unknown_sightings']}")
    click.echo(f"frames: {result['frames']} ({result['frames_analysed']} analysed), {result['fps']} fps; "
               f"first mark after {result['seconds_to_first_mark']} s")


def _send_queued_mail(app, deliver_due) -> None:
    """One delivery round for the alerts this run queued (the web server's sender retries the rest)."""
    try:
        deliver_due(app)
    except Exception as exc:  # noqa: BLE001
        click.echo(f"warning: mail not sent yet ({exc}); it stays in the outbox", err=True)


from .camera_process import camera_worker_command  # noqa: E402  (a school's camera processes)

COMMANDS = [attend_command, camera_worker_command]
