"""Issue 13: what each step of the pixel path (alignment, lighting, descriptors) gives, one row per variant.

Every row goes through the same code as `flask evaluate` (app.vision.evaluation.evaluate with the
Recognizer, same splits and seeds); only the chip -> vector step differs. Run from the repo root:
    .venv/bin/python bench/bench_pixel_steps.py [--seeds 10] [--datasets orl lfw10 faces94 johns orl-relit]
The product's own path is the row marked "chosen"; `flask evaluate` on each dataset reproduces it.
"""
from __future__ import annotations

import argparse
import json
import logging
import time

import cv2
import numpy as np
from threadpoolctl import threadpool_limits

from common import DATASETS, OUT, detected_folder, machine_line, replace_section

from app.vision.alignment import shared_aligner, similarity_to, template_points  # noqa: E402
from app.vision.descriptors import hog, lbp_grid  # noqa: E402
from app.vision.evaluation import evaluate  # noqa: E402
from app.vision.features import BOX_CROP_SCALE  # noqa: E402
from app.vision.lighting import tan_triggs, tan_triggs_uint8  # noqa: E402
from app.vision.models_under_test import rollcall_fit_score  # noqa: E402
from app.vision.preprocess import FACE_SIZE, chip_to_crop, crop_to_vector  # noqa: E402

log = logging.getLogger("bench_pixel_steps")
TRAIN_PER_CLASS = {"lfw10": 10}  # others: 5, as flask evaluate's default

# (label, crop, lighting, descriptor). crop: "box:S" = S x the detector box, "align:D" = eyes D of the
# side apart; lighting: v1 = equalise + blur 2 + ellipse mask (the old pixel vector), eq = equalise,
# tt = Tan-Triggs; descriptor: pixels, lbpR[s] (8x8 grid, radius R, s = square root), hog[s], chosen.
VARIANTS = [
    ("old path (pixels/1): 1.4x box, equalise+blur+mask, pixels", "box:1.4", "v1", "pixels"),
    ("+ eye alignment (eyes 0.40 of the side apart)", "align:0.40", "v1", "pixels"),
    ("aligned, Tan-Triggs instead of equalise+blur (masked pixels)", "align:0.40", "tt", "pixels"),
    ("aligned 0.45, LBP r1 histograms", "align:0.45", "none", "lbp1"),
    ("aligned 0.45, LBP r1, square root (Hellinger)", "align:0.45", "none", "lbp1s"),
    ("aligned 0.45, LBP r2, square root", "align:0.45", "none", "lbp2s"),
    ("aligned 0.45, HOG 8px cells, square root", "align:0.45", "none", "hogs"),
    ("aligned 0.45, LBP r2 + HOG, square root (landmarks on the chip as it is)", "align:0.45", "none", "chosen"),
    ("LBP r2 + HOG + Tan-Triggs first (landmarks on the chip as it is)", "align:0.45", "tt", "chosen"),
    ("chosen (pixels/2-aligned): LBP r2 + HOG, square root; landmarks found on an equalised chip", "aligneq:0.45", "none", "chosen"),
    ("chosen + Tan-Triggs first (landmarks on an equalised chip)", "aligneq:0.45", "tt", "chosen"),
    ("LBP r2 + HOG + equalise first (landmarks on the chip as it is)", "align:0.45", "eq", "chosen"),
    ("LBP r2 + HOG + old pixel vector concatenated (landmarks on the chip as it is)", "align:0.45", "v1", "chosen+pixels"),
    (f"fallback without dlib (pixels/2-box): {BOX_CROP_SCALE}x box, LBP r2 + HOG", f"box:{BOX_CROP_SCALE}", "none", "chosen"),
    ("box 1.4x, LBP r2 + HOG", "box:1.4", "none", "chosen"),
]
# The saturated or small sets get the rows that decide the product; lfw10 and ORL get every row.
KEY_ROWS = ("old path", "+ eye alignment", "aligned 0.45, LBP r2 + HOG", "chosen", "LBP r2 + HOG + Tan-Triggs", "fallback")
RELIT_VARIANTS = [v for v in VARIANTS if v[0].startswith(("old path", "+ eye alignment", "chosen", "LBP r2 + HOG +",
                                                          "aligned 0.45, LBP r2 + HOG"))]


def variants_for(name: str) -> list[tuple]:
    if "-" in name:
        return RELIT_VARIANTS
    return VARIANTS if name in ("lfw10", "orl") else [v for v in VARIANTS if v[0].startswith(KEY_ROWS)]


