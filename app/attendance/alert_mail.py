"""The unknown-person email's words (plain text: course and camera names are the teacher's own text)."""
from __future__ import annotations

from datetime import datetime

from ..models import AttendanceSession
from ..timezones import format_local


def alert_text(session: AttendanceSession, seen_at: datetime, stranger: int, summary: bool) -> tuple[str, str]:
    """Subject and plain-text body of an alert (notify sends text only: names are never HTML)."""
    course = session.course
    when = format_local(seen_at, course.teacher.timezone)  # the teacher's own time zone
    what = f"stranger {stranger} of this session" if stranger else "an unknown person"
    lines = [f"A person the camera does not know was seen during attendance ({what}).", "",
             f"Course: {course.name}", f"Camera: {session.source_label or 'camera'}", f"Time: {when}",
             f"Session: {session.id}", "", "The clearest snapshot of the face is attached."]
    subject = f"Rollcall: unknown person in {course.name}"
    if summary:
        subject = f"Rollcall: more unknown people in {course.name}"
        lines += ["", "This is the last unknown-person email for this session: more strangers were seen than "
                      "the alert limit allows. Every sighting is listed on the session's page."]
    else:
        lines += ["", "One email is sent per stranger: if the same person is seen again in this session, "
                      "no second email follows."]
    return subject, "\n".join(lines)
