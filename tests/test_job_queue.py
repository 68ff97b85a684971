"""Jobs on Redis: a training job queued by the web app is run by a real `flask worker` process.

Also the read side: pages never write a job row, an orphan is only *shown* as interrupted.
"""
from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import needs_datasets, needs_detector
from helpers_web import course_of, seed_student_chips
from redis_server import forget_redis, needs_redis, process_env, use_redis
from test_training import chips  # noqa: F401  (the module fixture: real faces94 chips)

from app import db, jobs
from app.models import Course, Job
from config import BASE_DIR


def _job_json(client, course_id: int, job_id: int) -> dict:
    return client.get(f"/courses/{course_id}/jobs/{job_id}", headers={"Accept": "application/json"}).get_json()


def test_reading_an_orphaned_job_writes_nothing(client, auth, app):
    auth.signup_and_login()
    course_id = course_of(app)
    with app.app_context():
        orphan = jobs.create_job("train", course_id)
        orphan.status = "running"  # left by a previous process
        db.session.commit()
        orphan_id = orphan.id
    assert _job_json(client, course_id, orphan_id)["status"] == "failed"
    assert "Interrupted because the server restarted" in client.get(f"/courses/{course_id}").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Job, orphan_id).status == "running"  # the GETs only showed it
        assert jobs.close_orphans(app, course_id) == 1  # the write path (next submit, owner at start)
        assert db.session.get(Job, orphan_id).status == "failed"


@pytest.fixture
def redis_app(app):
    """The test app with jobs on Redis, in a queue of its own (removed afterwards)."""
    use_redis(app)
    yield app
    forget_redis(app)


@needs_redis
@needs_datasets
@needs_detector
def test_a_worker_process_runs_the_training_job_queued_by_the_web(client, auth, redis_app, chips):  # noqa: F811
    app = redis_app
    auth.signup_and_login()
    course_id = course_of(app)
    for i, person in enumerate(chips[:2]):
        seed_student_chips(app, course_id, str(i), person)
    assert client.post(f"/courses/{course_id}/train").status_code == 302
    with app.app_context():
        job_id = db.session.scalar(db.select(Job.id))
    # Held by RQ, not by this process: shown as queued (not interrupted), and nothing ran here.
    assert _job_json(client, course_id, job_id)["status"] == "queued"
    assert jobs.run_pending(app) == 0
    worker = subprocess.run([sys.executable, "-m", "flask", "--app", "run", "worker", "--burst"], cwd=BASE_DIR,
                            env=process_env(app), capture_output=True, text=True, timeout=180)
    output = worker.stdout + worker.stderr
    assert worker.returncode == 0, output[-3000:]
    assert f"rollcall job {job_id}" in output  # RQ's own log line: this process took it
    data = _job_json(client, course_id, job_id)
    assert data["status"] == "done" and data["result"]["n_students"] == 2, data
    with app.app_context():
        assert db.session.get(Course, course_id).recognizer_version == 1
    # Finished in Redis: the next training is not refused as "already running".
    response = client.post(f"/courses/{course_id}/train", follow_redirects=True)
    assert "already running" not in response.get_data(as_text=True)


def test_lambdas_cannot_go_to_a_worker_process():
    with pytest.raises(ValueError, match="module-level"):
        jobs.work_path(lambda job_id: {})
