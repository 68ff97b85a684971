"""Turns the Start Attendance form into a camera source string (webcam index, URL or video file)."""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, Mapping

from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from ..vision.addresses import AddressRefused, check_camera_url
from ..vision.sources import VIDEO_EXTENSIONS, CaptureSource, SourceError, is_whole_number, parse_source
from .service import AttendanceError


def configured_videos(video_dir: str) -> list[str]:
    """Video files IT placed in CAMERA_VIDEO_DIR (names only)."""
    folder = Path(video_dir)
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS)


def upload_folder(config: Mapping[str, Any]) -> Path:
    """Where uploaded attendance videos wait for their session (deleted when it ends)."""
    return Path(config["UPLOAD_DIR"]) / "attendance"


def uploaded_video(source: str, config: Mapping[str, Any]) -> Path | None:
    """The uploaded file a source string points at, or None for cameras and IT's own videos."""
    path = Path(source)
    try:
        # Each upload has a folder of its own (it keeps the teacher's file name): <uploads>/<hex>/<name>.
        inside = path.resolve().parent.parent == upload_folder(config).resolve()
    except (OSError, ValueError):
        return None
    return path if inside and path.suffix.lower() in VIDEO_EXTENSIONS else None


def discard_upload(source: str, config: Mapping[str, Any]) -> None:
    """Delete an uploaded attendance video (its session ended or never started); cameras are left alone."""
    path = uploaded_video(source, config)
    if path is not None:
        remove_upload(path)


def remove_upload(path: Path) -> None:
    """Delete an uploaded video file and the folder of its own it was kept in."""
    path.unlink(missing_ok=True)
    try:
        path.parent.rmdir()
    except OSError:
        pass  # not empty or already gone: the retention sweep removes stale folders


class UploadedVideo(CaptureSource):
    """An uploaded attendance video: the camera loop's final close deletes the file (personal data)."""

    def close(self) -> None:
        """Release the file, and delete it once it had been opened (open() itself calls close() first)."""
        was_open = self.is_open
        super().close()
        if was_open:
            remove_upload(Path(str(self.target)))


def source_from_form(form: Mapping[str, Any], upload: FileStorage | None, config: Mapping[str, Any]) -> str:
    """The source string for the chosen kind; raises AttendanceError with what to fix."""
    kind = form.get("source_kind", "webcam")
    if kind == "webcam":
        index = (form.get("webcam_index") or "0").strip()
        if not is_whole_number(index) or int(index) > 99:
            raise AttendanceError("the webcam number must be a whole number such as 0 or 1")
        return str(int(index))
    if kind == "url":
        url = (form.get("url") or "").strip()
        try:
            if parse_source(url)[0] != "url":
                raise AttendanceError("enter a stream address starting with rtsp://, http:// or https://")
            # Teachers type this address and the server connects to it: only cameras IT allows.
            return check_camera_url(url, config["CAMERA_ALLOWED_HOSTS"], bool(config["CAMERA_ALLOW_PUBLIC_URLS"]))
        except (SourceError, AddressRefused) as exc:
            raise AttendanceError(str(exc)) from exc
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
        folder = upload_folder(config) / uuid.uuid4().hex
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        name = secure_filename(upload.filename)
        path = folder / (name if name.lower().endswith(suffix) else f"video{suffix}")
        upload.save(str(path))
        return str(path)
    raise AttendanceError("choose a camera source")


def start_panel(course, config: Mapping[str, Any], running) -> dict[str, Any]:
    """What the course page's Start Attendance panel shows: configured videos, the running session, defaults."""
    webcam = str(config["CAMERA_SOURCE"])
    return {"videos": configured_videos(config["CAMERA_VIDEO_DIR"]), "running": running,
            "trained": bool(course.recognizer_version), "default_webcam": webcam if webcam.isdigit() else "0"}
