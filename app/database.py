"""Database set-up helpers: the URL and pool for SQLite or PostgreSQL, SQLite pragmas, migrations."""
from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import make_url

# psycopg 3 is the driver `make` installs; a plain postgresql:// URL would otherwise ask for psycopg2.
POSTGRES_DRIVER = "postgresql+psycopg"


def normalise_database_url(url: str) -> str:
    """The URL as SQLAlchemy needs it: postgres:// and postgresql:// use psycopg 3, others unchanged."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return POSTGRES_DRIVER + "://" + url[len(prefix):]
    return url


def engine_options(url: str, pool_size: int, max_overflow: int) -> dict[str, Any]:
    """Engine options for the URL's database: a busy timeout for SQLite, a checked pool for PostgreSQL."""
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        return {"connect_args": {"timeout": 30}}
    if backend == "postgresql":
        # Every request thread, the writer, the mail sender and the job runner may each hold one
        # connection; pre-ping replaces connections the server closed (restart, idle timeout).
        return {"pool_size": pool_size, "max_overflow": max_overflow, "pool_pre_ping": True,
                "pool_recycle": 1800}
    return {}


def safe_database_url(url: str) -> str:
    """The URL for logs and messages, with any password hidden."""
    return make_url(url).render_as_string(hide_password=True)


def configure_database(app: Flask, explicit_options: bool) -> None:
    """Normalise the configured URL and size the pool for it (unless engine options were given)."""
    url = normalise_database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    if not explicit_options:
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
            url, app.config["DATABASE_POOL_SIZE"], app.config["DATABASE_MAX_OVERFLOW"])


def enable_sqlite_foreign_keys(app: Flask) -> None:
    """Make SQLite honour ON DELETE CASCADE and wait instead of failing on a busy file."""
    from . import db

    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # noqa: ANN001
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()


def upgrade_database(app: Flask) -> None:
    """Create or upgrade the schema to the newest migration."""
    from flask_migrate import upgrade

    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
