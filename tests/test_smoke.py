"""The factory builds an app with a migrated database and serves its health check."""
from sqlalchemy import inspect

from app import db


def test_migrations_create_every_table(app):
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
    assert {"teacher", "course", "student", "face_sample", "attendance_session",
            "attendance_record", "unknown_sighting", "outbox_message", "job"} <= tables


def test_migrations_match_models(app):
    """A model change without a migration fails here."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with app.app_context(), db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_unknown_page_is_friendly_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert b"Not found" in response.data
