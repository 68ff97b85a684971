"""One writer per table: every statement in app/ that creates, updates or deletes a table's rows sits in that
table's owning service module (docs/ARCHITECTURE.md). Read from the source, so a new second writer fails here."""
from __future__ import annotations

import ast

from config import BASE_DIR

APP = BASE_DIR / "app"
ATTENDANCE = {"attendance/service.py", "attendance/records.py"}
# table -> the modules allowed to write it
OWNERS = {
    "Teacher": {"auth/service.py"},
    "Course": {"courses/service.py"},
    "Student": {"students/service.py"},
    "FaceSample": {"students/service.py", "students/enrollment.py"},
    "AttendanceSession": {"attendance/service.py", "attendance/leases.py"},  # leases: camera-worker claims
    "AttendanceRecord": ATTENDANCE,
    "UnknownSighting": ATTENDANCE,
    "AttendanceCorrection": {"attendance/records.py"},
}
# Columns whose names no other table (or job, or dataclass) uses: an assignment `x.<column> = ...` writes that table.
COLUMNS = {
    "absence_digest": "Teacher", "timezone": "Teacher", "session_token": "Teacher", "failed_logins": "Teacher",
    "last_failed_login_at": "Teacher", "password_hash": "Teacher",
    "recognizer_version": "Course", "recognizer_summary": "Course", "features": "Course",
    "roll_number": "Student", "looks_like_id": "FaceSample",
    "status_message": "AttendanceSession", "ended_at": "AttendanceSession", "excluded": "AttendanceSession",
    "frames_analysed": "AttendanceSession",
    "marked_by": "AttendanceRecord", "present": "AttendanceRecord", "first_seen_at": "AttendanceRecord",
    "review": "AttendanceRecord", "reviewed_at": "AttendanceRecord", "snapshot": "AttendanceRecord",
    "best_label": "UnknownSighting", "reviewed_student_id": "UnknownSighting", "emailed": "UnknownSighting",
}
WRITE_FUNCTIONS = {"update", "delete", "insert"}


def _writes(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, table) for constructors, update/delete/insert(Table) and owner-specific column assignments."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in OWNERS:
                found.append((node.lineno, node.func.id))
            elif node.func.id in WRITE_FUNCTIONS and node.args and isinstance(node.args[0], ast.Name) \
                    and node.args[0].id in OWNERS:
                found.append((node.lineno, node.args[0].id))
        targets = node.targets if isinstance(node, ast.Assign) else \
            [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
        for target in targets:
            for element in target.elts if isinstance(target, ast.Tuple) else [target]:
                if isinstance(element, ast.Attribute) and element.attr in COLUMNS:
                    found.append((node.lineno, COLUMNS[element.attr]))
    return found


def _foreign_writes() -> list[str]:
    wrong = []
    for path in sorted(APP.rglob("*.py")):
        module = path.relative_to(APP).as_posix()
        if module == "models.py" or module.startswith("vision/"):  # the tables; vision has no database
            continue
        for line, table in _writes(ast.parse(path.read_text(encoding="utf-8"))):
            if module not in OWNERS[table]:
                wrong.append(f"app/{module}:{line} writes {table} (owner: {', '.join(sorted(OWNERS[table]))})")
    return wrong


def test_each_table_is_written_only_by_its_owner():
    assert _foreign_writes() == []


def test_the_scan_sees_a_second_writer():
    # The rule must be able to fail: each kind of write outside its owner is reported.
    source = ("def f(course, teacher, rec):\n    course.recognizer_version = 2\n    teacher.absence_digest = True\n"
              "    rec.review, rec.reviewed_at = 'x', None\n    db.session.add(AttendanceRecord(present=True))\n"
              "    db.session.execute(update(UnknownSighting).values(snapshot=None))\n")
    tables = sorted(table for _, table in _writes(ast.parse(source)))
    assert tables == ["AttendanceRecord", "AttendanceRecord", "AttendanceRecord", "Course", "Teacher",
                      "UnknownSighting"]
