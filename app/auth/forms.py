"""Account forms (Flask-WTF adds the CSRF token)."""
from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

# A pragmatic check (one @, a dot in the domain); the email_validator package is not a dependency.
def strip_text(value: str | None) -> str | None:
    """WTForms filter: surrounding spaces are never meant."""
    return value.strip() if isinstance(value, str) else value


EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 8


class SignupForm(FlaskForm):
    """A new teacher account."""

    name = StringField("Name", filters=[strip_text], validators=[DataRequired(), Length(max=120)])
    email = StringField("Email", filters=[strip_text], validators=[DataRequired(), Length(max=254),
                                             Regexp(EMAIL_PATTERN, message="Enter a valid email address.")])
    password = PasswordField("Password", validators=[
        DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200,
                               message=f"Use at least {MIN_PASSWORD_LENGTH} characters.")])
    confirm = PasswordField("Repeat password", validators=[DataRequired(), EqualTo("password", "Passwords differ.")])


class LoginForm(FlaskForm):
    """Email and password."""

    email = StringField("Email", filters=[strip_text], validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired()])


class LogoutForm(FlaskForm):
    """Empty form: only carries the CSRF token for the POST logout."""
