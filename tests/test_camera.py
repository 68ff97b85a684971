"""The real CameraWorker on real video built from faces94: marks, unknowns, offline, stop, reload."""
from __future__ import annotations

import queue
import threading
import time

import pytest
from conftest import DETECTOR_DIR, needs_datasets, needs_detector

from app.vision.camera import CameraWorker, Finished, Marked, StatusChanged, UnknownSeen, WorkerSettings
from app.vision.detector import FaceDetector
from app.vision.features import get_extractor
from app.vision.sources import FrameListSource, open_source
from live_media import PEOPLE, UNKNOWN, scene_frames, trained, write_video

pytestmark = [needs_datasets, needs_detector]


def detector() -> FaceDetector:
    return FaceDetector(DETECTOR_DIR / "deploy.prototxt", DETECTOR_DIR / "res10_300x300_ssd_iter_140000.caffemodel")


def worker(source, events, **settings) -> CameraWorker:
    options = dict(session_id=1, detect_every=1, confirm_frames=3, unknown_frames=5)
    options.update(settings)
    return CameraWorker(source, detector, get_extractor("pixels"), trained(), WorkerSettings(**options), events)


def drain(events: queue.Queue) -> list:
    out = []
    while not events.empty():
        out.append(events.get_nowait())
    return out


@pytest.fixture(scope="module")
def scene_video(tmp_path_factory):
    path = tmp_path_factory.mktemp("video") / "scene.avi"
    return write_video(path, scene_frames(PEOPLE[:3] + [UNKNOWN], frames_each=12))


def test_students_marked_once_and_stranger_unknown(scene_video):
    events: queue.Queue = queue.Queue(maxsize=100)
    w = worker(open_source(str(scene_video), realtime=False), events)
    w.start()
    w.join(timeout=120)
    assert not w.is_alive()
    got = drain(events)
    marks = [e for e in got if isinstance(e, Marked)]
    assert sorted(m.student_id for m in marks) == [1, 2, 3]
    assert all(m.snapshot.shape == (192, 192, 3) and 0 <= m.delay_seconds < 1.0 for m in marks)
    unknown = [e for e in got if isinstance(e, UnknownSeen)]
    assert len(unknown) == 1 and unknown[0].snapshot is not None
    assert isinstance(got[-1], Finished) and got[-1].status == "ended" and got[-1].message == "the video ended"
    stats = w.stats()
    assert stats["frames"] == stats["frames_analysed"] == 4 * 22
    assert stats["seconds_to_first_mark"] is not None and stats["errors"] == 0


def test_camera_failing_mid_session_goes_offline_then_recovers(scene_video):
    frames = scene_frames([PEOPLE[0]], frames_each=10, gap=0)
    # Reads 15..19 fail (and the first reopen too): an unplugged then replugged camera.
    source = FrameListSource(frames, live=True, fail=lambda n: 15 <= n < 20)
    events: queue.Queue = queue.Queue(maxsize=1000)
    w = worker(source, events, retry_max_seconds=0.5)
    w.start()
    deadline = time.monotonic() + 30
    statuses: list[str] = []
    while time.monotonic() < deadline and statuses[-2:] != ["offline", "running"]:
        try:
            event = events.get(timeout=0.5)
        except queue.Empty:
            continue
        if isinstance(event, StatusChanged):
            statuses.append(event.status)
    assert statuses == ["running", "offline", "running"]
    assert source.opens >= 2
    frames_before = w.frames
    assert _wait(lambda: w.frames > frames_before + 3, 30)
    w.stop(timeout=10)
    assert not w.is_alive() and w.status == "ended"


def test_stop_during_processing_leaves_no_thread(scene_video):
    before = set(threading.enumerate())
    events: queue.Queue = queue.Queue(maxsize=2)  # tiny: a full queue must not block the camera
    w = worker(open_source(str(scene_video), realtime=True), events)
    w.start()
    assert _wait(lambda: w.frames >= 3, 30)
    w.stop(timeout=10)
    assert not w.is_alive()
    assert set(threading.enumerate()) <= before
    assert w.stats()["message"] == "stopped"


def test_worker_picks_up_a_retrained_recognizer(tmp_path, scene_video):
    path = trained().save(tmp_path / "course_1" / "v1.joblib")
    events: queue.Queue = queue.Queue(maxsize=1000)
    source = FrameListSource(scene_frames([PEOPLE[0]], frames_each=5, gap=0), live=True)
    w = worker(source, events, recognizer_path=path)
    w.start()
    try:
        assert _wait(lambda: w.frames > 2, 30)
        newer = trained().save(tmp_path / "course_1" / "v2.joblib")
        w.watch.use(newer)  # what the camera service does once the database made v2 current
        assert _wait(lambda: w.settings.recognizer_path == newer, 30)
        assert w.recognizer is not trained()
    finally:
        w.stop()


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()
