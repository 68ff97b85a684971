"""Course forms."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from ..auth.forms import strip_text


class CourseForm(FlaskForm):
    """Create or rename a course."""

    name = StringField("Course name", filters=[strip_text], validators=[DataRequired(), Length(max=200)])


class ActionForm(FlaskForm):
    """Empty form for POST buttons (delete, train): carries only the CSRF token."""
