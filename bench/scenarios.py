"""Scenario videos from any `<identity>/<images>` folder, with the truth of who is where on every frame.

A Cast splits the folder's people into enrolled students and strangers, and each person's images into
enrollment photos and *different* held-out photos shown to the camera. Scenarios (doorway, walk-in,
return) place the held-out photos on a 640x480 frame along a path; `Scenario.who(frame, box)` says
which person a detected box belongs to. Used by bench/bench_scenarios.py and tests/test_scenarios.py.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import cv2
import numpy as np

FRAME_W, FRAME_H = 640, 480
FPS = 30.0
# Black around the pasted photo, the colour face_chip pads with when an enrollment photo's crop leaves
# the photo: a grey wall there cost pixel features most of asamma/astefa/anpage's faces94 frames
# (a background mismatch the scenario would add, not the doorway), while dlib did not mind.
BACKGROUND = 0
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".pgm", ".bmp"}

Path2 = Callable[[float], tuple[float, float, float]]  # progress 0..1 -> (centre x, centre y, scale)


@dataclass
class Cast:
    """Who is enrolled (with which photos) and who is a stranger; every shown photo is held out."""

    root: Path
    enrolled: list[str]
    strangers: list[str]
    enroll_images: dict[str, list[Path]]
    shown_images: dict[str, list[Path]]

    def image(self, identity: str, k: int = 0) -> np.ndarray:
        """The k-th held-out photo of a person (cycled), as BGR."""
        paths = self.shown_images[identity]
        return cv2.imread(str(paths[k % len(paths)]), cv2.IMREAD_COLOR)


def make_cast(root: Path, n_enrolled: int, n_strangers: int, n_enroll: int) -> Cast:
    """The first n_enrolled people (sorted) enrolled with their first n_enroll photos, the next strangers."""
    people = []
    for folder in sorted(p for p in Path(root).iterdir() if p.is_dir()):
        images = sorted((p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES), key=_natural)
        if len(images) > n_enroll:
            people.append((folder.name, images))
    if len(people) < n_enrolled + n_strangers:
        raise ValueError(f"{root} has {len(people)} people with more than {n_enroll} images")
    chosen = people[:n_enrolled + n_strangers]
    return Cast(root=Path(root), enrolled=[p for p, _ in chosen[:n_enrolled]],
                strangers=[p for p, _ in chosen[n_enrolled:]],
                enroll_images={p: imgs[:n_enroll] for p, imgs in chosen[:n_enrolled]},
                # Strangers are never enrolled; all their photos may be shown.
                shown_images={p: (imgs[n_enroll:] if i < n_enrolled else imgs) for i, (p, imgs) in enumerate(chosen)})


def _natural(path: Path) -> tuple:
    digits = "".join(ch if ch.isdigit() else " " for ch in path.stem).split()
    return (int(digits[-1]) if digits else 0, path.name)


@dataclass
class Appearance:
    """One person on screen from frame `start` to `end` (exclusive), moving along `path`."""

    identity: str
    image: np.ndarray
    start: int
    end: int
    path: Path2
    scale: float = 1.0  # of the photo's own size (lfw10 250 px, faces94 180 px, orl 92 px wide)
    judgeable: bool = True  # False: a small blurry bystander, no evidence either way
    blur: float = 0.0

    def rect(self, frame: int) -> tuple[int, int, int, int]:
        """(x1, y1, x2, y2) of the pasted image on a frame (may lie partly outside it)."""
        p = (frame - self.start) / max(1, self.end - self.start - 1)
        cx, cy, scale = self.path(p)
        w = max(8, int(round(self.image.shape[1] * self.scale * scale)))
        h = int(round(self.image.shape[0] * w / self.image.shape[1]))
        x1, y1 = int(round(cx - w / 2)), int(round(cy - h / 2))
        return x1, y1, x1 + w, y1 + h


@dataclass
class Scenario:
    """A named video and its truth: who is enrolled, who is a stranger, who is on which frame where."""

    name: str
    appearances: list[Appearance]
    n_frames: int
    enrolled: set[str]
    strangers: set[str] = field(default_factory=set)

    def frames(self) -> Iterator[np.ndarray]:
        """Each frame (FRAME_H, FRAME_W, 3) BGR: the wall, then every active appearance in list order."""
        for f in range(self.n_frames):
            canvas = np.full((FRAME_H, FRAME_W, 3), BACKGROUND, np.uint8)
            for a in self.appearances:
                if a.start <= f < a.end:
                    _paste(canvas, a, f)
            yield canvas

    def write(self, path: Path) -> Path:
        """An MJPG .avi at FPS (readable by every OpenCV build)."""
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (FRAME_W, FRAME_H))
        if not writer.isOpened():
            raise OSError(f"cannot write {path}")
        for frame in self.frames():
            writer.write(frame)
        writer.release()
        return path

    def who(self, t: float, box: tuple[int, int, int, int] | None) -> Appearance | None:
        """The appearance a detected box (x1, y1, x2, y2) at source time t lies in (None: nobody)."""
        if box is None:
            return None
        f = int(round(t * FPS))
        best, best_inside = None, 0.5
        area = max(1, (box[2] - box[0]) * (box[3] - box[1]))
        for a in self.appearances:
            if a.start <= f < a.end:
                x1, y1, x2, y2 = a.rect(f)
                inter = max(0, min(x2, box[2]) - max(x1, box[0])) * max(0, min(y2, box[3]) - max(y1, box[1]))
                # Later appearances are pasted on top: on a tie the upper one is what the camera saw.
                if inter / area >= best_inside:
                    best, best_inside = a, inter / area
        return best

    def first_frame(self, identity: str) -> int:
        """The first frame a person is on screen."""
        return min(a.start for a in self.appearances if a.identity == identity)

    @property
    def shown_enrolled(self) -> set[str]:
        return {a.identity for a in self.appearances if a.identity in self.enrolled}

    @property
    def shown_strangers(self) -> set[str]:
        """Strangers shown with a judgeable face at least once (they must be reported)."""
        return {a.identity for a in self.appearances if a.identity in self.strangers and a.judgeable}


def _paste(canvas: np.ndarray, a: Appearance, frame: int) -> None:
    x1, y1, x2, y2 = a.rect(frame)
    image = cv2.resize(a.image, (x2 - x1, y2 - y1), interpolation=cv2.INTER_AREA)
    if a.blur:
        image = cv2.GaussianBlur(image, (0, 0), a.blur)
    cx1, cy1, cx2, cy2 = max(0, x1), max(0, y1), min(FRAME_W, x2), min(FRAME_H, y2)
    if cx1 < cx2 and cy1 < cy2:
        canvas[cy1:cy2, cx1:cx2] = image[cy1 - y1:cy2 - y1, cx1 - x1:cx2 - x1]


def sway(cx: float, cy: float, amount: float = 5.0) -> Path2:
    """Standing at (cx, cy), moving a few pixels and leaning in and out a little (3%)."""
    return lambda p: (cx + amount * math.sin(7 * p), cy + 0.6 * amount * math.sin(5 * p + 1), 1 + 0.03 * math.sin(3 * p))


def line(x0: float, x1: float, cy: float) -> Path2:
    """Walking across from x0 to x1 at height cy."""
    return lambda p: (x0 + (x1 - x0) * p, cy, 1.0)


def _seconds(s: float) -> int:
    return int(round(s * FPS))


def doorway(cast: Cast, gap: float, show: float = 1.0, bystander: bool = True) -> Scenario:
    """People one after another at the same spot, `gap` seconds of empty doorway between them.

    Strangers come after every second student (a stranger following a student into the spot);
    a bystander's small blurry face sits at the edge the whole time.
    """
    order: list[str] = []
    strangers = iter(cast.strangers[:-1] if bystander and len(cast.strangers) > 1 else cast.strangers)
    for i, person in enumerate(cast.enrolled):
        order.append(person)
        if i % 2 == 1:
            order.extend(s for s in [next(strangers, None)] if s)
    order.extend(strangers)
    apps, f = [], _seconds(0.3)
    for k, person in enumerate(order):
        apps.append(Appearance(person, cast.image(person, k), f, f + _seconds(show), sway(320, 230)))
        f += _seconds(show) + _seconds(gap)
    n = f + _seconds(0.5)
    if bystander and len(cast.strangers) > 1:
        apps.insert(0, bystander_at_edge(cast.strangers[-1], cast.image(cast.strangers[-1]), n))
    return Scenario(f"doorway gap {gap:g} s", apps, n, set(cast.enrolled), set(cast.strangers))


def bystander_at_edge(identity: str, image: np.ndarray, n_frames: int) -> Appearance:
    """A small (face box 33-48 px), slightly blurred face near the frame's bottom-right edge, the whole time.

    The default 300x300 blob finds the faces94 one (box 46-48 px, at the gate's size limit) but not the
    lfw10 one, which CAMERA_DETECTOR_TILES=2 finds (box 33-43 px); the judgeable-face gate must then
    keep it from deciding anything.
    """
    return Appearance(identity, image, 0, n_frames, sway(FRAME_W - 80, 355, 1.0), 0.36, judgeable=False, blur=1.2)


def walk_in(cast: Cast) -> Scenario:
    """Entering from the side and stopping; two people crossing; two faces at once (student and stranger)."""
    e, s = cast.enrolled, cast.strangers
    w = cast.image(e[0]).shape[1]
    apps = []
    f = _seconds(0.3)
    enter = lambda p: (-w / 2 + (w / 2 + 300) * min(1.0, p * 2.5), 230, 1.0)  # noqa: E731  in, then stand
    apps.append(Appearance(e[0], cast.image(e[0]), f, f + _seconds(1.6), enter))
    f += _seconds(2.0)
    # Crossing: the second walker passes in front of the first (pasted later, on top).
    apps.append(Appearance(e[1], cast.image(e[1]), f, f + _seconds(2.0), line(130, 510, 220)))
    apps.append(Appearance(e[2], cast.image(e[2]), f, f + _seconds(2.0), line(510, 130, 250)))
    f += _seconds(2.4)
    apps.append(Appearance(e[3], cast.image(e[3]), f, f + _seconds(1.5), sway(170, 230)))
    apps.append(Appearance(s[0], cast.image(s[0]), f, f + _seconds(1.5), sway(470, 230)))
    f += _seconds(1.5)
    return Scenario("walk-in", apps, f + _seconds(0.5), set(cast.enrolled), set(cast.strangers))


def returning(cast: Cast, show: float = 1.0) -> Scenario:
    """A student leaves and comes back, and so does a stranger: one mark, one alert."""
    e, s = cast.enrolled, cast.strangers
    # The student comes back in another photo (re-recognised); the stranger the same day, same look.
    plan = [(e[0], 0), (e[1], 0), (e[0], 1), (s[0], 0), (s[0], 0)]
    apps, f = [], _seconds(0.3)
    for person, k in plan:
        apps.append(Appearance(person, cast.image(person, k), f, f + _seconds(show), sway(320, 230)))
        f += _seconds(show) + _seconds(1.0)
    return Scenario("return", apps, f, set(cast.enrolled), set(cast.strangers))
