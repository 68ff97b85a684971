"""CSV and XLSX exports with the stable column layout documented in docs/EXPORTS.md."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from ..models import AttendanceSession, Course
from ..timezones import format_local, valid_zone
from ..text import printable
from .stats import Matrix, course_matrix, session_detail

COURSE_LEAD = ["roll_number", "name"]
COURSE_TAIL = ["attended", "sessions", "percent"]
SESSION_COLUMNS = ["roll_number", "name", "status", "marked_by", "first_seen_utc", "score", "first_seen_local"]
# Spreadsheet apps run cells starting with these as formulas (CSV injection); CSV cells get a quote.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def session_header(started_at: datetime, session_id: int, zone_name: str = "") -> str:
    """Column title for one session: its start in the teacher's zone and id (unique even within a minute)."""
    return f"{format_local(started_at, zone_name, with_zone=False)} #{session_id}"


def course_table(course: Course, start: date | None, end: date | None, zone_name: str = "") -> list[list[Any]]:
    """Header plus one row per student: P/A per session, then attended, sessions, percent."""
    m: Matrix = course_matrix(course.id, start, end, zone_name)
    header = COURSE_LEAD + [session_header(s.started_at, s.id, zone_name) for s in m.sessions] + COURSE_TAIL
    rows: list[list[Any]] = [header]
    ids = [s.id for s in m.sessions]
    n = len(ids)
    for st in m.students:
        mine = m.present.get(st.id, set())
        marks = ["P" if sid in mine else "A" for sid in ids]
        attended = marks.count("P")
        rows.append([st.roll_number, st.name, *marks, attended, n, round(100 * attended / n, 1) if n else ""])
    return rows


def session_table(session: AttendanceSession, zone_name: str = "") -> list[list[Any]]:
    """Header plus one row per enrolled student with the record's evidence (times in UTC and the teacher's zone)."""
    rows: list[list[Any]] = [list(SESSION_COLUMNS)]
    for r in session_detail(session):
        seen = r.first_seen_at.replace(tzinfo=None).isoformat(timespec="seconds") + "Z" if r.first_seen_at else ""
        rows.append([r.roll_number, r.name, "present" if r.present else "absent", r.marked_by or "", seen,
                     round(r.score, 3) if r.score is not None else "",
                     format_local(r.first_seen_at, zone_name, "%Y-%m-%d %H:%M:%S")])
    return rows


def to_csv(rows: list[list[Any]]) -> bytes:
    """UTF-8 with a BOM (so Excel reads accents right), comma separated, CRLF rows."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([_csv_safe(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(rows: list[list[Any]], info: dict[str, Any]) -> bytes:
    """Sheet "Attendance" with the same cells as the CSV (numbers as numbers) and a sheet "Info"."""
    wb = Workbook(write_only=True)  # streams rows: several times faster than a normal workbook at 100k cells
    ws = wb.create_sheet("Attendance")
    ws.freeze_panes = "C2"
    for i, row in enumerate(rows):
        ws.append([_xlsx_cell(ws, v, bold=i == 0) for v in row])
    meta = wb.create_sheet("Info")
    for key, value in info.items():
        meta.append([_xlsx_cell(meta, key), _xlsx_cell(meta, "" if value is None else str(value))])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _xlsx_cell(ws: Any, value: Any, bold: bool = False) -> Any:
    """Plain values stay plain (fast); text that looks like a formula is forced to text, headers are bold."""
    if isinstance(value, str):
        # XLSX cannot hold control characters (openpyxl refuses the whole file); names stored before
        # they were refused at input may have them, so they become spaces here.
        value = printable(value)
    if not bold and not (isinstance(value, str) and value.startswith("=")):
        return value
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # a name starting with "=" must not become a formula
    if bold:
        cell.font = Font(bold=True)
    return cell


def export_info(course: Course, start: date | None = None, end: date | None = None,
                session: AttendanceSession | None = None, zone_name: str = "") -> dict[str, Any]:
    """The Info sheet: what the file covers, the time zone of its times and when it was made."""
    info: dict[str, Any] = {"course": course.name, "course_id": course.id, "time_zone": valid_zone(zone_name) or "UTC"}
    if session is not None:
        info.update(session_id=session.id, started_utc=session.started_at.isoformat(timespec="minutes"),
                    status=session.status)
    else:
        info.update({"from": start.isoformat() if start else "first session",
                     "to": end.isoformat() if end else "last session"})
    info["generated_utc"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return info


def _csv_safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
