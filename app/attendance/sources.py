"""Turns the Start Attendance form into a camera source string (webcam index, URL or video file)."""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, Mapping

from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from ..vision.sources import VIDEO_EXTENSIONS, SourceError, parse_source
from .service import AttendanceError


def configured_videos(video_dir: str) -> list[str]:
    """Video files IT placed in CAMERA_VIDEO_DIR (names only)."""
    folder = Path(video_dir)
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS)


def source_from_form(form: Mapping[str, Any], upload: FileStorage | None, config: Mapping[str, Any]) -> str:
    """The source string for the chosen kind; raises AttendanceError with what to fix."""
    kind = form.get("source_kind", "webcam")
    if kind == "webcam":
        index = (form.get("webcam_index") or "0").strip()
        if not index.isdigit() or int(index) > 99:
            raise AttendanceError("the webcam number must be a whole number such as 0 or 1")
        return str(int(index))
    if kind == "url":
        url = (form.get("url") or "").strip()
        try:
            if parse_source(url)[0] != "url":
                raise AttendanceError("enter a stream address starting with rtsp://, http:// or https://")
        except SourceError as exc:
            raise AttendanceError(str(exc)) from exc
        return url
    if kind == "video":
        name = form.get("video") or ""
        if name not in configured_videos(config["CAMERA_VIDEO_DIR"]):
            raise AttendanceError("choose one of the listed video files")
        return str(Path(config["CAMERA_VIDEO_DIR"]) / name)
    if kind == "upload":
        if upload is None or not upload.filename:
            raise AttendanceError("choose a video file to upload")
        suffix = Path(upload.filename).suffix.lower()
        if suffix not in VIDEO_EXTENSIONS:
            raise AttendanceError(f"{upload.filename} is not a video file ({', '.join(VIDEO_EXTENSIONS)})")
        # A folder of its own keeps the teacher's file name, which the session lists it under.
        folder = Path(config["UPLOAD_DIR"]) / "attendance" / uuid.uuid4().hex
        folder.mkdir(parents=True, exist_ok=True)
        name = secure_filename(upload.filename)
        path = folder / (name if name.lower().endswith(suffix) else f"video{suffix}")
        upload.save(str(path))
        return str(path)
    raise AttendanceError("choose a camera source")
