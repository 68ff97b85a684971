"""Live loop benchmark: frames per second and delay from a face's first appearance to its mark.

640x480 30 fps videos built from ../shared/datasets/faces94 (1 face, 5 faces), played like a camera
(real time, late frames dropped) through the real CameraWorker, and through the recipe users pick
instead (face_recognition / dlib: HOG detector + ResNet embedding of every face of every frame).
Rollcall runs with both feature kinds: `pixels` and `dlib` (a recognizer trained on dlib embeddings).
Writes its own section of bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import logging
import queue
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from common import app_config, machine_line, new_detector, replace_section  # puts the repo on sys.path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from live_media import PEOPLE, group_frames, train_recognizer, write_video  # noqa: E402

from app.vision.camera import CameraWorker, Marked, UnknownSeen, WorkerSettings  # noqa: E402
from app.vision.features import FeatureError, FeatureExtractor, get_extractor  # noqa: E402
from app.vision.preprocess import face_chip  # noqa: E402
from app.vision.sources import CaptureSource  # noqa: E402

FPS = 30.0
LEAD_SECONDS = 1.0
SHOW_SECONDS = 5.0


def build_videos(folder: Path) -> dict[str, tuple[Path, list[str]]]:
    """{'1 face': (path, people), '5 faces': (path, people)}: blank lead, then everyone at once."""
    lead, shown = int(LEAD_SECONDS * FPS), int(SHOW_SECONDS * FPS)
    videos = {}
    for name, people in (("1 face", PEOPLE[:1]), ("5 faces", PEOPLE[:5])):
        videos[name] = (write_video(folder / f"{name.replace(' ', '_')}.avi", group_frames(people, shown, lead), FPS), people)
    return videos


def app_detector(tiles: int | None = None):
    """The detector the app's camera loop builds (CAMERA_DETECTOR_TILES), optionally with other tiles."""
    from app.attendance.camera_service import camera_detector_config
    from app.pipeline import new_detector as pipeline_detector

    cfg = camera_detector_config(app_config())
    if tiles is not None:
        cfg["DETECTOR_TILES"] = tiles
    return pipeline_detector(cfg)


def run_rollcall(path: Path, recognizer, realtime: bool, detect_every: int, tiles: int | None = None,
                 extractor: FeatureExtractor | None = None) -> dict:
    """The real worker on a video; delays are wall time from the faces' appearance to each Marked event."""
    cfg = app_config()
    events: queue.Queue = queue.Queue(maxsize=1000)
    source = CaptureSource(str(path), live=False, realtime=realtime)
    source.open()
    settings = WorkerSettings(session_id=1, confirm_frames=int(cfg["CAMERA_CONFIRM_FRAMES"]),
                              confirm_window_seconds=float(cfg["CAMERA_CONFIRM_WINDOW_SECONDS"]),
                              unknown_frames=int(cfg["CAMERA_UNKNOWN_FRAMES"]), detect_every=detect_every)
    worker = CameraWorker(source, lambda: app_detector(tiles), extractor or get_extractor("pixels"), recognizer,
                          settings, events)
    delays: list[float] = []
    unknown = 0
    start = time.monotonic()
    worker.start()
    while worker.is_alive() or not events.empty():
        try:
            event = events.get(timeout=0.1)
        except queue.Empty:
            continue
        if isinstance(event, Marked):
            # Real time: the source clock is the wall clock since the source opened.
            delays.append(time.monotonic() - source._t0 - LEAD_SECONDS if realtime else event.delay_seconds)
        elif isinstance(event, UnknownSeen):
            unknown += 1
    wall = time.monotonic() - start
    stats = worker.stats()
    return {"fps": stats["frames"] / wall, "analysed_fps": stats["frames_analysed"] / wall,
            "frames": stats["frames"], "dropped": stats["dropped_frames"], "marked": len(delays),
            "unknown": unknown, "delay_median": statistics.median(delays) if delays else None,
            "delay_max": max(delays) if delays else None, "detect_every": stats["detect_every"]}


