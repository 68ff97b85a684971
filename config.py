"""Rollcall configuration: one env-driven class with safe defaults."""
from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_path(name: str, default: Path) -> str:
    return str(Path(os.environ.get(name, str(default))).resolve())


class Config:
    """Settings read from the environment once at import; tests override per app."""

    INSTANCE_DIR = _env_path("ROLLCALL_INSTANCE_DIR", BASE_DIR / "instance")
    # None means "generate one and keep it in instance/secret_key" (see app.secret).
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", "sqlite:///" + str(Path(INSTANCE_DIR) / "rollcall.sqlite")
    )
    # A plain postgresql://user@host/db works as written (app.database picks the psycopg 3 driver).
    # The pool is sized per process: request threads + writer + mail sender + job runner.
    DATABASE_POOL_SIZE = int(os.environ.get("DATABASE_POOL_SIZE", 10))
    DATABASE_MAX_OVERFLOW = int(os.environ.get("DATABASE_MAX_OVERFLOW", 10))
    # Set (redis://127.0.0.1:6379/0) for a school: jobs and mail run in `flask worker` processes
    # (docs/DEPLOY.md). Unset (the default, `make run`): the same code runs inside the one process.
    REDIS_URL = os.environ.get("REDIS_URL", "")
    REDIS_QUEUE = os.environ.get("REDIS_QUEUE", "rollcall")
    # Seconds a SIGTERM waits for queued camera events to be written before the process exits.
    SHUTDOWN_DRAIN_SECONDS = float(os.environ.get("SHUTDOWN_DRAIN_SECONDS", 30))

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_ENABLED = True
    # Uploads: photos and short videos. 200 MB covers a 1-minute phone video.
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", 200 * 1024 * 1024))

    # Data folders: enrolled crops, trained recognizers, third-party detector weights, snapshots.
    DATASET_DIR = _env_path("ROLLCALL_DATASET_DIR", BASE_DIR / "dataset")
    RECOGNIZER_DIR = _env_path("ROLLCALL_RECOGNIZER_DIR", BASE_DIR / "models")
    SNAPSHOT_DIR = _env_path("ROLLCALL_SNAPSHOT_DIR", Path(INSTANCE_DIR) / "snapshots")
    UPLOAD_DIR = _env_path("ROLLCALL_UPLOAD_DIR", Path(INSTANCE_DIR) / "uploads")
    # Days to keep face snapshots of sessions and uploaded attendance videos (0 = keep forever); swept at
    # start-up and daily (app/retention.py). Uploaded videos are also deleted as soon as their session ends.
    SNAPSHOT_RETENTION_DAYS = int(os.environ.get("SNAPSHOT_RETENTION_DAYS", 90))
    VIDEO_RETENTION_DAYS = int(os.environ.get("VIDEO_RETENTION_DAYS", 1))

    DETECTOR_DIR = _env_path("DETECTOR_DIR", BASE_DIR / "dnn_models")
    DETECTOR_PROTOTXT = "deploy.prototxt"
    DETECTOR_WEIGHTS = "res10_300x300_ssd_iter_140000.caffemodel"
    DETECTOR_MIN_CONFIDENCE = float(os.environ.get("DETECTOR_MIN_CONFIDENCE", 0.5))
    # 2 = whole frame plus a 2x2 grid of tiles (finds faces half as small, ~5x the work); 1 = whole frame.
    DETECTOR_TILES = int(os.environ.get("DETECTOR_TILES", 2))

    # Unknown-person rejection is calibrated to this false-accept rate at training time.
    RECOGNIZER_TARGET_FAR = float(os.environ.get("RECOGNIZER_TARGET_FAR", 0.01))
    RECOGNIZER_MIN_IMAGES = int(os.environ.get("RECOGNIZER_MIN_IMAGES", 2))
    RECOGNIZER_RECOMMENDED_IMAGES = int(os.environ.get("RECOGNIZER_RECOMMENDED_IMAGES", 8))
    # Feature kind for new courses: "pixels" (the user's design) or "dlib" (deep embeddings).
    RECOGNIZER_FEATURES = os.environ.get("RECOGNIZER_FEATURES", "pixels")
    # Camera marks in the lowest this share of the room between the recognizer's threshold and a perfect score
    # are listed for the teacher's review (0.25: threshold 0.9 -> marks under 0.925).
    REVIEW_SCORE_MARGIN = float(os.environ.get("REVIEW_SCORE_MARGIN", 0.25))

    CAMERA_SOURCE = os.environ.get("CAMERA_SOURCE", "0")
    # Network cameras: hosts, IPs or networks (comma separated, e.g. "cam1.school.lan, 10.20.0.0/24") IT
    # allows, private addresses included. Other hosts are refused unless CAMERA_ALLOW_PUBLIC_URLS, and then
    # only when they resolve to public addresses (the address checked is the one opened; no redirects).
    CAMERA_ALLOWED_HOSTS = os.environ.get("CAMERA_ALLOWED_HOSTS", "")
    CAMERA_ALLOW_PUBLIC_URLS = _env_bool("CAMERA_ALLOW_PUBLIC_URLS", False)
    # Live view: MJPEG viewers each hold a server thread, so they are capped (extra viewers get a still image).
    CAMERA_MAX_VIEWERS_PER_SESSION = int(os.environ.get("CAMERA_MAX_VIEWERS_PER_SESSION", 3))
    CAMERA_MAX_VIEWERS_PER_TEACHER = int(os.environ.get("CAMERA_MAX_VIEWERS_PER_TEACHER", 4))
    CAMERA_VIDEO_DIR = _env_path("CAMERA_VIDEO_DIR", Path(INSTANCE_DIR) / "videos")
    CAMERA_CONFIRM_FRAMES = int(os.environ.get("CAMERA_CONFIRM_FRAMES", 3))
    CAMERA_CONFIRM_WINDOW_SECONDS = float(os.environ.get("CAMERA_CONFIRM_WINDOW_SECONDS", 2.0))
    # One email per stranger (tracks of one person are grouped); past this many in a session, one summary.
    CAMERA_UNKNOWN_MAX_EMAILS = int(os.environ.get("CAMERA_UNKNOWN_MAX_EMAILS", 5))
    CAMERA_DETECT_EVERY = int(os.environ.get("CAMERA_DETECT_EVERY", 0))  # 0 = adapt to the camera rate
    CAMERA_RETRY_MAX_SECONDS = float(os.environ.get("CAMERA_RETRY_MAX_SECONDS", 30))
    # Frames a face must stay unrecognised before it counts as one unknown sighting (and alert).
    CAMERA_UNKNOWN_FRAMES = int(os.environ.get("CAMERA_UNKNOWN_FRAMES", 5))
    # Play video files at their own frame rate, as a camera would deliver them (off: as fast as possible).
    CAMERA_VIDEO_REALTIME = _env_bool("CAMERA_VIDEO_REALTIME", True)
    # Detector tiles in the live loop (see DETECTOR_TILES): 1 keeps up with 30 fps on 2 cores and marks within
    # 1 s (bench/RESULTS.md); 2 finds faces half as small at ~5x the cost (detects on fewer frames, marks later).
    CAMERA_DETECTOR_TILES = int(os.environ.get("CAMERA_DETECTOR_TILES", 1))
    # What the camera sees (the Start form can change it per session): "doorway" = people close to the camera,
    # whole frame every detection; "classroom" = a wide view of a seated class, one tile per detection in
    # rotation, faces down to ~40 px in 720p (bench/RESULTS.md "Issue 12").
    CAMERA_VIEW = os.environ.get("CAMERA_VIEW", "doorway")
    # Average time per frame the loop spends recognising (ms): with 30 faces the live view and tracks keep going.
    CAMERA_RECOGNITION_BUDGET_MS = float(os.environ.get("CAMERA_RECOGNITION_BUDGET_MS", 25))
    # Costly features (dlib) are embedded in a child process on the second core (dlib holds the GIL).
    CAMERA_EMBED_PROCESS = _env_bool("CAMERA_EMBED_PROCESS", True)
    # Faces narrower than this (px) are tracked and shown but not judged (0 = judge every face; -1 = by feature
    # kind: 70 for pixels, whose 40-60 px faces score under the threshold and would be reported as strangers, 0 for
    # dlib, which names 40-60 px faces as well as large ones; bench/RESULTS.md "Issue 12").
    CAMERA_MIN_FACE_PX = int(os.environ.get("CAMERA_MIN_FACE_PX", -1))

    MAIL_ENABLED = _env_bool("MAIL_ENABLED", True)
    MAIL_HOST = os.environ.get("MAIL_HOST", "localhost")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", 587))
    MAIL_USER = os.environ.get("MAIL_USER", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "") or MAIL_USER or "rollcall@localhost"
    MAIL_SSL = _env_bool("MAIL_SSL", False)
    MAIL_STARTTLS = _env_bool("MAIL_STARTTLS", True)
    MAIL_RETRY_MAX_SECONDS = float(os.environ.get("MAIL_RETRY_MAX_SECONDS", 600))
    MAIL_MAX_ATTEMPTS = int(os.environ.get("MAIL_MAX_ATTEMPTS", 8))  # then "failed", shown on Settings

    # Flood limits (Flask-Limiter syntax): over them a request gets 429 + Retry-After at once, nobody waits.
    # Every login POST counts (a school behind one NAT address shares the per-address allowance).
    # memory:// serves one process; redis://127.0.0.1:6379 (pip install redis) when several processes share them.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "10 per minute; 50 per hour")
    LOGIN_LIMIT_PER_ADDRESS = os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "60 per minute; 600 per hour")
    SIGNUP_LIMIT_PER_ADDRESS = os.environ.get("SIGNUP_LIMIT_PER_ADDRESS", "20 per hour")
    # Password hashes (scrypt, ~0.1 s CPU each) running at once; more are refused with 429, never queued.
    LOGIN_MAX_CONCURRENT_CHECKS = int(os.environ.get("LOGIN_MAX_CONCURRENT_CHECKS", 4))
    ATTENDANCE_LOW_THRESHOLD = float(os.environ.get("ATTENDANCE_LOW_THRESHOLD", 0.75))
    # Background work (enrollment, training, the attendance writer) starts with the app unless a test says no.
    START_BACKGROUND = True

    # Where `python run.py` serves (waitress). MJPEG viewers each hold a thread while they watch, so fewer
    # than SERVER_MIN_THREADS would let live views starve the other pages; app/serving.py raises fewer to the
    # minimum and logs it.
    SERVER_HOST = os.environ.get("HOST", "127.0.0.1")
    SERVER_PORT = int(os.environ.get("PORT", 5000))
    SERVER_THREADS = int(os.environ.get("WAITRESS_THREADS", 16))
    SERVER_MIN_THREADS = 16
