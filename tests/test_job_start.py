"""Starting a job is one decision per course across processes; a job closed meanwhile never runs.

On PostgreSQL (ROLLCALL_TEST_DATABASE_URL) only the advisory lock serializes the two starts below: no
lock of this process is involved, so the same holds for two web processes.
"""
from __future__ import annotations

import threading
import time

from helpers_web import course_of

from app import db, jobs
from app.models import Job, JobStatus


def test_a_second_start_for_the_course_waits_for_the_first(app, auth):
    auth.signup_and_login()
    course_id = course_of(app)
    inside, release, order = threading.Event(), threading.Event(), []

    def first() -> None:
        with app.app_context(), jobs.starting(course_id):
            order.append("first in")
            inside.set()
            release.wait(10)
            order.append("first out")

    def second() -> None:
        with app.app_context(), jobs.starting(course_id):
            order.append("second in")

    one = threading.Thread(target=first)
    one.start()
    assert inside.wait(10)
    two = threading.Thread(target=second)
    two.start()
    time.sleep(0.5)
    assert order == ["first in"]  # the second start is still waiting
    release.set()
    one.join(10)
    two.join(10)
    assert order == ["first in", "first out", "second in"]


def test_a_job_closed_as_interrupted_before_it_ran_never_runs(app, auth):
    auth.signup_and_login()
    course_id = course_of(app)
    ran = []
    with app.app_context():
        job_id = jobs.create_job("train", course_id).id
        # Nothing holds it yet (not submitted): another start closes it as an orphan and queues its own.
        assert jobs.close_orphans(app, course_id) == 1
    jobs.run_job(app, job_id, lambda job_id: ran.append(job_id), {})
    assert ran == []
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert job.status == JobStatus.FAILED and "Interrupted" in job.message


def test_a_queued_job_runs_once_and_is_done(app, auth):
    auth.signup_and_login()
    course_id = course_of(app)
    with app.app_context():
        job_id = jobs.create_job("train", course_id).id
    jobs.run_job(app, job_id, lambda job_id: {"message": "ok"}, {})
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert (job.status, job.message, job.progress) == (JobStatus.DONE, "ok", 1.0)
