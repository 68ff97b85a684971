"""Shared fixtures: an app per test on a real SQLite file, a client, a CLI runner, auth helpers."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from app import create_app, db
from app.database import upgrade_database
from config import BASE_DIR, Config

# ../shared next to the repository (CI lays a copy there); override with ROLLCALL_SHARED.
SHARED = Path(os.environ.get("ROLLCALL_SHARED", BASE_DIR.parent / "shared"))
DATASETS = SHARED / "datasets"
DETECTOR_DIR = BASE_DIR / "dnn_models"

needs_datasets = pytest.mark.skipif(
    not DATASETS.is_dir(), reason=f"face datasets not found at {DATASETS} (../shared is absent)"
)
def _dlib_missing() -> str:
    """Why the optional dlib features cannot run here ("" when they can)."""
    from app.vision.dlib_embedder import DlibUnavailable, check_available

    try:
        check_available()
    except DlibUnavailable as exc:
        return str(exc)
    return ""


DLIB_MISSING = _dlib_missing()
needs_dlib = pytest.mark.skipif(bool(DLIB_MISSING), reason=DLIB_MISSING or "dlib installed")
needs_detector = pytest.mark.skipif(
    not (DETECTOR_DIR / "res10_300x300_ssd_iter_140000.caffemodel").is_file(),
    reason="detector weights missing: run `make test` (it fetches them)",
)


# Set (e.g. postgresql://postgres@127.0.0.1:5432/postgres) to run the suite on PostgreSQL: each app
# then gets a database of its own on that server, dropped at the end of the run. `make test` sets it
# for its second pass when a server answers.
TEST_DATABASE_URL = os.environ.get("ROLLCALL_TEST_DATABASE_URL", "")
ON_POSTGRES = TEST_DATABASE_URL.startswith(("postgresql:", "postgres:"))


def database_uri(tmp_path: Path) -> str:
    """A fresh, empty database for one app: a SQLite file in tmp_path, or a new PostgreSQL database."""
    if not ON_POSTGRES:
        return f"sqlite:///{tmp_path / 'rollcall.sqlite'}"
    from tests.postgres import create_database

    return create_database(TEST_DATABASE_URL)


def test_config(tmp_path: Path, **extra) -> dict:
    """Config overrides that keep every file of a test inside tmp_path."""
    overrides = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_uri(tmp_path),
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "DATASET_DIR": str(tmp_path / "dataset"),
        "RECOGNIZER_DIR": str(tmp_path / "models"),
        "SNAPSHOT_DIR": str(tmp_path / "snapshots"),
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "CAMERA_VIDEO_DIR": str(tmp_path / "videos"),
        "DETECTOR_DIR": str(DETECTOR_DIR),
        "WTF_CSRF_ENABLED": False,
        "LOGIN_FAIL_DELAY_SECONDS": 0.0,
        "MAIL_ENABLED": False,
        "START_BACKGROUND": False,
    }
    overrides.update(extra)
    return overrides


test_config.__test__ = False  # a helper, not a test


@pytest.fixture(scope="session", autouse=True)
def _drop_test_databases():
    """On PostgreSQL, drop the databases this run created (and any a killed run left behind)."""
    if not ON_POSTGRES:
        yield
        return
    from tests.postgres import drop_test_databases

    drop_test_databases(TEST_DATABASE_URL)
    yield
    drop_test_databases(TEST_DATABASE_URL)


@pytest.fixture
def app(tmp_path: Path):
    """A fresh app with its schema created by the real migrations."""
    application = create_app(Config, test_config(tmp_path))
    upgrade_database(application)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    """Sign up, log in and out through the real auth routes (as flaskr's tests do)."""

    def __init__(self, client) -> None:
        self._client = client

    def signup(self, email: str = "teacher@example.com", password: str = "correct horse", name: str = "Ada Teacher"):
        return self._client.post(
            "/auth/signup",
            data={"name": name, "email": email, "password": password, "confirm": password},
        )

    def login(self, email: str = "teacher@example.com", password: str = "correct horse"):
        return self._client.post("/auth/login", data={"email": email, "password": password})

    def logout(self):
        return self._client.post("/auth/logout")

    def signup_and_login(self, email: str = "teacher@example.com", password: str = "correct horse",
                         name: str = "Ada Teacher"):
        """A new teacher, logged in (sign-up logs the teacher in)."""
        self.signup(email, password, name)
        return self.login(email, password)


@pytest.fixture
def auth(client):
    """AuthActions bound to the test client: auth.signup(), auth.login(), auth.logout()."""
    return AuthActions(client)
