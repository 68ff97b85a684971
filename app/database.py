"""Database set-up helpers: SQLite pragmas and applying migrations."""
from __future__ import annotations

from flask import Flask
from sqlalchemy import event



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


