"""Drawing the live view: boxes, names readable at any frame size, and a count of faces in view and decided."""
from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

from .tracker import KNOWN, UNKNOWN, Track

FONT = cv2.FONT_HERSHEY_SIMPLEX
# Letters about 20 px tall on a 720-line frame (0.55 fixed gave ~8 px at 720p, unreadable on a
# projector); the size follows the frame height so a 1080p stream reads the same.
TEXT_PX_AT_720 = 20
GREEN, RED, AMBER, GREY = (0, 170, 0), (0, 0, 220), (0, 200, 230), (170, 170, 170)


def text_scale(frame_height: int) -> float:
    """cv2 font scale giving TEXT_PX_AT_720 px letters per 720 frame lines (at least a small readable size)."""
    (_, h), _ = cv2.getTextSize("Ag", FONT, 1.0, 2)
    return max(0.45, TEXT_PX_AT_720 * frame_height / 720.0 / h)


def put_outlined(img: np.ndarray, text: str, org: tuple[int, int], scale: float, colour: tuple[int, int, int]) -> None:
    """Text with a dark outline, readable on any background."""
    thick = max(1, int(round(scale * 2)))
    cv2.putText(img, text, org, FONT, scale, (0, 0, 0), thick + 3, cv2.LINE_AA)
    cv2.putText(img, text, org, FONT, scale, colour, thick, cv2.LINE_AA)


def label(track: Track, names: dict[int, str], too_small: bool) -> tuple[tuple[int, int, int], str]:
    """Colour and text for one track."""
    if track.state == KNOWN:
        return GREEN, names.get(track.label, str(track.label))
    if track.state == UNKNOWN:
        return RED, "unknown"
    if too_small:
        return GREY, "too small"
    return AMBER, "..."


def draw_tracks(frame: np.ndarray, tracks: list[Track], names: dict[int, str],
                too_small: Callable[[Track], bool] = lambda tr: False) -> np.ndarray:
    """A copy of the frame (H, W, 3) with every track's box and label and a header line of counts."""
    out = frame.copy()
    h = out.shape[0]
    scale = text_scale(h)
    line = max(2, int(round(2 * h / 720)))
    small = 0
    for track in tracks:
        tiny = track.state not in (KNOWN, UNKNOWN) and too_small(track)
        small += tiny
        colour, text = label(track, names, tiny)
        b = track.box
        cv2.rectangle(out, (b.x1, b.y1), (b.x2, b.y2), colour, line)
        (_, th), _ = cv2.getTextSize(text, FONT, scale, 2)
        y = b.y1 - 6 if b.y1 - 6 - th >= 0 else b.y2 + th + 6
        put_outlined(out, text, (b.x1, y), scale, colour)
    decided = sum(1 for tr in tracks if tr.state in (KNOWN, UNKNOWN))
    header = f"{len(tracks)} faces in view, {decided} decided" + (f", {small} too small to judge" if small else "")
    (tw, th), _ = cv2.getTextSize(header, FONT, scale, 2)
    cv2.rectangle(out, (0, 0), (tw + 16, th + 16), (0, 0, 0), -1)
    put_outlined(out, header, (8, th + 8), scale, (255, 255, 255))
    return out
