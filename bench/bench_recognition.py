"""Rollcall's recognizer against cv2.face and sklearn baselines, side by side, with the evaluate protocol.

Run from the repo root with the bench venv (cv2.face needs opencv-contrib):
    bench/.venv-bench/bin/python bench/bench_recognition.py [--seeds 10] [--datasets orl lfw10] [--no-write]
"""
from __future__ import annotations

import argparse
import json
import os
import logging
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from common import DATASETS, OUT, detected_folder, machine_line, pct, replace_section

import cv2  # noqa: E402  (after common: common puts the repo on sys.path)
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.svm import SVC  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from app.vision.dataset_io import list_identity_images, load_face_folder  # noqa: E402
from app.vision.evaluation import evaluate  # noqa: E402
from app.vision.features import get_extractor  # noqa: E402
from app.vision.models_under_test import rollcall_fit_score  # noqa: E402
from app.vision.preprocess import CHIP_SCALE, CROP_SCALE, FACE_SIZE, chip_to_crop  # noqa: E402

log = logging.getLogger("bench_recognition")

# Per dataset: images per identity used to train (closed and open) and the share of never-enrolled people.
PROTOCOLS = {"orl": dict(train_per_class=5, unknown_fraction=0.25),
             "lfw10": dict(train_per_class=10, unknown_fraction=0.25),
             "faces94": dict(train_per_class=5, unknown_fraction=0.25)}


