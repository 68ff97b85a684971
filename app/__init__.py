"""Rollcall: face-recognition attendance. The application factory lives here."""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase
from werkzeug.routing import IntegerConverter

from config import BASE_DIR, Config


class Base(DeclarativeBase):
    """Declarative base for every table."""


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to continue."
login_manager.login_message_category = "info"

MIGRATIONS_DIR = str(BASE_DIR / "migrations")


def create_app(config_class: type = Config, overrides: dict[str, Any] | None = None) -> Flask:
    """Build the app; overrides are applied before any extension reads the config."""
    app = Flask(
        __name__,
        template_folder=str(BASE_DIR / "templates"),
        static_folder=str(BASE_DIR / "static"),
        instance_path=str(Path(config_class.INSTANCE_DIR)),
    )
    app.config.from_object(config_class)
    if overrides:
        app.config.update(overrides)
    from .database import configure_database

    configure_database(app, explicit_options="SQLALCHEMY_ENGINE_OPTIONS" in (overrides or {}))
    _ensure_folders(app)
    from .secret import load_or_create_secret_key

    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_or_create_secret_key(app.instance_path)

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    from .auth.limits import limiter

    limiter.init_app(app)
    from . import models  # noqa: F401  (registers tables and the user loader)
    from .database import enable_sqlite_foreign_keys

    enable_sqlite_foreign_keys(app)
    app.url_map.converters["int"] = RowId  # before any rule is added
    _register_blueprints(app)
    from .cli import register_cli

    register_cli(app)
    from .errors import register_error_handlers

    register_error_handlers(app)
    app.after_request(_security_headers)
    if not app.logger.handlers or app.debug:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return app


# Faces, snapshots, recognizers, uploads and the database are personal data: owner-only (0700 / 0600).
PRIVATE_FOLDERS = ("INSTANCE_DIR", "DATASET_DIR", "RECOGNIZER_DIR", "SNAPSHOT_DIR", "UPLOAD_DIR")
# No inline scripts anywhere (static/js only); templates use style="" attributes, hence 'unsafe-inline' for styles.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data: blob:; object-src 'none'; base-uri 'self'; form-action 'self'; "
                           "frame-ancestors 'none'")


def _ensure_folders(app: Flask) -> None:
    for key in (*PRIVATE_FOLDERS, "CAMERA_VIDEO_DIR"):
        value = app.config.get(key)
        if value:
            Path(value).mkdir(mode=0o700, parents=True, exist_ok=True)
            if key in PRIVATE_FOLDERS:
                _chmod(Path(value), 0o700)  # also tightens folders made by an older version
    uri = str(app.config["SQLALCHEMY_DATABASE_URI"])
    if uri.startswith("sqlite:///") and ":memory:" not in uri:
        database = Path(uri[len("sqlite:///"):])
        if database.parent.is_dir():
            # An empty file is a valid empty database: creating it here fixes its mode before SQLite writes.
            os.close(os.open(database, os.O_CREAT | os.O_WRONLY, 0o600))
            _chmod(database, 0o600)
    app.instance_path = app.config["INSTANCE_DIR"]


def _chmod(path: Path, mode: int) -> None:
    try:
        path.chmod(mode)
    except OSError as exc:  # a folder owned by someone else: say so, do not refuse to start
        logging.getLogger(__name__).warning("cannot restrict %s to %o: %s", path, mode, exc)


class RowId(IntegerConverter):
    """<int:...> in URLs: ids beyond what the database stores (SQLite: 64-bit) are a 404, not a 500."""

    def __init__(self, url_map, fixed_digits: int = 0, min: int | None = None, max: int | None = 2**63 - 1,  # noqa: A002
                 signed: bool = False) -> None:
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def _security_headers(response):
    """Headers every page gets: no framing, no MIME sniffing, no inline script, no referrer to other sites."""
    headers = response.headers
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    return response


def _register_blueprints(app: Flask) -> None:
    """Register every area's blueprint; each declares its own url_prefix."""
    from . import account, attendance, auth, courses, main, privacy, reports, review, settings, students

    for area in (main, auth, courses, students, attendance, reports, settings, account, review, privacy):
        app.register_blueprint(area.bp)
