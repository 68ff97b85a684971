"""Sign-up, login and logout views."""
from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from . import bp
from .forms import LoginForm, LogoutForm, SignupForm
from .service import AccountError, authenticate, create_teacher, failure_delay


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    """Create an account and log straight in."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = SignupForm()
    if form.validate_on_submit():
        try:
            teacher = create_teacher(form.name.data, form.email.data, form.password.data)
        except AccountError as exc:
            form.email.errors.append(str(exc))
        else:
            login_user(teacher)
            flash(f"Welcome, {teacher.name}! Create your first course to get started.", "success")
            return redirect(url_for("main.index"))
    return render_template("auth/signup.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in; repeated failures are slowed down."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        teacher, failures = authenticate(form.email.data, form.password.data)
        if teacher is not None:
            login_user(teacher)
            flash(f"Logged in as {teacher.name}.", "success")
            return redirect(_safe_next(request.args.get("next")))
        time.sleep(failure_delay(failures, float(current_app.config["LOGIN_FAIL_DELAY_SECONDS"])))
        flash("Wrong email or password.", "error")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    """Log out (POST with a CSRF token, so another site cannot log a teacher out)."""
    if LogoutForm().validate_on_submit():
        logout_user()
        flash("You have been logged out.", "info")
    return redirect(url_for("auth.login"))


def _safe_next(target: str | None) -> str:
    """Only follow a local ?next= path, never another host."""
    if target and not urlsplit(target).netloc and not urlsplit(target).scheme and target.startswith("/") and not target.startswith("/\\"):
        return target
    return url_for("main.index")
