"""Course forms."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class CourseForm(FlaskForm):
    """Create or rename a course."""

    name = StringField("Course name", filters=[_strip], validators=[DataRequired(), Length(max=200)])


class ActionForm(FlaskForm):
    """Empty form for POST buttons (delete, train): carries only the CSRF token."""
