"""Pixel (and dlib) recognition by face width: held-out photos shown as 50-90 px faces on a classroom wall.

Enrollment as the classroom scenario does it (faces94: first 8 frames, ORL: first 5 poses, a tight ORL crop on
the wall colour), a Recognizer trained on those chips, then each held-out photo scaled so its face is W px wide,
placed on a wall, found by the live detector and recognised. `--augment 48,60` also trains on every enrollment
chip degraded to those face widths and back (the small-face blur the camera will show).

    .venv/bin/python bench/bench_small_faces.py [--datasets faces94,orl] [--sizes 50,60,70,80,90] [--augment 48,60]
"""
from __future__ import annotations

import argparse
import random

import cv2
import numpy as np
from common import DATASETS, machine_line, new_detector  # puts the repo on sys.path

from classroom import WALL, Person, _ordered, enrollment_photo, face_box, person_tile  # noqa: E402

ENROLL = {"faces94": 8, "orl": 5}
_BOXES: dict = {}
SHOW = 4


def people(dataset: str, n_strangers: int, seed: int = 0) -> tuple[list[Person], list[Person]]:
    """(enrolled, strangers) of a dataset: the last n_strangers identities (shuffled) are never enrolled."""
    names = sorted(p.name for p in (DATASETS / dataset).iterdir() if p.is_dir() and p.name != "unknown_id11")
    random.Random(seed).shuffle(names)
    out = []
    for name in names:
        files = _ordered(DATASETS / dataset / name)
        k = ENROLL[dataset]
        out.append(Person(name, dataset, files[:k], files[k:k + SHOW], True))
    return out[:-n_strangers], out[-n_strangers:]


def chips_of(detector, person: Person, paths) -> list[np.ndarray]:
    """Enrollment chips as the app makes them: the photo a teacher uploads, the main face, a 192 px chip."""
    from app.vision.preprocess import face_chip

    chips = []
    for path in paths:
        image = enrollment_photo(person, path)
        boxes = detector.detect_photo(image)
        if boxes:
            chips.append(face_chip(image, max(boxes, key=lambda b: (b.confidence > 0.8, b.area))))
    return chips


def shown(detector, person: Person, path, width: int) -> np.ndarray | None:
    """The chip the live loop would take of this photo shown with a face `width` px wide on the wall."""
    from app.vision.preprocess import face_chip

    image = cv2.imread(str(path))
    if path not in _BOXES:  # the same photo is shown at every size
        _BOXES[path] = face_box(image, detector) if image is not None else None
    box = _BOXES[path]
    if box is None:
        return None
    tile = person_tile(image, box, width)
    th, tw = tile.shape[:2]
    canvas = np.full((max(300, 3 * th), max(400, 3 * tw), 3), WALL, np.uint8)
    y0, x0 = (canvas.shape[0] - th) // 2, (canvas.shape[1] - tw) // 2
    canvas[y0:y0 + th, x0:x0 + tw] = tile
    found = detector.detect(canvas)
    if not found:
        return None
    cx, cy = canvas.shape[1] / 2, y0 + th * (0.5 - 0.25 / 2.4)
    best = min(found, key=lambda b: abs((b.x1 + b.x2) / 2 - cx) + abs((b.y1 + b.y2) / 2 - cy))
    return face_chip(canvas, best)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="faces94,orl")
    parser.add_argument("--features", default="pixels")
    parser.add_argument("--sizes", default="50,60,70,80,90")
    parser.add_argument("--augment", default="", help="face widths (px) to degrade enrollment chips to, comma separated")
    parser.add_argument("--strangers", type=int, default=4)
    args = parser.parse_args()
    from app.vision.features import degrade_to_face_width, get_extractor
    from app.vision.recognizer import Recognizer

    sizes = [int(s) for s in args.sizes.split(",")]
    augment = [int(s) for s in args.augment.split(",") if s]
    detector = new_detector()
    extractor = get_extractor(args.features)
    print(f"Machine: {machine_line()}")
    print(f"\n| dataset | features | training | " + " | ".join(f"{w} px: right / wrong / stranger accepted" for w in sizes) + " |")
    print("|---|---|---|" + "---|" * len(sizes))
    for dataset in args.datasets.split(","):
        enrolled, strangers = people(dataset, args.strangers)
        enroll = [(label, chip) for label, person in enumerate(enrolled)
                  for chip in chips_of(detector, person, person.enroll)]
        # The live chips once per size: (person index or None for a stranger, chip).
        tests = {w: [(i if person in enrolled else None, c)
                     for i, person in enumerate(enrolled + strangers)
                     for c in (shown(detector, person, p, w) for p in person.show) if c is not None] for w in sizes}
        for widths in ([], augment) if augment else ([],):
            X = [chip for _, chip in enroll] + [degrade_to_face_width(chip, w) for _, chip in enroll for w in widths]
            y = [label for label, _ in enroll] + [label for label, _ in enroll for _ in widths]
            rec = Recognizer(target_far=0.01, feature_pipeline=extractor.pipeline).fit(extractor.from_chips(X), y)
            cells = []
            for width in sizes:
                got = [p.label for p in rec.predict(extractor.from_chips([c for _, c in tests[width]]))]
                truth = [i for i, _ in tests[width]]
                known = [(t, g) for t, g in zip(truth, got) if t is not None]
                unknown = [g for t, g in zip(truth, got) if t is None]
                right = sum(t == g for t, g in known)
                wrong = sum(g is not None and g != t for t, g in known)
                cells.append(f"{right}/{len(known)} / {wrong} / {sum(g is not None for g in unknown)}/{len(unknown)}")
            training = f"+ degraded to {','.join(map(str, widths))} px" if widths else "enrollment chips"
            print(f"| {dataset} | {args.features} | {training} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
