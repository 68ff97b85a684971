"""Accounts: sign-up, login, logout, CSRF, failure counting (flood limits: tests/security/test_login_flood.py)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app import create_app, db
from app.database import upgrade_database
from app.models import Teacher
from config import Config
from conftest import AuthActions, test_config


def test_signup_creates_hashed_account_and_logs_in(client, auth, app):
    response = auth.signup(email="Ada@Example.com ")
    assert response.status_code == 302
    with app.app_context():
        teacher = db.session.scalar(select(Teacher))
        assert teacher.email == "ada@example.com"
        assert teacher.password_hash != "correct horse" and "correct horse" not in teacher.password_hash
    assert b"Ada Teacher" in client.get("/", follow_redirects=True).data


def test_signup_rejects_duplicate_email_bad_email_and_short_password(client, auth):
    auth.signup()
    auth.logout()
    assert b"could not be created" in auth.signup().data
    assert b"valid email" in auth.signup(email="not-an-email").data
    assert b"at least 8" in auth.signup(email="b@example.com", password="short").data
    response = client.post("/auth/signup", data={"name": "B", "email": "c@example.com",
                                                 "password": "longenough", "confirm": "different1"})
    assert b"Passwords differ" in response.data


def test_login_logout_and_wrong_password(client, auth):
    auth.signup()
    auth.logout()
    assert b"Wrong email or password" in auth.login(password="nope nope").data
    assert b"Wrong email or password" in auth.login(email="nobody@example.com").data
    response = auth.login()
    assert response.status_code == 302
    assert client.get("/auth/login").status_code == 302  # already logged in
    auth.logout()
    response = client.get("/courses/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_logout_is_post_only(client, auth):
    auth.signup()
    assert client.get("/auth/logout").status_code == 405


def test_login_next_only_follows_local_paths(client, auth):
    auth.signup()
    auth.logout()
    data = {"email": "teacher@example.com", "password": "correct horse"}
    response = client.post("/auth/login?next=https://evil.example/x", data=data)
    assert "evil" not in response.headers["Location"]
    auth.logout()
    response = client.post("/auth/login?next=/courses/", data=data)
    assert response.headers["Location"].endswith("/courses/")


def test_failed_logins_are_counted_and_reset(client, auth, app):
    auth.signup()
    auth.logout()
    for _ in range(4):  # a 6th try within a minute would meet the per-account limit (tests/security)
        auth.login(password="wrong password")
    with app.app_context():
        assert db.session.scalar(select(Teacher)).failed_logins == 4
    auth.login()
    with app.app_context():
        assert db.session.scalar(select(Teacher)).failed_logins == 0


@pytest.fixture
def csrf_app(tmp_path):
    application = create_app(Config, test_config(tmp_path, WTF_CSRF_ENABLED=True))
    upgrade_database(application)
    yield application
    with application.app_context():
        db.engine.dispose()


def test_csrf_is_enforced(csrf_app):
    client = csrf_app.test_client()
    response = AuthActions(client).signup()
    assert response.status_code == 400 and b"form expired" in response.data
    page = client.get("/auth/signup").data.decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/auth/signup", data={"name": "A", "email": "a@example.com", "password": "correct horse",
                                                 "confirm": "correct horse", "csrf_token": token})
    assert response.status_code == 302
    # A logged-in teacher's POSTs without a token are refused too.
    assert client.post("/auth/logout").status_code == 400
    assert client.post("/courses/create", data={"name": "X"}).status_code == 400


def test_session_cookie_is_httponly_and_samesite(client, auth):
    response = auth.signup()
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
