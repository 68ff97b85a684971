"""Account views: the teacher's time zone (set from the browser, changeable by hand) and the local-time filter."""
from __future__ import annotations

from datetime import datetime

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..auth.service import set_timezone
from ..timezones import format_local, valid_zone, zone_label, zone_names
from . import bp


@bp.route("/timezone", methods=["GET", "POST"])
@login_required
def timezone():
    """Show or set the zone every time is shown in; the page script posts the browser's zone once."""
    if request.method == "POST":
        name = valid_zone(request.form.get("timezone"))
        if not name:
            message = "Choose a time zone from the list (such as Europe/Madrid)."
            if request.form.get("auto"):
                return jsonify(ok=False, error=message), 400
            flash(message, "error")
            return redirect(url_for("account.timezone"))
        # "Browser's by default": the automatic post never overrides a zone the teacher picked.
        zone_in_use = set_timezone(current_user.id, name, keep_chosen=bool(request.form.get("auto")))
        if request.form.get("auto"):
            return jsonify(ok=True, timezone=zone_in_use)
        flash(f"Times are now shown in {name}.", "success")
        return redirect(url_for("account.timezone"))
    return render_template("account/timezone.html", zones=zone_names(), current=current_user.timezone or "UTC")


@bp.app_template_filter("localtime")
def localtime(dt: datetime | str | None, fmt: str = "%Y-%m-%d %H:%M", with_zone: bool = False) -> str:
    """A stored UTC time in the logged-in teacher's zone."""
    return format_local(dt, teacher_zone(), fmt, with_zone)


@bp.app_context_processor
def _zone_helpers() -> dict:
    """`zone_name()` (e.g. "CET") for column headings and `tz_unset` for the page script."""
    unset = bool(getattr(current_user, "is_authenticated", False) and not current_user.timezone)
    return {"zone_name": lambda: zone_label(teacher_zone()), "tz_unset": unset}


def teacher_zone() -> str:
    """The logged-in teacher's zone name ("" = UTC)."""
    return current_user.timezone if getattr(current_user, "is_authenticated", False) else ""