def relight(chip: np.ndarray, rng: np.random.Generator, harsh: bool = False) -> np.ndarray:
    """A chip under synthetic light: a directional ramp (far side at 15-50%) and a gamma of 0.5-2.

    harsh (Yale-like side light): the far side at 2-15%, gamma 0.33-3, and a soft-edged shadow
    darkening one half of the face to 20-40%.
    """
    h, w = chip.shape[:2]
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    ramp = (np.cos(angle) * xx + np.sin(angle) * yy)
    ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
    floor = rng.uniform(0.02, 0.15) if harsh else rng.uniform(0.15, 0.5)
    light = floor + (1 - floor) * ramp
    if harsh:
        side = 1.0 / (1.0 + np.exp(-(xx - 0.5) * 40 * rng.choice([-1, 1])))  # 0 on one half, 1 on the other
        light = light * (rng.uniform(0.2, 0.4) + (1 - rng.uniform(0.2, 0.4)) * side)
    lit = chip.astype(np.float32) / 255.0 * light[:, :, None]
    gamma = np.exp(rng.uniform(np.log(1 / 3), np.log(3))) if harsh else rng.uniform(0.5, 2.0)
    return np.clip(255.0 * lit ** gamma, 0, 255).astype(np.uint8)


def load(name: str) -> tuple[list[np.ndarray], list[str]]:
    """Grey chips and identities; 'orl-relit' / 'orl-harsh' is ORL with every chip relit (fixed seed)."""
    base, _, light = name.partition("-")
    folder = detected_folder(DATASETS / base)
    chips = list(folder.chips)
    if light:
        rng = np.random.default_rng(13)
        chips = [relight(c, rng, harsh=light == "harsh") for c in chips]
    return [cv2.cvtColor(c, cv2.COLOR_BGR2GRAY) for c in chips], folder.identities


def crop_of(grey_chip: np.ndarray, how: str) -> np.ndarray:
    kind, value = how.split(":")
    if kind == "box":
        return chip_to_crop(grey_chip, float(value))
    aligner = shared_aligner()
    # align: landmarks searched on the chip as it is; aligneq: on an equalised copy (the product's way).
    found = aligner.landmarks(grey_chip, equalise=kind == "aligneq")
    matrix = similarity_to(found, template_points(FACE_SIZE, float(value)))
    return cv2.warpAffine(grey_chip, matrix, (FACE_SIZE, FACE_SIZE), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


_yy, _xx = np.mgrid[0:FACE_SIZE, 0:FACE_SIZE] - (FACE_SIZE - 1) / 2.0
MASK = (_xx / (0.4 * FACE_SIZE)) ** 2 + (_yy / (0.5 * FACE_SIZE)) ** 2 <= 1.0  # the old pixels/1 ellipse


def masked(img: np.ndarray) -> np.ndarray:
    """Zero mean inside the ellipse, zero outside, unit norm (how pixels/1 finished its vector)."""
    v = img.astype(np.float32).copy()
    v[MASK] -= v[MASK].mean()
    v[~MASK] = 0
    return _unit(v.ravel())


def old_pixels(crop: np.ndarray) -> np.ndarray:
    """The pixels/1 vector: equalised, blurred (sigma 2), elliptical mask."""
    return masked(cv2.GaussianBlur(cv2.equalizeHist(crop), (0, 0), 2.0))


def vector(crop: np.ndarray, light: str, desc: str) -> np.ndarray:
    if desc == "pixels":
        if light == "v1":
            return old_pixels(crop)
        return masked(tan_triggs(crop))
    img = {"none": crop, "eq": cv2.equalizeHist(crop), "tt": tan_triggs_uint8(crop), "v1": crop}[light]
    if desc.startswith("chosen"):
        parts = [crop_to_vector(img)] + ([old_pixels(crop)] if desc.endswith("+pixels") else [])
        return np.concatenate(parts)
    if desc.startswith("lbp"):
        h = lbp_grid(img, 8, int(desc[3]))
    else:
        h = hog(img, 8)
    return _unit(np.sqrt(h) if desc.endswith("s") else h)


def run(name: str, variants: list[tuple], seeds: int) -> list[dict]:
    greys, ids = load(name)
    tpc = TRAIN_PER_CLASS.get(name.partition("-")[0], 5)
    crops: dict[str, list[np.ndarray]] = {}
    rows = []
    for label, how, light, desc in variants:
        if how not in crops:
            crops[how] = [crop_of(g, how) for g in greys]
        X = np.stack([vector(c, light, desc) for c in crops[how]]).astype(np.float32)
        row = {"dataset": name, "variant": label, "dim": int(X.shape[1])}
        for protocol in ("closed", "open"):
            # calibrate=False: DIR is measured at thresholds set on the test scores, so the
            # recognizer's own calibration (5 extra fits) would change nothing here.
            res = evaluate(rollcall_fit_score(0.01, calibrate=False), X, ids, protocol=protocol,
                           train_per_class=tpc, seeds=seeds)
            row[protocol] = {k: res[k] for k in ("closed_accuracy_mean", "closed_accuracy_std", "open_dir_at_far1",
                                                 "open_dir_at_far1_std", "open_dir_at_far5")}
        log.info("%s | %s: closed %.1f%%, DIR@1%% %.1f%%", name, label, 100 * row["closed"]["closed_accuracy_mean"],
                 100 * row["open"]["open_dir_at_far1"])
        rows.append(row)
    return rows


def timing(n: int = 100) -> str:
    """Per-face cost of the old pixel vector, the landmarks, and the whole new path (best of 3, one thread)."""
    from app.vision.features import PixelFeatures

    chips = list(detected_folder(DATASETS / "lfw10").chips[:n])
    greys = [cv2.cvtColor(c, cv2.COLOR_BGR2GRAY) for c in chips]
    extractor, aligner = PixelFeatures(), shared_aligner()

    def best(fn) -> float:
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1000 / n)
        return min(times)

    old = best(lambda: [old_pixels(chip_to_crop(g, 1.4)) for g in greys])
    marks = best(lambda: [aligner.landmarks(g) for g in greys])
    new = best(lambda: [extractor.from_chips(chips[i:i + 5]) for i in range(0, n, 5)])
    return (f"per face: old pixels/1 vector {old:.2f} ms; landmarks {marks:.2f} ms; whole {extractor.pipeline} "
            f"path {new:.2f} ms (batches of 5). {machine_line()}")


