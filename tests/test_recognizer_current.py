"""A running camera uses the recognizer version the database made current, never the newest file in its folder."""
from __future__ import annotations

import time

from conftest import needs_datasets, needs_detector

from app import db
from app.attendance.camera_service import camera_service
from app.courses.service import use_recognizer
from app.models import Course
from app.pipeline import recognizer_path
from app.vision.recognizer_watch import RELOAD_CHECK_SECONDS
from live_media import PEOPLE, live_app, scene_frames, seed_course, sink, trained, wait_for, write_video  # noqa: F401


@needs_datasets
@needs_detector
def test_a_version_saved_but_not_made_current_is_not_loaded_and_the_current_one_is(live_app, tmp_path):
    _, course_id = seed_course(live_app)
    live_app.config["CAMERA_VIDEO_REALTIME"] = True  # paced: the session runs while the course retrains
    video = write_video(tmp_path / "long.avi", scene_frames(PEOPLE[:1], frames_each=600, gap=0))
    with live_app.app_context():
        session_id = camera_service(live_app).start(course_id, str(video))
    worker = camera_service(live_app).worker(session_id)
    v1, v2 = (recognizer_path(live_app.config, course_id, v) for v in (1, 2))
    try:
        assert wait_for(lambda: worker.frames > 2, 60)
        trained().save(v2)  # saved, its commit not yet made (or failed): not current
        with live_app.app_context():
            camera_service(live_app).follow_current_recognizers()  # what a camera worker's heartbeat does
        time.sleep(RELOAD_CHECK_SECONDS + 1.0)
        assert worker.is_alive() and worker.settings.recognizer_path == v1
        with live_app.app_context():
            course = db.session.get(Course, course_id)
            use_recognizer(course, 2, course.recognizer_summary)  # training's commit: running cameras are told
        assert wait_for(lambda: worker.settings.recognizer_path == v2, 30)
    finally:
        camera_service(live_app).stop_all()
