"""Login and sign-up flood limits (Flask-Limiter): refuse with 429 + Retry-After, never sleep in a request.

Counters live in RATELIMIT_STORAGE_URI: memory:// for one process (the default), redis://... when several
server processes must share them.
"""
from __future__ import annotations

from flask import current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from .service import normalise_email

limiter = Limiter(key_func=get_remote_address)


def _login_limit_address() -> str:
    return current_app.config["LOGIN_LIMIT_PER_ADDRESS"]


def _login_limit_account() -> str:
    return current_app.config["LOGIN_LIMIT_PER_ACCOUNT"]


def _signup_limit_address() -> str:
    return current_app.config["SIGNUP_LIMIT_PER_ADDRESS"]


def _account_key() -> str:
    """Attempts are counted per account too, so spreading guesses over addresses does not help."""
    return "account:" + normalise_email(request.form.get("email", ""))[:254]


# Every POST counts, before the view runs: counting only failures (deduct_when) is decided after the
# response, so 20 concurrent guesses would all pass the check before any was counted.
login_limits = [
    limiter.limit(_login_limit_address, methods=["POST"]),
    limiter.limit(_login_limit_account, key_func=_account_key, methods=["POST"]),
]
signup_limit = limiter.limit(_signup_limit_address, methods=["POST"])
