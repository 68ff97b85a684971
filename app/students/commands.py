"""`flask enroll --course ID FOLDER`: bulk enrollment for IT staff."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from .. import db
from ..models import Course
from .bulk import enroll_folder, list_people


@click.command("enroll")
@with_appcontext
@click.option("--course", "course_id", type=int, required=True, help="Course id (see the course page URL).")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def enroll_command(course_id: int, folder: Path) -> None:
    """Enroll FOLDER/<roll number or name>/<photos>, creating students that do not exist yet."""
    course = db.session.get(Course, course_id)
    if course is None:
        raise click.ClickException(f"no course with id {course_id}")

    def show(fraction: float, message: str) -> None:
        click.echo(f"[{100 * fraction:3.0f}%] {message}")

    if not list_people(folder):
        raise click.ClickException(f"{folder} has no subfolders; expected one folder of photos per student")
    summary, _ = enroll_folder(course, folder, current_app.config, show)
    for item in summary["students"] + summary["skipped_folders"]:
        new = " (new student)" if item.get("created") else ""
        skipped = " (no usable face: no student created)" if "student_id" not in item else ""
        click.echo(f"{item['folder']}{new}{skipped}: {item.get('accepted', 0)} accepted, {len(item['rejected'])} rejected")
        for name, reason in item["rejected"]:
            click.echo(f"    {name}: {reason}")
    click.echo(f"{len(summary['students'])} folders, {summary['created']} students created, "
               f"{summary['accepted']} faces accepted, {summary['rejected']} rejected")


COMMANDS = [enroll_command]
