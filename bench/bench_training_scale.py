"""Training time and peak memory of one Recognizer at school scale (synthetic), and where the cliff is.

Run from the repo root with the app venv:
    .venv/bin/python bench/bench_training_scale.py [--sizes 50 200 1000 2000] [--kinds pixels dlib]
        [--classifier auto|ridge|svc|nearest] [--threads 1] [--timeout 600] [--no-write]
Each size runs in its own process (so its peak memory is its own), with a time limit.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time

import numpy as np

from common import OUT
from feature_cache import save_run

log = logging.getLogger("bench_training_scale")

PHOTOS = 20
# The real vector length of each feature kind: pixels/2-aligned (LBP 3,776 + HOG 8,100) and dlib's embedding.
DIMENSIONS = {"pixels": 11876, "dlib": 128}


def synthetic_faces(n_students: int, photos: int, dim: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(X (n_students * photos, dim) float32, y): students as points in a 300-d face space seen
    through a random linear map, photos as the student's point plus within-person variation."""
    rng = np.random.default_rng(seed)
    latent = min(300, dim)
    basis = rng.standard_normal((latent, dim), dtype=np.float32) / np.sqrt(latent)
    centers = rng.standard_normal((n_students, latent), dtype=np.float32)
    y = np.repeat(np.arange(n_students), photos)
    X = np.empty((len(y), dim), np.float32)
    for lo in range(0, len(y), 2000):  # in blocks: no float64 copy of the whole matrix
        hi = min(lo + 2000, len(y))
        z = centers[y[lo:hi]] + 0.8 * rng.standard_normal((hi - lo, latent), dtype=np.float32)
        X[lo:hi] = z @ basis + 0.05 * rng.standard_normal((hi - lo, dim), dtype=np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)  # both feature kinds are unit-length vectors
    return X, y


def peak_rss_mb() -> float:
    """This process's peak resident memory since the last reset_peak(), in MB."""
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM")) / 1024


def reset_peak() -> None:
    """Start measuring the peak afresh (Linux: writing 5 to clear_refs resets VmHWM)."""
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


def one_run(students: int, kind: str, classifier: str, threads: int) -> dict:
    """Fit one recognizer (in this process) and measure it; also predicts one face and a batch of 5."""
    from app.vision.recognizer import Recognizer

    X, y = synthetic_faces(students, PHOTOS, DIMENSIONS[kind])
    data_mb = X.nbytes / 2**20
    reset_peak()
    before = peak_rss_mb()
    t0 = time.perf_counter()
    rec = Recognizer(target_far=0.01, classifier=classifier, blas_threads=threads).fit(X, y)
    seconds = time.perf_counter() - t0
    peak = peak_rss_mb()
    t0 = time.perf_counter()
    for i in range(20):
        rec.predict(X[i:i + 1])
    predict_ms = (time.perf_counter() - t0) / 20 * 1000
    probes = np.arange(5, len(y), PHOTOS)[:500]
    labels, _ = rec.scores(X[probes])
    return {"students": students, "images": len(y), "kind": kind, "dim": DIMENSIONS[kind],
            "classifier": classifier, "threads": threads, "seconds": round(seconds, 2),
            "peak_mb": round(peak, 0), "before_fit_mb": round(before, 0), "data_mb": round(data_mb, 0),
            "predict_one_ms": round(predict_ms, 2), "train_accuracy": float(np.mean(labels == y[probes])),
            "threshold": rec.operating_point_.threshold, "cv_accuracy": rec.report_.cv_accuracy}


def run_isolated(students: int, kind: str, classifier: str, threads: int, timeout: float) -> dict:
    """one_run in a child process; a run over the time limit is reported as unfinished."""
    cmd = [sys.executable, __file__, "--child", str(students), kind, classifier, str(threads)]
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    t0 = time.perf_counter()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=True)
    except subprocess.TimeoutExpired:
        return {"students": students, "images": students * PHOTOS, "kind": kind, "dim": DIMENSIONS[kind],
                "classifier": classifier, "threads": threads, "unfinished_after_s": round(time.perf_counter() - t0)}
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(rows: list[dict]) -> str:
    lines = ["| students x photos | features (d) | classifier | BLAS threads | fit s | peak MB during fit (data alone) | "
             "predict one face ms | cv accuracy |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        head = f"| {r['students']} x {PHOTOS} | {r['kind']} ({r['dim']}) | {r['classifier']} | {r['threads']} "
        if "unfinished_after_s" in r:
            lines.append(head + f"| unfinished after {r['unfinished_after_s']} s (stopped) | | | |")
            continue
        cv = "n/a" if r["cv_accuracy"] is None else f"{100 * r['cv_accuracy']:.1f}%"
        lines.append(head + f"| {r['seconds']:.1f} | {r['peak_mb']:.0f} ({r['data_mb']:.0f}) | "
                     f"{r['predict_one_ms']:.2f} | {cv} |")
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        students, kind, classifier, threads = int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
        print(json.dumps(one_run(students, kind, classifier, threads)))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200, 1000, 2000])
    parser.add_argument("--kinds", nargs="+", default=list(DIMENSIONS), choices=list(DIMENSIONS))
    parser.add_argument("--classifier", nargs="+", default=["auto"])
    parser.add_argument("--threads", type=int, nargs="+", default=[1])
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--save", default=str(OUT / "training_scale.json"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    rows = []
    for kind in args.kinds:
        for classifier in args.classifier:
            for threads in args.threads:
                for n in args.sizes:
                    rows.append(run_isolated(n, kind, classifier, threads, args.timeout))
                    log.info("%s", rows[-1])
                    if "unfinished_after_s" in rows[-1]:
                        break  # larger sizes only take longer
    save_run(args.save, rows)
    print(table(rows))


if __name__ == "__main__":
    main()
