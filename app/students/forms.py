"""Student, upload and roster forms."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, MultipleFileField
from wtforms import StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from ..auth.forms import one_line, strip_text
from ..text import EMAIL_PATTERN


class StudentForm(FlaskForm):
    """Add or edit a student."""

    name = StringField("Name", filters=[strip_text], validators=[DataRequired(), Length(max=200), one_line])
    roll_number = StringField("Roll number", filters=[strip_text], validators=[DataRequired(), Length(max=50), one_line])
    email = StringField("Email (optional)", filters=[strip_text], validators=[
        Optional(), Length(max=254), one_line, Regexp(EMAIL_PATTERN, message="Enter a valid email address.")])


class PhotoUploadForm(FlaskForm):
    """Several photos of one student."""

    photos = MultipleFileField("Photos (JPEG or PNG)")


class VideoUploadForm(FlaskForm):
    """One short video of one student."""

    video = FileField("Video (mp4, mov, avi or webm)", validators=[FileRequired("Choose a video file.")])


class RosterForm(FlaskForm):
    """A CSV file: name, roll number, email."""

    roster = FileField("Roster CSV", validators=[FileRequired("Choose a CSV file.")])


class BulkUploadForm(FlaskForm):
    """A ZIP holding one folder of photos per student."""

    archive = FileField("ZIP file", validators=[FileRequired("Choose a ZIP file.")])