def detector_ms(frames: list[np.ndarray], tiles: int, repeats: int = 40) -> float:
    """Median ms per 640x480 frame for the detector alone."""
    det = app_detector(tiles)
    det.detect(frames[0])
    times = []
    for i in range(repeats):
        t = time.perf_counter()
        det.detect(frames[i % len(frames)])
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def dlib_setup(labels: dict[str, int], frames: list[np.ndarray]) -> tuple[FeatureExtractor, object, float] | None:
    """Rollcall's dlib extractor, a recognizer trained on its embeddings, and median ms to embed one face."""
    try:
        extractor = get_extractor("dlib")
    except FeatureError as exc:
        logging.warning("Rollcall dlib rows skipped: %s", exc)
        return None
    recognizer = train_recognizer(new_detector(), labels, features="dlib")
    det = app_detector()
    chips = [face_chip(f, box) for f in frames for box in det.detect(f)][:10]
    times = []
    for chip in chips:  # also loads the models before any timed loop
        t = time.perf_counter()
        extractor.from_chips([chip])
        times.append(time.perf_counter() - t)
    return extractor, recognizer, 1000 * statistics.median(times[1:] or times)


def run_dlib(path: Path, people: list[str], seconds: float) -> dict | None:
    """face_recognition's recipe on the same video, played in real time: every face, every frame."""
    try:
        import dlib

        from app.vision.dlib_embedder import model_dir
    except Exception as exc:  # noqa: BLE001
        logging.warning("dlib comparison skipped: %s", exc)
        return None
    import cv2

    from live_media import TRAIN_FRAMES, person_frames

    folder = model_dir()
    hog = dlib.get_frontal_face_detector()
    shapes = dlib.shape_predictor(str(folder / "shape_predictor_68_face_landmarks.dat"))
    encoder = dlib.face_recognition_model_v1(str(folder / "dlib_face_recognition_resnet_model_v1.dat"))

    def encode(rgb: np.ndarray) -> list[np.ndarray]:
        return [np.array(encoder.compute_face_descriptor(rgb, shapes(rgb, r), 1)) for r in hog(rgb, 1)]

    known, labels = [], []
    for person in people:
        for image in person_frames(person)[:TRAIN_FRAMES]:
            for vec in encode(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))[:1]:
                known.append(vec)
                labels.append(person)
    known_arr = np.array(known)
    source = CaptureSource(str(path), live=False, realtime=True)
    source.open()
    first: dict[str, float] = {}
    frames = 0
    start = time.monotonic()
    while time.monotonic() - start < seconds and (item := source.read()) is not None:
        frames += 1
        for vec in encode(cv2.cvtColor(item[0], cv2.COLOR_BGR2RGB)):
            distances = np.linalg.norm(known_arr - vec, axis=1)
            if distances.min() <= 0.6:  # face_recognition's default tolerance
                first.setdefault(labels[int(distances.argmin())], time.monotonic() - source._t0 - LEAD_SECONDS)
    wall = time.monotonic() - start
    source.close()
    delays = list(first.values())
    return {"fps": frames / wall, "frames": frames, "dropped": source.dropped, "marked": len(delays),
            "delay_median": statistics.median(delays) if delays else None,
            "delay_max": max(delays) if delays else None}


def fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def render(rows: dict, det_ms: dict, machine: str, cfg: dict, embed_ms: float | None) -> str:
    lines = [
        f"Measured {machine}.",
        "",
        f"Videos: 640x480 MJPG at {FPS:.0f} fps from faces94 frames the recognizer did not train on; "
        f"{LEAD_SECONDS:.0f} s of empty room, then the faces for {SHOW_SECONDS:.0f} s. Played like a camera: in real "
        "time, frames the loop is too late for are dropped. *Delay* is wall time from the faces' first frame to "
        f"the Marked event (CAMERA_CONFIRM_FRAMES={cfg['CAMERA_CONFIRM_FRAMES']} agreeing recognitions). "
        f"Detector alone, per 640x480 frame: {det_ms[1]:.1f} ms with DETECTOR_TILES=1 (one 300x300 blob), "
        f"{det_ms[2]:.1f} ms with DETECTOR_TILES=2 (whole frame + 2x2 tiles). The camera loop uses "
        f"CAMERA_DETECTOR_TILES (default {cfg.get('CAMERA_DETECTOR_TILES', 1)}); the *tiles=2* rows show the "
        "small-face setting. "
        + (f"dlib embedding alone (5-point alignment + ResNet), per face: {embed_ms:.0f} ms." if embed_ms else ""),
        "",
        "| video | loop | fps processed | detections/s | frames dropped | marked | unknown | delay median / max (s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (video, loop), r in rows.items():
        if r is None:
            continue
        lines.append(f"| {video} | {loop} | {r['fps']:.1f} | {fmt(r.get('analysed_fps'), 1)} | {r['dropped']} | "
                     f"{r['marked']}/{r['expected']} | {r.get('unknown', 'n/a')} | "
                     f"{fmt(r['delay_median'])} / {fmt(r['delay_max'])} |")
    lines += [
        "",
        "Loops: *rollcall adaptive* is the app's default (CAMERA_DETECT_EVERY=0: detect on every frame while that "
        "keeps up with the camera, else on every n-th and keep tracks in between; each track is recognised until "
        "it is decided, not every frame); *rollcall every frame, max speed* detects on every frame with the video "
        "unpaced (the loop's capacity; its delay is on the video's clock). Rows *with dlib features* are the same "
        "loops with the course set to `dlib` features: the same detector and tracker, a 128-d dlib embedding of "
        "each undecided track's face instead of pixels, and a recognizer trained on embeddings of the same "
        "enrollment frames. *face_recognition (dlib)* is HOG "
        "detection plus a ResNet embedding of every face of every frame, nearest enrolled embedding within 0.6, "
        "marked on the first match (no vote), run for the first 4 s of each video.",
        "",
        _verdict(rows),
    ]
    return "\n".join(lines)


def _verdict(rows: dict) -> str:
    """One sentence per video: does the app keep up with 30 fps and mark within 1 s?"""
    out = []
    for (video, loop), r in rows.items():
        if loop.startswith("rollcall adaptive") and r is not None:
            keeps_up = r["fps"] >= 0.9 * FPS
            within = r["delay_max"] is not None and r["delay_max"] <= 1.0 and r["marked"] == r["expected"]
            out.append(f"{video} ({loop}): {'keeps up with' if keeps_up else 'falls behind'} {FPS:.0f} fps "
                       f"(detector on 1 frame in {r['detect_every']} at the end), "
                       f"{'everyone marked within 1 s' if within else 'NOT everyone marked within 1 s'}.")
    return "Verdict: " + " ".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-dlib", action="store_true",
                        help="Skip everything that needs dlib (Rollcall's dlib rows, the face_recognition comparison).")
    parser.add_argument("--no-write", action="store_true", help="Print only; leave RESULTS.md alone.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    cfg = app_config()
    labels = {p: i + 1 for i, p in enumerate(PEOPLE)}
    recognizer = train_recognizer(new_detector(), labels)
    rows: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        videos = build_videos(Path(tmp))
        import cv2

        cap = cv2.VideoCapture(str(videos["5 faces"][0]))
        sample = [cap.read()[1] for _ in range(40)][-10:]
        cap.release()
        det_ms = {tiles: detector_ms(sample, tiles) for tiles in (1, 2)}
        dlib_rollcall = None if args.no_dlib else dlib_setup(labels, sample)
        loops = [("rollcall adaptive", True, 0, None, None), ("rollcall adaptive, tiles=2", True, 0, 2, None),
                 ("rollcall every frame, max speed", False, 1, None, None)]
        if dlib_rollcall is not None:
            extractor, dlib_recognizer = dlib_rollcall[:2]
            loops += [("rollcall adaptive with dlib features", True, 0, None, (extractor, dlib_recognizer)),
                      ("rollcall every frame, max speed, with dlib features", False, 1, None,
                       (extractor, dlib_recognizer))]
        for video, (path, people) in videos.items():
            for loop, realtime, every, tiles, dlib_kind in loops:
                extractor, model = dlib_kind or (None, recognizer)
                rows[(video, loop)] = run_rollcall(path, model, realtime, every, tiles, extractor) | {
                    "expected": len(people)}
                print(video, loop, rows[(video, loop)], flush=True)
            if not args.no_dlib:
                result = run_dlib(path, people, seconds=LEAD_SECONDS + 3.0)
                rows[(video, "face_recognition (dlib)")] = result and result | {"expected": len(people)}
                print(video, "dlib", result, flush=True)
    body = render(rows, det_ms, machine_line(), cfg, dlib_rollcall[2] if dlib_rollcall else None)
    print(body)
    if not args.no_write:
        replace_section("live", "Live attendance: frame rate and delay to mark (bench_live.py)", body)
    # No thread may outlive the run (the worker is a daemon, but it must have ended).
    assert all(not t.name.startswith("camera-") for t in threading.enumerate())


if __name__ == "__main__":
    main()
