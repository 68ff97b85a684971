"""Rollcall: face-recognition attendance. The application factory lives here."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase

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
    from . import models  # noqa: F401  (registers tables and the user loader)
    from .database import enable_sqlite_foreign_keys

    enable_sqlite_foreign_keys(app)
    _register_blueprints(app)
    from .cli import register_cli

    register_cli(app)
    from .errors import register_error_handlers

    register_error_handlers(app)
    if not app.logger.handlers or app.debug:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return app


def _ensure_folders(app: Flask) -> None:
    for key in ("INSTANCE_DIR", "DATASET_DIR", "RECOGNIZER_DIR", "SNAPSHOT_DIR", "UPLOAD_DIR", "CAMERA_VIDEO_DIR"):
        value = app.config.get(key)
        if value:
            Path(value).mkdir(parents=True, exist_ok=True)
    app.instance_path = app.config["INSTANCE_DIR"]


def _register_blueprints(app: Flask) -> None:
    """Register every area's blueprint; each declares its own url_prefix."""
    from . import account, attendance, auth, courses, main, privacy, reports, review, settings, students

    for area in (main, auth, courses, students, attendance, reports, settings, account, review, privacy):
        app.register_blueprint(area.bp)
