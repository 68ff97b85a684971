"""Course forms."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from ..vision.features import FEATURE_KINDS, FEATURE_LABELS, FeatureError, check_feature_kind

from ..auth.forms import one_line, strip_text


class CourseForm(FlaskForm):
    """Create or rename a course."""

    name = StringField("Course name", filters=[strip_text], validators=[DataRequired(), Length(max=200), one_line])
    features = SelectField("Face features", default="pixels",
                           choices=[SelectChoice(k, FEATURE_LABELS[k]) for k in FEATURE_KINDS])

    def validate_features(self, field: SelectField) -> None:
        """Refuse a kind whose packages are missing, with what to install, next to the field."""
        try:
            check_feature_kind(field.data)
        except FeatureError as exc:
            raise ValidationError(str(exc)) from exc


class ActionForm(FlaskForm):
    """Empty form for POST buttons (delete, train): carries only the CSRF token."""
