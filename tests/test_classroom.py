"""A real 720p classroom video (12 seated faces from faces94/ORL, some under 70 px) through the whole app."""
from __future__ import annotations

import queue
import sys
import time
from pathlib import Path

import pytest
from conftest import DATASETS, needs_datasets, needs_detector, needs_dlib

from app.vision.features import get_extractor
from app.vision.recognizer import Recognizer
from app.vision.sources import FrameListSource
from config import BASE_DIR

sys.path.insert(0, str(BASE_DIR / "bench"))
from classroom import build, frame, write_video  # noqa: E402
from classroom_run import enroll, make_app, run  # noqa: E402

pytestmark = [needs_datasets, needs_detector]


def detector():
    from app.vision.detector import FaceDetector

    return FaceDetector(BASE_DIR / "dnn_models" / "deploy.prototxt",
                        BASE_DIR / "dnn_models" / "res10_300x300_ssd_iter_140000.caffemodel")


@pytest.fixture(scope="module")
def room():
    return build(DATASETS, detector(), "faces94+orl", n_faces=12, n_strangers=3, n_absent=1, seconds=4.0,
                 min_px=55, max_px=96, seed=3, max_photos=3)


@pytest.fixture(scope="module")
def video(room, tmp_path_factory):
    return write_video(room, tmp_path_factory.mktemp("classroom") / "class.avi")


def test_scene_has_small_faces_strangers_and_an_absent_student(room):
    sizes = [s.face_px for s in room.seats]
    assert len(room.seats) >= 12 and min(sizes) < 70 <= max(sizes)
    assert sum(not s.person.enrolled for s in room.seats) == 3
    assert any(p.enrolled and not p.present for p in room.people)


def _run(tmp_path, room, video, features: str, **config):
    app = make_app(tmp_path, CAMERA_VIEW="classroom", CAMERA_VIDEO_REALTIME=False, **config)
    course_id, ids, _ = enroll(app, room, features)
    return run(app, course_id, video, room, ids, timeout=120)


def test_pixels_classroom_marks_students_and_reports_each_stranger_once(tmp_path, room, video):
    # Every face judged (the pixel default leaves faces under 50 px unjudged; see camera_service.min_face_px).
    score = _run(tmp_path, room, video, "pixels", CAMERA_DETECT_EVERY=1, CAMERA_MIN_FACE_PX=0)
    r = score.row()
    print(r, score.wrong, score.missed)
    assert r["wrong"] == 0, score.wrong
    assert r["right"] >= 1 and r["db_marked"] == r["right"]
    # Every stranger alerted once, no student taken for one: a small stranger's re-created track (its
    # features wander at 50-90 px) is the same stranger when it is back in the same seat.
    assert score.strangers_reported == {name: 1 for name in score.strangers_reported} and r["strangers"] == 3
    assert r["stranger_reports"] == 3 and r["students_unknown"] == 0 and r["db_sightings"] >= 3
    assert score.stats["frames"] == score.stats["frames_analysed"] == 120


class PacedFrames(FrameListSource):
    """The scene's frames looping like a live camera: one every 1/fps s of wall time, wall-clock stamps."""

    def __init__(self, frames, **kwargs) -> None:
        super().__init__(frames, **kwargs)
        self._t0 = time.monotonic()

    def read(self):
        item = super().read()
        if item is None:
            return None
        due = self._t0 + self._delivered / self.fps
        time.sleep(max(0.0, due - time.monotonic()))
        return item[0], time.monotonic()


@pytest.fixture(scope="module")
def small_room():
    """Six seated faces (four students, two strangers), 56-90 px: enough to keep a dlib child busy, cheap to enroll."""
    return build(DATASETS, detector(), "faces94+orl", n_faces=6, n_strangers=2, n_absent=0, seconds=2.0,
                 min_px=56, max_px=90, seed=3, max_photos=2)


@needs_dlib
def test_dlib_embeddings_in_a_child_process_while_the_loop_keeps_tracking(small_room):
    """Costly embeddings run beside the loop: frames keep flowing while a job is out, and students get marked."""
    from app.vision.camera import CameraWorker, Marked, WorkerSettings

    import tempfile

    room = small_room
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(Path(tmp))
        course_id, ids, summary = enroll(app, room, "dlib")
        from app.pipeline import recognizer_path

        recognizer = Recognizer.load(recognizer_path(app.config, course_id, summary["version"]))
    frames = [frame(room, k) for k in range(30)]
    events: queue.Queue = queue.Queue(maxsize=1000)
    settings = WorkerSettings(session_id=1, view="classroom", recognition_budget_ms=25, embed_process=True)
    w = CameraWorker(PacedFrames(frames, live=True), detector, get_extractor("dlib"), recognizer, settings, events)
    present = {ids[s.person.name] for s in room.seats if s.person.enrolled}
    marked: dict[int, int] = {}
    w.start()
    try:
        # Two marks prove the child's vectors reach the votes; the rest is the benchmark's job.
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline and len(marked) < min(2, len(present)):
            try:
                event = events.get(timeout=0.5)
            except queue.Empty:
                continue
            if isinstance(event, Marked):
                marked[event.student_id] = marked.get(event.student_id, 0) + 1
        stats = w.stats()
    finally:
        w.stop()
    print(stats, len(marked), len(present))
    assert stats["embed_process"] and stats["frames_while_embedding"] > 10
    assert stats["frames"] > stats["recognitions"]  # the loop ran ahead of the embeddings, not in step with them
    assert set(marked) <= present and all(n == 1 for n in marked.values())
    assert len(marked) >= min(2, len(present))
    assert stats["faces_in_view"] >= 5 and stats["errors"] == 0