def render(runs: dict[str, dict], seeds: int) -> str:
    names = list(runs)
    labels = list(dict.fromkeys(r["variant"] for run in runs.values() for r in run["rows"]))
    head = "| step | " + " | ".join(f"{n} closed | {n} DIR@1%" for n in names) + " |"
    lines = [head, "|---|" + "---|---|" * len(names)]
    for label in labels:
        cells = []
        for n in names:
            row = next((r for r in runs[n]["rows"] if r["variant"] == label), None)
            if row is None:
                cells += ["", ""]
                continue
            cells += [f"{100 * row['closed']['closed_accuracy_mean']:.1f}", f"{100 * row['open']['open_dir_at_far1']:.1f}"]
        bold = "**" if label.startswith("chosen (") else ""
        lines.append(f"| {bold}{label}{bold} | " + " | ".join(cells) + " |")
    machines = "\n".join(f"- {n}: {runs[n]['machine']}" for n in names)
    return (f"Command: `.venv/bin/python bench/bench_pixel_steps.py --seeds {seeds}` (datasets as separate runs "
            f"are fine: one JSON each in bench/out/). Measured (accuracy does not depend on load):\n\n{machines}\n\n"
            "Same protocol and splits as `flask evaluate` (closed set; open set with 25% of identities never "
            "enrolled; lfw10 10 photos to enroll, the others 5), 10 seeds, percentages are means. "
            "orl-relit / orl-harsh = ORL with every chip under a random directional light ramp and gamma, "
            "harsh adding a dark half-face shadow (see `relight`).\n\n"
            + "\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--datasets", nargs="+", default=["lfw10", "orl", "faces94", "johns", "orl-relit", "orl-harsh"])
    parser.add_argument("--render-only", action="store_true")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--timing", action="store_true", help="only print the per-face cost")
    parser.add_argument("--only", help="measure only the variants whose label starts with this; merged into the JSON")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    OUT.mkdir(exist_ok=True)
    cv2.setNumThreads(1)
    if args.timing:
        print(timing())
        return
    if not args.render_only:
        for name in args.datasets:
            t0 = time.perf_counter()
            chosen = [v for v in variants_for(name) if not args.only or v[0].startswith(args.only)]
            with threadpool_limits(limits=1):
                rows = run(name, chosen, args.seeds)
            old_file = OUT / f"pixel_steps_{name}.json"
            if args.only and old_file.is_file():  # keep the other rows, in the table's order
                new = {r["variant"]: r for r in rows}
                kept = {r["variant"]: r for r in json.loads(old_file.read_text())["rows"]}
                rows = [new.get(v[0]) or kept[v[0]] for v in variants_for(name) if v[0] in new or v[0] in kept]
            machine = machine_line() + f" (at the end); {time.perf_counter() - t0:.0f} s"
            if args.only and old_file.is_file():
                machine = json.loads(old_file.read_text())["machine"] + f"; rows '{args.only}...' added {machine}"
            (OUT / f"pixel_steps_{name}.json").write_text(json.dumps({"machine": machine, "rows": rows}, indent=1))
    runs = {n: json.loads((OUT / f"pixel_steps_{n}.json").read_text()) for n in args.datasets}
    text = render(runs, args.seeds)
    if not args.no_write:
        replace_section("bench_pixel_steps", "Issue 13: classic path on real-world faces (step by step)", text)
    print(text)


if __name__ == "__main__":
    main()