# ----- baselines as evaluate() FitScore callables (X rows are flattened 128x128 uint8 crops) -------------
def cv2_face(create: Callable) -> Callable:
    """A cv2.face recognizer; score = minus its distance (higher = more sure), one predict per face."""

    def fit_score(X: np.ndarray, y: np.ndarray) -> Callable:
        rec = create()
        rec.train([r.reshape(FACE_SIZE, FACE_SIZE) for r in X], np.asarray(y, np.int32))

        def predict(P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            out = [rec.predict(r.reshape(FACE_SIZE, FACE_SIZE)) for r in P]
            return np.array([o[0] for o in out]), -np.array([o[1] for o in out], float)

        return predict

    return fit_score


def pca_svc(score: str, n_components: int = 80) -> Callable:
    """Plain sklearn PCA(80) + linear SVC; score = max decision_function or max predict_proba."""

    def fit_score(X: np.ndarray, y: np.ndarray) -> Callable:
        k = min(n_components, len(X) - 1)
        svc = SVC(kernel="linear", probability=score == "proba", random_state=0)
        with warnings.catch_warnings():  # probability=True is deprecated in sklearn 1.9; measured anyway
            warnings.simplefilter("ignore")
            model = make_pipeline(PCA(k, random_state=0), svc).fit(X.astype(np.float32) / 255, y)

        def predict(P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            Pf = P.astype(np.float32) / 255
            if score == "proba":
                proba = model.predict_proba(Pf)
                return model.classes_[proba.argmax(1)], proba.max(1)
            return model.predict(Pf), model.decision_function(Pf).max(1)

        return predict

    return fit_score


BASELINES: dict[str, Callable] = {
    "cv2 EigenFaces": cv2_face(lambda: cv2.face.EigenFaceRecognizer_create()),
    "cv2 FisherFaces": cv2_face(lambda: cv2.face.FisherFaceRecognizer_create()),
    "cv2 LBPH": cv2_face(lambda: cv2.face.LBPHFaceRecognizer_create()),
    "PCA(80)+SVC decision": pca_svc("decision"),
    "PCA(80)+SVC proba": pca_svc("proba"),
}


# ----- inputs -------------------------------------------------------------------------------------------
@dataclass
class Feed:
    """One way of turning a dataset into rows for evaluate()."""

    name: str
    rows: np.ndarray
    identities: list[str]
    no_face: int = 0


def raw_feed(root: Path) -> Feed:
    """Whole images, grey, resized to 128x128, no detector (how FACTS.md's baselines were likely fed)."""
    rows, ids = [], []
    for identity, paths in list_identity_images(root).items():
        for p in paths:
            img = cv2.imread(str(p), cv2.IMREAD_GRAYSCALE)
            if img is not None:
                rows.append(cv2.resize(img, (FACE_SIZE, FACE_SIZE), interpolation=cv2.INTER_AREA).ravel())
                ids.append(identity)
    return Feed("raw image 128x128", np.stack(rows), ids)


def tight_crop(chip: np.ndarray, scale: float = 1.1) -> np.ndarray:
    """128x128 grey crop of `scale` x the detector box (the app's crop before the mask; LBPH prefers it)."""
    grey = cv2.cvtColor(chip, cv2.COLOR_BGR2GRAY)
    side = int(round(grey.shape[0] * scale / CHIP_SCALE))
    lo = (grey.shape[0] - side) // 2
    return cv2.resize(grey[lo:lo + side, lo:lo + side], (FACE_SIZE, FACE_SIZE), interpolation=cv2.INTER_AREA)


def summarise(res: dict) -> dict:
    keep = ("closed_accuracy_mean", "closed_accuracy_std", "open_dir_at_far1", "open_dir_at_far1_std",
            "open_dir_at_far5", "open_dir_at_far5_std", "calibrated_far_mean", "calibrated_dir_mean",
            "train_seconds_median", "predict_ms_per_face_median", "n_identities", "n_images")
    return {k: res[k] for k in keep}


def run_dataset(name: str, seeds: int, with_no_detect: bool = False) -> list[dict]:
    """Every method on every input of one dataset, closed and open; one row dict per (method, input)."""
    root = DATASETS / name
    proto = PROTOCOLS.get(name, dict(train_per_class=5, unknown_fraction=0.25))
    t0 = time.perf_counter()
    folder = detected_folder(root)
    log.info("%s: %d faces from the detector (%d no face) in %.1f s", name, len(folder.identities),
             len(folder.no_face), time.perf_counter() - t0)
    extractor = get_extractor("pixels")
    crops = Feed("detector crop", np.stack([chip_to_crop(c).ravel() for c in folder.chips]),
                 folder.identities, len(folder.no_face))
    tight = Feed("detector crop, tight 1.1x box", np.stack([tight_crop(c).ravel() for c in folder.chips]),
                 folder.identities, len(folder.no_face))
    # The crop Rollcall's descriptors see (eyes aligned with dlib's landmarks): the baselines get it too,
    # so the comparison is about what happens after the crop.
    aligned = Feed("aligned crop (eyes placed)", np.stack([extractor.crop(c).ravel() for c in folder.chips]),
                   folder.identities, len(folder.no_face))
    raw = raw_feed(root)
    jobs = [("Rollcall PCA+LDA+SVM", Feed(f"detector crop ({extractor.pipeline})", extractor.from_chips(list(folder.chips)),
                                          folder.identities, len(folder.no_face)), rollcall_fit_score(0.01))]
    jobs += [(m, crops, fs) for m, fs in BASELINES.items()]
    jobs += [(m, tight, fs) for m, fs in BASELINES.items()]
    jobs += [(m, aligned, fs) for m, fs in BASELINES.items()]
    if with_no_detect:  # slow (the SVM converges slowly on whole images) and only for reference
        undetected = load_face_folder(root, None)
        jobs += [("Rollcall PCA+LDA+SVM", Feed("whole image (--no-detect)", extractor.from_chips(list(undetected.chips)),
                                              undetected.identities), rollcall_fit_score(0.01))]
    jobs += [(m, raw, fs) for m, fs in BASELINES.items()]
    rows = []
    for method, feed, fit_score in jobs:
        row = {"dataset": name, "method": method, "input": feed.name, "no_face": feed.no_face}
        for protocol in ("closed", "open"):
            t0 = time.perf_counter()
            res = evaluate(fit_score, feed.rows, feed.identities, protocol=protocol, seeds=seeds, **proto)
            row[protocol] = summarise(res)
            log.info("%s | %s | %s | %s: closed %s, DIR@1%% %s (%.0f s)", name, method, feed.name, protocol,
                     pct(res["closed_accuracy_mean"]), pct(res["open_dir_at_far1"]), time.perf_counter() - t0)
        rows.append(row)
    return rows


# ----- report -------------------------------------------------------------------------------------------
def table(rows: list[dict]) -> str:
    head = ("| method | input | closed accuracy | open: DIR @ 1% FAR | open: DIR @ 5% FAR | "
            "train s (closed, median) | ms per face (closed, median) |\n|---|---|---|---|---|---|---|")
    lines = [head]
    for r in rows:
        c, o = r["closed"], r["open"]
        bold = "**" if r["method"].startswith("Rollcall") else ""
        lines.append(
            f"| {bold}{r['method']}{bold} | {r['input']} | {pct(c['closed_accuracy_mean'], c['closed_accuracy_std'])} "
            f"| {pct(o['open_dir_at_far1'], o['open_dir_at_far1_std'])} | {pct(o['open_dir_at_far5'], o['open_dir_at_far5_std'])} "
            f"| {c['train_seconds_median']:.2f} | {c['predict_ms_per_face_median']:.2f} |")
    return "\n".join(lines)


METRICS = (("closed accuracy", "closed", "closed_accuracy_mean", "closed_accuracy_std"),
           ("DIR @ 1% FAR", "open", "open_dir_at_far1", "open_dir_at_far1_std"),
           ("DIR @ 5% FAR", "open", "open_dir_at_far5", "open_dir_at_far5_std"))


def verdict(rows: list[dict]) -> tuple[str, list[dict]]:
    """Rollcall (detector crops, the product path) against the best baseline of either input kind."""
    ours = next(r for r in rows if r["method"].startswith("Rollcall") and r["input"].startswith("detector crop"))
    lines, facts = [], []
    for label, proto, key, std_key in METRICS:
        base = [r for r in rows if not r["method"].startswith("Rollcall")]
        best = max(base, key=lambda r: r[proto][key])
        diff = ours[proto][key] - best[proto][key]
        noise = max(ours[proto][std_key], best[proto][std_key])
        word = "beats" if diff > 0 else ("ties" if diff == 0 else "LOSES TO")
        sure = "" if abs(diff) > noise else " (within one seed std: not a clear difference)"
        lines.append(f"- {label}: Rollcall {pct(ours[proto][key])} {word} the best baseline, {best['method']} on "
                     f"{best['input']} ({pct(best[proto][key])}), by {100 * diff:+.1f} points{sure}.")
        facts.append(dict(metric=label, rollcall=ours[proto][key], best=best["method"], best_input=best["input"],
                          best_value=best[proto][key], diff=diff))
    o = ours["open"]
    if o["calibrated_far_mean"] is not None:
        lines.append(f"- At its own threshold (calibrated at training time for 1% FAR, no test data), Rollcall "
                     f"let in {pct(o['calibrated_far_mean'])} of strangers and named {pct(o['calibrated_dir_mean'])} "
                     f"of known faces.")
    return "\n".join(lines), facts


def render(all_rows: dict[str, list[dict]], seeds: int, machine: str) -> str:
    parts = [
        f"Measured {machine}.",
        "",
        "Command: `bench/.venv-bench/bin/python bench/bench_recognition.py` (part of `make bench`).",
        "Protocol: `app.vision.evaluation.evaluate` with `app.vision.models_under_test.rollcall_fit_score`, the "
        "code and splits `flask evaluate` uses (same seeds 0..N-1, so every method sees the same splits). "
        f"{seeds} seeds. DIR = share of known probes named correctly with a score above the threshold that "
        "lets in 1% / 5% of the never-enrolled people's images (threshold set on the test scores, the same "
        "for every method). Values are mean ± std over seeds. Everything runs with one thread (OpenCV and BLAS), "
        "so train seconds and ms per face compare single-core cost.",
        "",
        "Inputs. *detector crop*: every image through `load_face_folder` (`FaceDetector.detect_padded`, as "
        "`flask evaluate` does) and `chip_to_crop` (128x128 grey); baselines get these plain grey crops, "
        "Rollcall gets its own features from the same chips (`PixelFeatures`: the crop aligned on the eyes with "
        "dlib's 5 landmarks, then square-rooted LBP and HOG histograms; the pipeline name is in the input column). "
        "*aligned crop (eyes placed)*: the 128x128 grey crop Rollcall's descriptors see, given to the baselines as "
        "they are (so alignment is not Rollcall's advantage alone). "
        f"*detector crop, tight 1.1x box*: the same chips cut at 1.1x the box (the app's crop is {CROP_SCALE}x "
        "with an elliptical mask inside Rollcall's features; the plain wider crop keeps background that hurts "
        "LBPH, so the baselines also get the tight one). "
        "*raw image 128x128*: the whole image resized to 128x128 grey, no detector (how FACTS.md's baseline "
        "numbers were most likely measured). *whole image (--no-detect)* (only with `--with-no-detect`): Rollcall on `flask evaluate "
        "--no-detect` input, for reference. Baseline scores: cv2.face = minus the distance `predict` returns; "
        "PCA+SVC = max of `decision_function` (ovr shape) or max of `predict_proba`.",
        "",
    ]
    for name, rows in all_rows.items():
        proto = PROTOCOLS.get(name, {})
        c = rows[0]["closed"]
        parts += [f"### {name}: {c['n_identities']} identities, {c['n_images']} detected faces "
                  f"({rows[0]['no_face']} images with no face found), {proto.get('train_per_class')} train per "
                  f"identity; open set: {proto.get('unknown_fraction', 0) * 100:.0f}% of identities never enrolled",
                  "", table(rows), "", "Rollcall (detector crops) against the best baseline:", "",
                  verdict(rows)[0]]
        if name == "orl":
            parts.append(facts_check(rows))
        parts.append("")
    parts.append("Small open sets are noisy: LFW10 leaves only 3 people (about 66 images) unknown, so its DIR at "
                 "1% FAR is decided by the single highest stranger score of each split.")
    return "\n".join(parts)


def facts_check(rows: list[dict]) -> str:
    """How the raw-image baselines here compare with the numbers FACTS.md quotes."""
    def get(method: str, proto: str, key: str) -> float | None:
        row = next((r for r in rows if r["method"] == method and r["input"].startswith("raw")), None)
        return None if row is None else row[proto][key]

    svc = get("PCA(80)+SVC decision", "closed", "closed_accuracy_mean")
    lbph = get("cv2 LBPH", "open", "open_dir_at_far1")
    return (f"- FACTS.md's baselines (PCA+SVC 97.0-97.1% closed, LBPH 84.7% DIR at 1% FAR) compare with the raw-image "
            f"rows here: PCA(80)+SVC {pct(svc)}, LBPH {pct(lbph)} (other splits and seeds).")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--datasets", nargs="+", default=list(PROTOCOLS))
    parser.add_argument("--with-no-detect", action="store_true",
                        help="also Rollcall on whole images (flask evaluate --no-detect); slow")
    parser.add_argument("--render-only", action="store_true",
                        help="rewrite the section from bench/out/recognition_<dataset>.json without measuring")
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if not args.render_only:
        for name in args.datasets:  # one JSON per dataset, so datasets can run as separate processes
            before = machine_line()
            # One thread everywhere: fair to every method, and steady on a shared machine (oversubscribed
            # BLAS threads made Rollcall's fits ~10x slower here while other jobs ran).
            cv2.setNumThreads(1)
            with threadpool_limits(limits=1):
                rows = run_dataset(name, args.seeds, args.with_no_detect)
            machine = before + "; at the end: load " + ", ".join(f"{x:.2f}" for x in os.getloadavg())
            OUT.mkdir(exist_ok=True)
            (OUT / f"recognition_{name}.json").write_text(json.dumps(
                {"machine": machine, "seeds": args.seeds, "rows": rows, "verdict": verdict(rows)[1]}, indent=1))
    runs = {name: json.loads((OUT / f"recognition_{name}.json").read_text()) for name in args.datasets}
    text = render({n: r["rows"] for n, r in runs.items()}, runs[args.datasets[0]]["seeds"],
                  "; ".join(f"{n}: {r['machine']}" for n, r in runs.items()))
    if not args.no_write:
        replace_section("bench_recognition", "Recognition: Rollcall against classical baselines", text)
    print(text)


if __name__ == "__main__":
    main()
