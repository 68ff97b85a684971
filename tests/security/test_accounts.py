"""Promise 10: accounts and sessions. Logout ends copied cookies too; login and sign-up do not tell which
emails have accounts; common and short passwords are refused; every page sends anti-framing, nosniff, CSP
and referrer headers; data files are owner-only; error pages and messages never show server paths or
another teacher's camera."""
from __future__ import annotations

import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ON_POSTGRES, AuthActions, test_config

# The database file whose mode these check is SQLite's; a PostgreSQL server keeps its own files.
sqlite_file = pytest.mark.skipif(ON_POSTGRES, reason="checks the SQLite file's mode (this run is on PostgreSQL)")

from app import create_app, db
from app.database import upgrade_database
from config import BASE_DIR, Config


def test_logout_invalidates_a_copied_session_cookie(app, client, auth):
    auth.signup_and_login()
    stolen = app.test_client()
    stolen.set_cookie("session", client.get_cookie("session").value)  # e.g. copied from a shared PC
    assert stolen.get("/courses/").status_code == 200
    auth.logout()
    response = stolen.get("/courses/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    # Logging in again works, and the stolen copy stays dead.
    assert auth.login().status_code == 302
    assert stolen.get("/courses/").status_code == 302


def test_a_cookie_with_a_bare_or_forged_id_is_refused(app, client, auth):
    auth.signup_and_login()
    for user_id in ("1", "1:", "1:forged", "¹:x", "x:y"):
        forged = app.test_client()
        with forged.session_transaction() as s:
            s["_user_id"], s["_fresh"] = user_id, True
        assert forged.get("/courses/").status_code == 302, user_id


def test_signup_with_a_taken_email_is_refused_neutrally(client, auth):
    auth.signup()
    auth.logout()
    html = auth.signup(name="Someone Else").get_data(as_text=True)
    assert "could not be created" in html and "already exists" not in html and "already has" not in html


def _median_seconds(fn, n: int = 5) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return sorted(times)[n // 2]


def test_login_with_an_unknown_email_costs_a_password_check_too(client, auth, app):
    """Timing must not reveal accounts: a missing email is checked against a dummy hash (same algorithm)."""
    app.config["LOGIN_LIMIT_PER_ACCOUNT"] = app.config["LOGIN_LIMIT_PER_ADDRESS"] = "1000 per minute"
    auth.signup()
    auth.logout()
    auth.login(email="warm-up@example.com")  # the dummy hash is made once per process
    known = _median_seconds(lambda: auth.login(password="wrong password"))
    unknown = _median_seconds(lambda: auth.login(email="nobody@example.com"))
    assert unknown > 0.3 * known, (known, unknown)  # without the dummy hash it is ~20x faster
    assert b"Wrong email or password" in auth.login(email="nobody@example.com").data


@pytest.mark.parametrize("password", ["password", "12345678", "Password1", "qwertyuiop", "iloveyou!", "baseball"])
def test_common_passwords_are_refused(client, app, password):
    response = AuthActions(client).signup(email="new@example.com", password=password)
    assert response.status_code == 200 and "most commonly used" in response.get_data(as_text=True)


def test_short_passwords_are_refused_and_passphrases_accepted(client):
    auth = AuthActions(client)
    assert b"at least 8" in auth.signup(email="a@example.com", password="Xy7#q").data
    assert auth.signup(email="b@example.com", password="violet tram mango").status_code == 302


def test_security_headers_on_pages_errors_and_files(client, auth):
    for path in ("/auth/login", "/no-such-page", "/static/css/app.css", "/healthz"):
        response = client.get(path)
        response.close()  # a static file response holds the file open until closed
        headers = response.headers
        assert headers["X-Frame-Options"] == "DENY", path
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-eval" not in csp
        assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0]


def test_templates_have_no_inline_script_the_csp_would_block():
    """The CSP allows scripts only from our own files: no <script> bodies or on*= handlers in templates."""
    for template in (BASE_DIR / "templates").rglob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), template
        assert not re.search(r"\son[a-z]+\s*=", text), template
        assert "javascript:" not in text, template


@sqlite_file
def test_data_folders_and_database_are_owner_only(app, tmp_path, client, auth):
    auth.signup_and_login()  # the database has rows
    for key in ("INSTANCE_DIR", "DATASET_DIR", "RECOGNIZER_DIR", "SNAPSHOT_DIR", "UPLOAD_DIR"):
        mode = stat.S_IMODE(Path(app.config[key]).stat().st_mode)
        assert mode == 0o700, (key, oct(mode))
    assert stat.S_IMODE((tmp_path / "rollcall.sqlite").stat().st_mode) == 0o600


@sqlite_file
def test_existing_world_readable_folders_are_tightened(tmp_path):
    for name in ("dataset", "models"):
        (tmp_path / name).mkdir(mode=0o755)
        (tmp_path / name).chmod(0o755)
    (tmp_path / "rollcall.sqlite").touch(mode=0o644)
    (tmp_path / "rollcall.sqlite").chmod(0o644)
    create_app(Config, test_config(tmp_path))
    assert stat.S_IMODE((tmp_path / "dataset").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "models").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "rollcall.sqlite").stat().st_mode) == 0o600


def test_the_served_process_creates_owner_only_files(tmp_path):
    """run.py sets umask 077, so snapshots, chips, recognizers and uploads are 0600 whoever writes them."""
    probe = tmp_path / "probe.jpg"
    code = f"import run, pathlib; pathlib.Path({str(probe)!r}).write_bytes(b'x')"
    env = {"ROLLCALL_INSTANCE_DIR": str(tmp_path / "instance"), "PATH": "/usr/bin:/bin",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}", "SECRET_KEY": "x"}
    subprocess.run([sys.executable, "-c", code], cwd=BASE_DIR, env=env, check=True, capture_output=True, timeout=60)
    assert stat.S_IMODE(probe.stat().st_mode) == 0o600


def test_error_pages_do_not_show_server_paths(tmp_path):
    application = create_app(Config, test_config(tmp_path, DETECTOR_DIR=str(tmp_path / "secret" / "weights")))
    upgrade_database(application)
    client = application.test_client()
    auth = AuthActions(client)
    auth.signup_and_login()
    from helpers_web import course_of, student_with_chip

    course_id = course_of(application)
    student_id, _ = student_with_chip(application, course_id)
    # Photo enrollment needs the (missing) detector: its error names the folder it looked in.
    import cv2
    import numpy as np

    ok, png = cv2.imencode(".png", np.full((200, 200, 3), 128, np.uint8))
    import io

    response = client.post(f"/students/{student_id}/photos", data={"photos": [(io.BytesIO(png.tobytes()), "a.png")]},
                           content_type="multipart/form-data", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 503 and "not installed" in html
    assert str(tmp_path) not in html and "/secret/" not in html
    with application.app_context():
        db.engine.dispose()


def test_start_errors_do_not_show_server_paths(app, client, auth, tmp_path):
    """A course whose recognizer file went missing: the message names the file, not the folder."""
    auth.signup_and_login()
    from helpers_web import course_of

    from app.models import Course

    course_id = course_of(app)
    with app.app_context():
        db.session.get(Course, course_id).recognizer_version = 3
        db.session.commit()
    response = client.post("/attendance/start", data={"course_id": course_id, "source_kind": "webcam",
                                                      "webcam_index": "0"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Attendance not started" in html and "v3.joblib" in html and str(tmp_path) not in html
