"""Sign-up, login and logout views."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..redirects import safe_redirect_target
from . import bp
from .forms import LoginForm, LogoutForm, SignupForm
from .limits import login_limits, signup_limit
from .service import AccountError, Busy, authenticate, create_teacher, end_sessions


@bp.route("/signup", methods=["GET", "POST"])
@signup_limit
def signup():
    """Create an account and log straight in."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = SignupForm()
    if form.validate_on_submit():
        try:
            teacher = create_teacher(form.name.data, form.email.data, form.password.data, _max_checks())
        except Busy:
            abort(429)
        except AccountError as exc:
            form.email.errors.append(str(exc))
        else:
            login_user(teacher)
            flash(f"Welcome, {teacher.name}! Create your first course to get started.", "success")
            return redirect(url_for("main.index"))
    return render_template("auth/signup.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
@login_limits[0]
@login_limits[1]
def login():
    """Log in; floods of failures get a 429 with Retry-After from the limits, never a wait."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            teacher = authenticate(form.email.data, form.password.data, _max_checks())
        except Busy:
            abort(429)  # answered at once: the thread is free again for other pages
        if teacher is not None:
            login_user(teacher)
            flash(f"Logged in as {teacher.name}.", "success")
            return redirect(safe_redirect_target(request.args.get("next"), url_for("main.index")))
        flash("Wrong email or password.", "error")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    """Log out everywhere: the teacher's session token changes, so copied cookies stop working too."""
    if LogoutForm().validate_on_submit():
        end_sessions(current_user._get_current_object())
        logout_user()
        flash("You have been logged out.", "info")
    return redirect(url_for("auth.login"))


def _max_checks() -> int:
    return int(current_app.config["LOGIN_MAX_CONCURRENT_CHECKS"])
