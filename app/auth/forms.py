"""Account forms (Flask-WTF adds the CSRF token)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError

from ..text import EMAIL_PATTERN, control_char_message, has_control_chars
from .passwords import MIN_PASSWORD_LENGTH, password_problem


def strip_text(value: str | None) -> str | None:
    """WTForms filter: surrounding spaces are never meant."""
    return value.strip() if isinstance(value, str) else value


def one_line(form: FlaskForm, field: StringField) -> None:
    """WTForms validator: names go into mails, CSV and XLSX, where a line break or control character breaks them."""
    if has_control_chars(field.data):
        raise ValidationError(control_char_message(field.label.text))


# A pragmatic check (one @, a dot in the domain); the email_validator package is not a dependency.


class SignupForm(FlaskForm):
    """A new teacher account."""

    name = StringField("Name", filters=[strip_text], validators=[DataRequired(), Length(max=120), one_line])
    email = StringField("Email", filters=[strip_text], validators=[DataRequired(), Length(max=254), one_line,
                                             Regexp(EMAIL_PATTERN, message="Enter a valid email address.")])
    password = PasswordField("Password", validators=[
        DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200,
                               message=f"Use at least {MIN_PASSWORD_LENGTH} characters.")])
    confirm = PasswordField("Repeat password", validators=[DataRequired(), EqualTo("password", "Passwords differ.")])

    def validate_password(self, field: PasswordField) -> None:
        """Refuse the commonly used passwords (the length rule is checked by Length first)."""
        if len(field.data or "") < MIN_PASSWORD_LENGTH:
            return  # Length already said so
        problem = password_problem(field.data or "")
        if problem:
            raise ValidationError(problem)


class LoginForm(FlaskForm):
    """Email and password."""

    email = StringField("Email", filters=[strip_text], validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired()])


class LogoutForm(FlaskForm):
    """Empty form: only carries the CSRF token for the POST logout."""
