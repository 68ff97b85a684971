"""Whole-class scenario: a 1280x720 video of 12-40 seated faces (40-90 px) built from ../shared/datasets.

Rows run from the back of the room (top, small faces) to the front (bottom, large faces); each face
sways a few pixels and cycles through its identity's photos that enrollment did NOT use. Some people
are enrolled through the app's real enrollment and training code, some are strangers, and a few
enrolled students stay away (a mark for them is wrong by construction). Importable from tests.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np

FRAME_SIZE = (1280, 720)
WALL = (150, 160, 168)  # BGR, a grey-beige classroom wall
DESK = (60, 90, 120)
# How many video frames each photo of a person stays on screen: faces94 is 20 consecutive frames of
# a person talking (video-like); ORL, LFW and johns photos are separate poses (a person moving).
HOLD_FRAMES = {"faces94": 4, "orl": 30, "lfw10": 45, "johns": 45}


@dataclass
class Person:
    """One identity of the scene: the photos enrollment gets and the ones the camera shows."""

    name: str
    dataset: str
    enroll: list[Path]
    show: list[Path]
    enrolled: bool
    present: bool = True


@dataclass
class Seat:
    """Where a person sits: face centre (x, y) at rest and face width in pixels."""

    person: Person
    cx: int
    cy: int
    face_px: int
    phase: float = 0.0

    def contains(self, x: float, y: float) -> bool:
        """True when (x, y) lies within this seat's face (plus its sway)."""
        return abs(x - self.cx) <= 0.6 * self.face_px + 4 and abs(y - self.cy) <= 0.7 * self.face_px + 4


@dataclass
class Classroom:
    """People, seats and the video's frame rate and length."""

    people: list[Person]
    seats: list[Seat]
    fps: float = 30.0
    seconds: float = 10.0
    _tiles: dict[tuple[Path, int], np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def students(self) -> list[Person]:
        return [p for p in self.people if p.enrolled]

    def seat_at(self, x: float, y: float) -> Seat | None:
        """The seat whose face contains the point (a track's box centre), if any."""
        for seat in self.seats:
            if seat.contains(x, y):
                return seat
        return None


def _ordered(folder: Path) -> list[Path]:
    """A person's images in their natural order (name.2.jpg before name.10.jpg)."""
    def key(p: Path) -> tuple[int, str]:
        digits = "".join(ch for ch in p.stem.rsplit(".", 1)[-1].rsplit("_", 1)[-1] if ch.isdigit())
        return int(digits or 0), p.name
    return sorted((p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".pgm", ".png")), key=key)


def _person(root: Path, dataset: str, name: str, n_enroll: int, enrolled: bool) -> Person:
    files = _ordered(root / dataset / name)
    if not enrolled:
        return Person(name, dataset, [], files, False)
    return Person(name, dataset, files[:n_enroll], files[n_enroll:] or files[-1:], True)


def cast(root: Path, kind: str = "faces94+orl", n_faces: int = 30, n_strangers: int = 6, n_absent: int = 2,
         seed: int = 0) -> list[Person]:
    """The people of a scenario: n_faces on screen (n_strangers of them never enrolled), n_absent enrolled but away."""
    rng = random.Random(seed)
    if kind == "faces94+orl":
        # faces94: 8 talking frames to enroll, 12 shown; ORL: 5 poses to enroll, 5 shown (the usual split).
        pool = [("faces94", n, 8) for n in sorted(p.name for p in (root / "faces94").iterdir())
                if n != "unknown_id11"]
        pool += [("orl", f"s{i}", 5) for i in range(1, 41)]
        strangers_first = [("faces94", "unknown_id11", 0)]
    elif kind == "lfw":
        # LFW: 10 news photos to enroll, the rest shown; johns: 6 to enroll, 5 shown.
        pool = [("lfw10", p.name, 10) for p in sorted((root / "lfw10").iterdir())]
        pool += [("johns", p.name, 6) for p in sorted((root / "johns").iterdir())]
        strangers_first = []
    else:
        raise ValueError(f"unknown classroom kind {kind!r}")
    rng.shuffle(pool)
    need = n_faces + n_absent
    if need - len(strangers_first) > len(pool):
        raise ValueError(f"{kind}: at most {len(pool) + len(strangers_first) - n_absent} faces")
    people = [_person(root, d, n, k, False) for d, n, k in strangers_first[:n_strangers]]
    for d, n, k in pool[:need - len(people)]:
        enrolled = len([p for p in people if not p.enrolled]) >= n_strangers
        people.append(_person(root, d, n, k, enrolled))
    for person in [p for p in people if p.enrolled][-n_absent:] if n_absent else []:
        person.present = False
    rng.shuffle(people)
    return people


def layout(people: list[Person], min_px: int = 40, max_px: int = 90, seed: int = 0,
           frame_size: tuple[int, int] = FRAME_SIZE) -> list[Seat]:
    """Seats in rows, back (top, min_px faces) to front (bottom, max_px faces); 4-6 people a row."""
    rng = random.Random(seed)
    present = [p for p in people if p.present]
    n_rows = max(2, min(5, math.ceil(len(present) / 8)))
    per_row = math.ceil(len(present) / n_rows)
    w, h = frame_size
    seats, i, y = [], 0, 0.08 * h
    for r in range(n_rows):
        size = min_px + (max_px - min_px) * r / (n_rows - 1)
        row = present[i:i + per_row]
        i += per_row
        y += size * 0.9
        for c, person in enumerate(row):
            x = (c + 0.5) * w / len(row) + rng.uniform(-0.15, 0.15) * w / len(row)
            px = int(round(size * rng.uniform(0.92, 1.08)))
            seats.append(Seat(person, int(x), int(y), px, rng.uniform(0, 2 * math.pi)))
        y += size * 1.25
    return seats


