"""Throw-away PostgreSQL schemas for running the suite on a real server (ROLLCALL_TEST_DATABASE_URL).

One database per test run, one schema per app inside it: creating and dropping a schema costs
milliseconds, a database about a second on a busy machine.
"""
from __future__ import annotations

import os
import uuid
from urllib.parse import quote

import psycopg
from sqlalchemy.engine import make_url

DATABASE = f"rollcall_test_{os.getpid()}"
_created = False


def _connect(url: str, dbname: str | None = None, timeout: int = 10) -> psycopg.Connection:
    """An autocommit connection to the server of url (to dbname, else url's own database)."""
    parts = make_url(url)
    return psycopg.connect(host=parts.host or "127.0.0.1", port=parts.port or 5432, user=parts.username,
                           password=parts.password, dbname=dbname or parts.database or "postgres",
                           connect_timeout=timeout, autocommit=True)


def create_database(url: str) -> str:
    """A new empty schema in this run's database; a URL whose connections use only that schema."""
    global _created
    if not _created:
        with _connect(url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
        _created = True
    schema = "t_" + uuid.uuid4().hex[:16]
    with _connect(url, DATABASE) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    # libpq's options parameter sets search_path for every connection of that app's pool.
    options = quote(f"-csearch_path={schema}")
    base = make_url(url).set(database=DATABASE).render_as_string(hide_password=False)
    return f"{base}?options={options}"


def drop_test_databases(url: str) -> int:
    """Drop every database a run of this suite created on that server (FORCE ends leftover connections)."""
    global _created
    with _connect(url) as conn:
        names = [row[0] for row in conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'rollcall_test_%'")]
        for name in names:
            # Leave a database another run (another pid, still alive) is using.
            pid = name.rsplit("_", 1)[-1]
            if name != DATABASE and pid.isdigit() and _alive(int(pid)):
                continue
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _created = False
    return len(names)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def reachable(url: str, timeout: int = 3) -> bool:
    """Whether a PostgreSQL server answers at url (make test runs the PostgreSQL pass only then)."""
    try:
        _connect(url, timeout=timeout).close()
    except psycopg.Error:
        return False
    return True


if __name__ == "__main__":  # python -m tests.postgres URL: exit 0 when the server answers
    import sys

    sys.exit(0 if reachable(sys.argv[1]) else 1)
