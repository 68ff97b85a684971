"""Report forms (Flask-WTF adds the CSRF token)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import AnyOf, DataRequired, Length

from ..attendance.records import REASON_MAX


class CorrectionForm(FlaskForm):
    """Mark one student present or absent, with the reason kept in the audit log."""

    # A plain field: each roster row posts the opposite of the current mark from a hidden input.
    mark = StringField("Mark", validators=[AnyOf(["present", "absent"], message="Choose present or absent.")])
    reason = StringField("Reason", validators=[
        DataRequired(message="Give a reason for the change; it is kept in the audit log."),
        Length(max=REASON_MAX, message=f"Keep the reason under {REASON_MAX} characters.")])


class PreferencesForm(FlaskForm):
    """Report preferences of the logged-in teacher."""

    absence_digest = BooleanField("Email me the list of absent students when a session ends")
