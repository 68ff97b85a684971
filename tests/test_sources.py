"""Frame sources: parsing what a teacher typed, video files, frame lists, failures."""
from __future__ import annotations

import numpy as np
import pytest

from app.vision.sources import CaptureSource, FrameListSource, SourceError, open_source, parse_source, safe_label
from live_media import write_video


def test_parse_source_kinds():
    assert parse_source("0") == ("webcam", 0)
    assert parse_source(" 2 ") == ("webcam", 2)
    assert parse_source("rtsp://cam.local/stream") == ("url", "rtsp://cam.local/stream")
    assert parse_source("/videos/class.mp4") == ("file", "/videos/class.mp4")
    with pytest.raises(SourceError, match="no camera source"):
        parse_source("  ")
    with pytest.raises(SourceError, match="unsupported stream"):
        parse_source("ftp://x/y")


def test_safe_label_hides_url_password():
    label = safe_label("rtsp://admin:secret@10.0.0.5:554/live")
    assert "secret" not in label and label == "rtsp://10.0.0.5:554/live"
    assert safe_label("3") == "webcam 3"
    assert safe_label("/a/b/room1.mp4") == "room1.mp4"


def test_video_file_reads_all_frames_then_ends(tmp_path):
    frames = [np.full((480, 640, 3), i * 20, np.uint8) for i in range(6)]
    path = write_video(tmp_path / "v.avi", frames, fps=25)
    source = open_source(str(path), realtime=False)
    got = []
    while (item := source.read()) is not None:
        got.append(item)
    source.close()
    assert len(got) == 6 and source.fps == pytest.approx(25)
    assert [t for _, t in got] == pytest.approx([i / 25 for i in range(6)])
    assert got[0][0].shape == (480, 640, 3)
    assert abs(int(got[3][0].mean()) - 60) <= 3


def test_realtime_file_is_paced(tmp_path):
    import time

    path = write_video(tmp_path / "v.avi", [np.zeros((480, 640, 3), np.uint8)] * 10, fps=50)
    source = open_source(str(path), realtime=True)
    start = time.monotonic()
    while source.read() is not None:
        pass
    assert time.monotonic() - start >= 0.17  # 10 frames at 50 fps take 0.18 s like a camera


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(SourceError, match="not found"):
        open_source(str(tmp_path / "nope.mp4"))
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video")
    with pytest.raises(SourceError, match="cannot open"):
        open_source(str(bad))


def test_unreachable_stream_fails_clearly():
    source = CaptureSource("http://127.0.0.1:9/none.mjpg", live=True)
    with pytest.raises(SourceError, match="cannot open camera"):
        source.open()


def test_frame_list_failure_then_recovery():
    frames = [np.zeros((4, 4, 3), np.uint8)]
    source = FrameListSource(frames, live=True, fail=lambda n: 2 <= n < 4)
    source.open()
    assert source.read() is not None and source.read() is not None
    with pytest.raises(SourceError):
        source.read()
    with pytest.raises(SourceError):
        source.open()
    source.open()
    _, t = source.read()
    assert t == pytest.approx(2 / 30)