def face_box(image: np.ndarray, detector: Any) -> tuple[int, int, int, int] | None:
    """(x1, y1, x2, y2) of the main face in a source photo (padded pass: finds tight crops too)."""
    boxes = detector.detect_photo(image)
    if not boxes:
        return None
    b = max(boxes, key=lambda b: (b.confidence > 0.8, b.area))
    return b.x1, b.y1, b.x2, b.y2


def person_tile(image: np.ndarray, box: tuple[int, int, int, int], face_px: int) -> np.ndarray:
    """Head and shoulders around the face, scaled so the face is face_px wide; wall colour outside the photo."""
    x1, y1, x2, y2 = box
    fw, fh = x2 - x1, y2 - y1
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2 + 0.25 * fh
    rw, rh = 2.0 * fw, 2.4 * fh
    left, top = int(round(cx - rw / 2)), int(round(cy - rh / 2))
    right, bottom = left + int(round(rw)), top + int(round(rh))
    h, w = image.shape[:2]
    pad = max(0, -left, -top, right - w, bottom - h)
    bgr = image if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if pad:
        bgr = cv2.copyMakeBorder(bgr, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=WALL)
    region = bgr[top + pad:bottom + pad, left + pad:right + pad]
    scale = face_px / fw
    size = (max(2, int(round(region.shape[1] * scale))), max(2, int(round(region.shape[0] * scale))))
    return cv2.resize(region, size, interpolation=cv2.INTER_AREA)


def build(root: Path, detector: Any, kind: str = "faces94+orl", n_faces: int = 30, n_strangers: int = 6,
          n_absent: int = 2, seconds: float = 10.0, fps: float = 30.0, min_px: int = 40, max_px: int = 90,
          seed: int = 0, max_photos: int = 4) -> Classroom:
    """A classroom scenario (people, seats); render frames with frame() or write_video()."""
    people = cast(root, kind, n_faces, n_strangers, n_absent, seed)
    for person in people:
        person.show = person.show[:max_photos]
    room = Classroom(people, layout(people, min_px, max_px, seed), fps, seconds)
    for seat in room.seats:  # keep only photos whose face the detector places (like enrollment)
        boxes = {}
        for path in seat.person.show:
            image = cv2.imread(str(path))
            box = face_box(image, detector) if image is not None else None
            if box is not None:
                boxes[path] = box
                room._tiles[(path, seat.face_px)] = person_tile(image, box, seat.face_px)
        seat.person.show = [p for p in seat.person.show if p in boxes] or seat.person.show[:0]
    room.seats = [s for s in room.seats if s.person.show]
    return room


def enrollment_photo(person: Person, path: Path) -> np.ndarray:
    """The photo a teacher would upload: tight crops (ORL, johns) taken against the room's wall, others as they are."""
    image = cv2.imread(str(path))
    if person.dataset in ("orl", "johns"):
        h, w = image.shape[:2]
        image = cv2.copyMakeBorder(image, h // 2, h // 2, w // 2, w // 2, cv2.BORDER_CONSTANT, value=WALL)
    return image


def background(frame_size: tuple[int, int] = FRAME_SIZE) -> np.ndarray:
    """An empty classroom: a wall with a soft vertical gradient."""
    w, h = frame_size
    shade = np.linspace(1.05, 0.85, h, dtype=np.float32)[:, None, None]
    return np.clip(np.array(WALL, np.float32)[None, None, :] * shade * np.ones((1, w, 1), np.float32),
                   0, 255).astype(np.uint8)


def frame(room: Classroom, k: int, base: np.ndarray | None = None) -> np.ndarray:
    """Video frame k: every seated person at their spot (swaying slightly), back rows drawn first."""
    out = (background() if base is None else base).copy()
    t = k / room.fps
    H, W = out.shape[:2]
    for seat in sorted(room.seats, key=lambda s: s.cy):
        hold = HOLD_FRAMES.get(seat.person.dataset, 30)
        path = seat.person.show[(k // hold + int(seat.phase * 7)) % len(seat.person.show)]
        tile = room._tiles[(path, seat.face_px)]
        dx = int(round(3 * math.sin(2 * math.pi * 0.25 * t + seat.phase)))
        dy = int(round(2 * math.sin(2 * math.pi * 0.17 * t + 2 * seat.phase)))
        th, tw = tile.shape[:2]
        # The face sits at (0.5, 1.2/2.4 - 0.25/2.4) of the tile: see person_tile.
        x0 = seat.cx + dx - tw // 2
        y0 = seat.cy + dy - int(round(th * (0.5 - 0.25 / 2.4)))
        xa, ya, xb, yb = max(0, x0), max(0, y0), min(W, x0 + tw), min(H, y0 + th)
        if xb > xa and yb > ya:
            out[ya:yb, xa:xb] = tile[ya - y0:yb - y0, xa - x0:xb - x0]
        # A desk in front of each person hides the lower body, as in a real room.
        top = seat.cy + int(1.1 * seat.face_px)
        cv2.rectangle(out, (x0 - 4, top), (x0 + tw + 4, top + seat.face_px // 2), DESK, -1)
    return out


def write_video(room: Classroom, path: Path, progress: Callable[[int], None] | None = None) -> Path:
    """An MJPG .avi of the whole scenario at room.fps."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), room.fps, FRAME_SIZE)
    if not writer.isOpened():
        raise OSError(f"cannot write {path}")
    base = background()
    for k in range(int(round(room.seconds * room.fps))):
        writer.write(frame(room, k, base))
        if progress:
            progress(k)
    writer.release()
    return path
