"""Few students, few photos: true and false accept rates at the Recognizer's own calibrated threshold.

Run from the repo root with the app venv:
    .venv/bin/python bench/bench_calibration.py [--datasets orl faces94 lfw10] [--kinds pixels dlib]
        [--enrolled 6 10] [--photos 5] [--repeats 10] [--save bench/out/calibration.json]
Per repeat: `enrolled` random identities enroll with `photos` random detected faces each; their other
faces are the genuine probes, every identity not enrolled plays the stranger. TAR = genuine probes
named right and above the threshold; FAR = stranger faces given any name.
"""
from __future__ import annotations

import argparse
import logging

import numpy as np
from threadpoolctl import threadpool_limits

from common import OUT
from feature_cache import dataset_features, save_run

log = logging.getLogger("bench_calibration")


def one_course(X: np.ndarray, ids: np.ndarray, enrolled: int, photos: int, seed: int, **params: float) -> dict:
    """Enroll a random course, train as the app does, and score its probes and the strangers."""
    from app.vision.recognizer import Recognizer

    rng = np.random.default_rng(seed)
    names, counts = np.unique(ids, return_counts=True)
    course = rng.permutation(names[counts > photos])[:enrolled]
    train = np.zeros(len(ids), bool)
    for name in course:
        train[rng.permutation(np.flatnonzero(ids == name))[:photos]] = True
    known = np.isin(ids, course)
    rec = Recognizer(target_far=0.01, **params).fit(X[train], ids[train])
    genuine = rec.predict(X[known & ~train])
    strangers = rec.predict(X[~known])
    op = rec.operating_point_
    return {"tar": float(np.mean([p.label == t for p, t in zip(genuine, ids[known & ~train])])),
            "far": float(np.mean([p.label is not None for p in strangers])),
            "threshold": op.threshold, "method": op.method,
            "calibration_tar": op.true_accept_rate, "calibration_far": op.measured_far}


def measure(dataset: str, kind: str, enrolled: int, photos: int, repeats: int, **params: float) -> dict:
    """Mean TAR / FAR over `repeats` random courses of one dataset and feature kind."""
    X, ids = dataset_features(dataset, kind)
    runs = [one_course(X, ids, enrolled, photos, seed, **params) for seed in range(repeats)]
    mean = lambda key: float(np.mean([r[key] for r in runs]))  # noqa: E731
    return {"dataset": dataset, "kind": kind, "enrolled": enrolled, "photos": photos, "repeats": repeats,
            "tar": mean("tar"), "far": mean("far"), "threshold": mean("threshold"),
            "tar_min": min(r["tar"] for r in runs), "far_max": max(r["far"] for r in runs),
            "methods": sorted({r["method"] for r in runs})}


def table(rows: list[dict]) -> str:
    lines = ["| dataset | features | enrolled x photos | threshold (mean) | TAR mean (worst course) | "
             "FAR mean (worst course) |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['dataset']} | {r['kind']} | {r['enrolled']} x {r['photos']} | {r['threshold']:.2f} | "
                     f"{100 * r['tar']:.1f}% ({100 * r['tar_min']:.0f}%) | {100 * r['far']:.1f}% ({100 * r['far_max']:.0f}%) |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["orl", "faces94", "lfw10"])
    parser.add_argument("--kinds", nargs="+", default=["pixels", "dlib"])
    parser.add_argument("--enrolled", type=int, nargs="+", default=[6, 10])
    parser.add_argument("--photos", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--min-tar", type=float, help="Recognizer(min_tar=...); default: the Recognizer's")
    parser.add_argument("--max-far", type=float, help="Recognizer(max_far=...); default: the Recognizer's")
    parser.add_argument("--save", default=str(OUT / "calibration.json"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    params = {k: v for k, v in (("min_tar", args.min_tar), ("max_far", args.max_far)) if v is not None}
    rows = []
    with threadpool_limits(limits=1):
        for dataset in args.datasets:
            for kind in args.kinds:
                for enrolled in args.enrolled:
                    rows.append(measure(dataset, kind, enrolled, args.photos, args.repeats, **params))
                    log.info("%s", rows[-1])
    save_run(args.save, rows)
    print(table(rows))


if __name__ == "__main__":
    main()
