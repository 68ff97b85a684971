"""The real CameraWorker with dlib features on a faces94 video: students marked once, a stranger unknown."""
from __future__ import annotations

import queue

import numpy as np
import pytest
from conftest import DETECTOR_DIR, needs_datasets, needs_detector, needs_dlib

from app.vision.camera import CameraWorker, Finished, Marked, UnknownSeen, WorkerSettings
from app.vision.detector import FaceDetector
from app.vision.features import get_extractor
from app.vision.sources import open_source
from live_media import PEOPLE, UNKNOWN, scene_frames, train_recognizer, write_video



pytestmark = [needs_datasets, needs_detector, needs_dlib]

# Nine students enrolled: with very few, the calibrated threshold can reject enrolled faces too.
ENROLLED = PEOPLE + ["drbost", "ekavaz", "elduns"]
ABSENT = "elduns"  # enrolled, never in the video: must not be marked
IN_VIDEO = [p for p in ENROLLED if p != ABSENT]
LABELS = {person: i + 1 for i, person in enumerate(ENROLLED)}
FRAMES_EACH, GAP = 8, 6  # short: each embedding costs ~0.1 s, and only undecided tracks are embedded


def detector() -> FaceDetector:
    return FaceDetector(DETECTOR_DIR / "deploy.prototxt", DETECTOR_DIR / "res10_300x300_ssd_iter_140000.caffemodel")


class CountingFeatures:
    """The dlib extractor, counting the chips the worker asks it to embed."""

    def __init__(self) -> None:
        self.inner = get_extractor("dlib")
        self.name, self.dimension = self.inner.name, self.inner.dimension
        self.chips = 0

    def from_chips(self, chips: list[np.ndarray]) -> np.ndarray:
        self.chips += len(chips)
        return self.inner.from_chips(chips)


@pytest.fixture(scope="module")
def recognizer():
    """Trained once on dlib embeddings of each student's first frames (~8 s of embedding)."""
    return train_recognizer(detector(), LABELS, features="dlib")


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    """Each present student, then the stranger, one at a time on later frames than training used."""
    path = tmp_path_factory.mktemp("video") / "dlib_scene.avi"
    return write_video(path, scene_frames(IN_VIDEO + [UNKNOWN], frames_each=FRAMES_EACH, gap=GAP))


def test_dlib_loop_marks_each_student_once_and_the_stranger_unknown(recognizer, video):
    assert recognizer.n_features_in_ == 128
    extractor = CountingFeatures()
    events: queue.Queue = queue.Queue(maxsize=100)
    settings = WorkerSettings(session_id=1, detect_every=1, confirm_frames=3, unknown_frames=5)
    w = CameraWorker(open_source(str(video), realtime=False), detector, extractor, recognizer, settings, events)
    w.start()
    w.join(timeout=120)
    assert not w.is_alive()
    got = []
    while not events.empty():
        got.append(events.get_nowait())

    marks = [e for e in got if isinstance(e, Marked)]
    assert sorted(m.student_id for m in marks) == sorted(LABELS[p] for p in IN_VIDEO), [
        (m.student_id, m.track_id) for m in marks]
    assert all(m.snapshot.shape == (192, 192, 3) and 0 <= m.delay_seconds < 1.0 for m in marks)
    unknown = [e for e in got if isinstance(e, UnknownSeen)]
    assert len(unknown) == 1 and unknown[0].snapshot is not None
    assert unknown[0].track_id not in {m.track_id for m in marks}
    assert isinstance(got[-1], Finished) and got[-1].status == "ended" and got[-1].message == "the video ended"
    stats = w.stats()
    people_shown = len(IN_VIDEO) + 1
    assert stats["frames"] == stats["frames_analysed"] == people_shown * (FRAMES_EACH + GAP)
    assert stats["errors"] == 0 and stats["dropped_events"] == 0
    # Decided tracks are not embedded again: far fewer embeddings than faces on screen.
    assert 0 < extractor.chips <= people_shown * FRAMES_EACH // 2, extractor.chips
