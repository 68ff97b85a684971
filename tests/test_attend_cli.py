"""`flask attend`: the worker without the web server, JSON summary, unknown mail, clear errors."""
from __future__ import annotations

import json
import threading

from conftest import needs_datasets, needs_detector

from live_media import PEOPLE, UNKNOWN, live_app, scene_frames, seed_course, sink, write_video  # noqa: F401


@needs_datasets
@needs_detector
def test_attend_video_prints_json_and_mails_the_unknown(live_app, sink, tmp_path):
    _, course_id = seed_course(live_app)
    video = write_video(tmp_path / "room.avi", scene_frames([PEOPLE[3], UNKNOWN, PEOPLE[4]], frames_each=12))
    before = set(threading.enumerate())
    result = live_app.test_cli_runner().invoke(args=["attend", "--course", str(course_id), "--source", str(video), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output.strip().splitlines()[-1])
    assert set(data) == {"session_id", "marked", "unknown_sightings", "frames", "frames_analysed", "fps",
                         "seconds_to_first_mark"}
    assert sorted(data["marked"]) == ["R04", "R05"]
    assert data["unknown_sightings"] == 1 and data["frames"] == 66 == data["frames_analysed"]
    assert 0 < data["seconds_to_first_mark"] < 1.0 and data["fps"] > 0
    assert len(sink.messages) == 1 and "Biology 101" in sink.messages[0]["Subject"]
    assert set(threading.enumerate()) <= before

    stranger = write_video(tmp_path / "stranger.avi", scene_frames([UNKNOWN], frames_each=12, gap=0))
    again = live_app.test_cli_runner().invoke(args=["attend", "--course", str(course_id), "--source", str(stranger),
                                                   "--no-email"])
    assert again.exit_code == 0, again.output
    assert "marked present (0): nobody" in again.output and "unknown sightings: 1" in again.output
    assert len(sink.messages) == 1  # --no-email


def test_attend_errors_are_clear(live_app, tmp_path):
    _, course_id = seed_course(live_app, trained_version=False)
    runner = live_app.test_cli_runner()
    result = runner.invoke(args=["attend", "--course", "999", "--source", "0"])
    assert result.exit_code != 0 and "course 999 not found" in result.output
    result = runner.invoke(args=["attend", "--course", str(course_id), "--source", "0"])
    assert result.exit_code != 0 and "no trained recognizer" in result.output
