"""Frame sources for the camera loop: webcam index, stream URL, video file, or a list of frames (tests)."""
from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Callable, Protocol
from urllib.parse import urlsplit

import cv2
import numpy as np

log = logging.getLogger(__name__)

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")
URL_SCHEMES = ("rtsp", "rtsps", "http", "https", "rtmp")
# cv2 waits this long for a network stream to open or deliver before giving up (ffmpeg backend).
OPEN_TIMEOUT_MS = 5000
READ_TIMEOUT_MS = 5000
# ffmpeg would follow an HTTP redirect to any address (past the camera address check): follow none.
FFMPEG_OPTIONS_ENV = "OPENCV_FFMPEG_CAPTURE_OPTIONS"
NO_REDIRECTS = "max_redirects;0"
_env_lock = threading.Lock()
# A webcam driver keeps about this many frames (V4L2's default); a loop later than that loses frames.
CAMERA_BUFFER_FRAMES = 4


class SourceError(RuntimeError):
    """A source cannot be opened or stopped delivering frames; the message says which and why."""


class FrameSource(Protocol):
    """Anything the camera worker can pull (H, W, 3) uint8 BGR frames from."""

    label: str
    live: bool  # True: a failed read means "offline, retry"; False: no more frames means "ended"
    fps: float

    def open(self) -> None: ...

    def read(self) -> tuple[np.ndarray, float] | None:
        """The next frame and its time in seconds (source clock); None when a recording ends."""
        ...

    def close(self) -> None: ...


def parse_source(text: str) -> tuple[str, str | int]:
    """('webcam', index) | ('url', url) | ('file', path) from what a teacher or IT typed."""
    value = (text or "").strip()
    if not value:
        raise SourceError("no camera source given: use a webcam number, a stream URL or a video file")
    if is_whole_number(value):
        return "webcam", int(value)
    scheme = urlsplit(value).scheme.lower()
    if scheme in URL_SCHEMES:
        return "url", value
    if "://" in value:
        raise SourceError(f"unsupported stream address {safe_label(value)!r}: use one of {', '.join(URL_SCHEMES)}")
    return "file", value


def is_whole_number(value: str) -> bool:
    """A short run of ASCII digits: str.isdigit() also accepts "²", and int() refuses 4,300+ digits."""
    return value.isascii() and value.isdigit() and len(value) <= 9


def safe_label(text: str) -> str:
    """A name for a source that never shows a password embedded in a stream URL."""
    value = (text or "").strip()
    if is_whole_number(value):
        return f"webcam {value}"
    parts = urlsplit(value)
    if parts.scheme and parts.netloc:
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{host}{port}{parts.path}"
    return Path(value).name or value


class CaptureSource:
    """A cv2.VideoCapture: webcam, stream URL or video file; files can be paced like a camera."""

    def __init__(self, target: str | int, live: bool, realtime: bool = True, label: str | None = None) -> None:
        self.target = target
        self.live = live
        self.realtime = realtime and not live
        self.label = label or safe_label(str(target))
        self.fps = 30.0
        self.dropped = 0
        self._cap: cv2.VideoCapture | None = None
        self._open_error = ""  # why the last open failed: what a read of the unopened source reports
        self._index = 0
        self._t0 = 0.0

    def open(self) -> None:
        """Open the device, stream or file; raises SourceError with a readable reason."""
        self.close()
        if not self.live and not Path(str(self.target)).is_file():
            raise SourceError(f"video file not found: {self.label}")
        if isinstance(self.target, int):
            cap = cv2.VideoCapture(self.target)
        else:
            if self.live:
                _refuse_redirects()
            params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, OPEN_TIMEOUT_MS, cv2.CAP_PROP_READ_TIMEOUT_MSEC, READ_TIMEOUT_MS]
            cap = cv2.VideoCapture(str(self.target), cv2.CAP_ANY, params)
        if not cap.isOpened():
            cap.release()
            what = "camera" if self.live else "video file"
            self._open_error = f"cannot open {what} {self.label}: not connected, busy, or not a video"
            raise SourceError(self._open_error)
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if 1.0 <= fps <= 240.0 else 30.0
        self._cap, self._index, self._t0 = cap, 0, time.monotonic()

    @property
    def is_open(self) -> bool:
        """False until open() succeeded (network cameras are opened by the camera thread, not the request)."""
        return self._cap is not None

    def read(self) -> tuple[np.ndarray, float] | None:
        """Next frame; a live source that fails raises SourceError, a file that ends returns None."""
        if self._cap is None:
            raise SourceError(self._open_error or f"{self.label} is not open")
        if not self.live:
            return self._read_file()
        ok, frame = self._cap.read()
        if not ok or frame is None:
            raise SourceError(f"camera {self.label} stopped delivering frames")
        return frame, time.monotonic()

    def _read_file(self) -> tuple[np.ndarray, float] | None:
        assert self._cap is not None
        if self.realtime:
            # Behave like a camera: wait for the frame's time, and skip frames its buffer would have lost.
            due = self._t0 + self._index / self.fps
            now = time.monotonic()
            if now < due:
                time.sleep(due - now)
            else:
                while now - due > CAMERA_BUFFER_FRAMES / self.fps:
                    if not self._cap.grab():
                        return None
                    self._index += 1
                    self.dropped += 1
                    due = self._t0 + self._index / self.fps
        ok, frame = self._cap.read()
        if not ok or frame is None:
            return None
        t = self._index / self.fps
        self._index += 1
        return frame, t

    def close(self) -> None:
        """Release the device or file (safe to call twice)."""
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class FrameListSource:
    """Frames from memory (tests); `fail_at` makes reads fail like an unplugged camera."""

    def __init__(self, frames: list[np.ndarray], fps: float = 30.0, live: bool = False,
                 fail: Callable[[int], bool] | None = None, label: str = "frames") -> None:
        self.frames = frames
        self.fps = fps
        self.live = live
        self.label = label
        self.fail = fail
        self.opens = 0
        self._index = 0
        self._reads = 0
        self._delivered = 0

    def open(self) -> None:
        """Count the (re)open; a failing source refuses to open while it fails."""
        self.opens += 1
        if self.fail is not None and self.fail(self._reads):
            self._reads += 1
            raise SourceError(f"{self.label} is unavailable")

    def read(self) -> tuple[np.ndarray, float] | None:
        """The next frame in order; None after the last one (or loops when live)."""
        if self.fail is not None and self.fail(self._reads):
            self._reads += 1
            raise SourceError(f"{self.label} stopped delivering frames")
        self._reads += 1
        if self._index >= len(self.frames):
            if not self.live:
                return None
            self._index = 0
        frame = self.frames[self._index]
        t = self._delivered / self.fps
        self._index += 1
        self._delivered += 1
        return frame, t

    def close(self) -> None:
        """Nothing to release."""


def _refuse_redirects() -> None:
    """Add max_redirects=0 to the ffmpeg options OpenCV reads at each open (keeps IT's own options)."""
    with _env_lock:
        current = os.environ.get(FFMPEG_OPTIONS_ENV, "")
        if "max_redirects" not in current:
            os.environ[FFMPEG_OPTIONS_ENV] = f"{current}|{NO_REDIRECTS}" if current else NO_REDIRECTS


def open_source(text: str, realtime: bool = True, connect: bool = True) -> CaptureSource:
    """A source for a webcam number, stream URL or video file path, opened unless connect=False; SourceError."""
    kind, target = parse_source(text)
    source = CaptureSource(target, live=kind != "file", realtime=realtime)
    if connect:
        source.open()
    return source
