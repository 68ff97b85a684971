"""`flask train --course ID`: train a course's recognizer from the command line."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from .. import db
from ..models import Course
from .training import TrainingError, train_course


@click.command("train")
@with_appcontext
@click.option("--course", "course_id", type=int, required=True, help="Course id (see the course page URL).")
def train_command(course_id: int) -> None:
    """Train (or retrain) the recognizer of one course; the previous one stays if this fails."""
    if db.session.get(Course, course_id) is None:
        raise click.ClickException(f"no course with id {course_id}")

    def show(fraction: float, message: str) -> None:
        click.echo(f"[{100 * fraction:3.0f}%] {message}")

    try:
        summary = train_course(course_id, current_app.config, show)
    except TrainingError as exc:
        raise click.ClickException(str(exc)) from exc
    acc = summary["cv_accuracy"]
    click.echo(f"version {summary['version']}: {summary['n_students']} students, {summary['n_images']} images, "
               f"cross-validated accuracy {'n/a' if acc is None else f'{100 * acc:.1f}%'}")
    for item in summary["skipped"]:
        click.echo(f"  {item['name']}: left out, only {item['images']} images (need {summary['min_images']})")
    for item in summary["few_images"]:
        click.echo(f"  {item['name']}: only {item['images']} images (recommended {summary['recommended_images']})")


COMMANDS = [train_command]
