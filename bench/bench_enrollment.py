"""Issue 11: every photo of lfw10 / faces94 / ORL / detect through the real enrollment code, the chip
checked against the identity with dlib, the cost of training both feature kinds, and bulk job slices.

Run from the repo root with the app venv (dlib comes with requirements.txt):
    .venv/bin/python bench/bench_enrollment.py            # writes the "Issue 11: enrollment" section (~40 min under load)
    .venv/bin/python bench/bench_enrollment.py --speed    # 100 photos, CPU seconds per photo
"""
from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DATASETS, machine_line, replace_section  # noqa: E402

from app import create_app, db  # noqa: E402
from app.database import upgrade_database  # noqa: E402
from app.models import Course, Student, Teacher  # noqa: E402
from app.vision.dataset_io import list_identity_images  # noqa: E402


def make_app(tmp: Path):
    """A real app on a SQLite file in tmp, with one teacher."""
    from config import Config

    app = create_app(Config, {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.sqlite'}",
                              "INSTANCE_DIR": str(tmp / "instance"), "DATASET_DIR": str(tmp / "dataset"),
                              "RECOGNIZER_DIR": str(tmp / "models"), "UPLOAD_DIR": str(tmp / "uploads"),
                              "SECRET_KEY": "bench", "START_BACKGROUND": False, "MAIL_ENABLED": False})
    upgrade_database(app)
    with app.app_context():
        db.session.add(Teacher(name="Bench", email="bench@example.com", password_hash="x"))
        db.session.commit()
    return app


def new_course(name: str) -> int:
    course = Course(teacher_id=db.session.scalar(db.select(Teacher.id)), name=name)
    db.session.add(course)
    db.session.commit()
    return course.id


def new_student(course_id: int, name: str) -> int:
    student = Student(course_id=course_id, name=name, roll_number=name[:50])
    db.session.add(student)
    db.session.commit()
    return student.id


def upload_bytes(path: Path) -> bytes:
    """What a teacher uploads: JPEG as is; ORL's PGM saved as PNG (uploads take JPEG or PNG)."""
    if path.suffix.lower() in (".jpg", ".jpeg", ".png"):
        return path.read_bytes()
    return cv2.imencode(".png", cv2.imread(str(path), cv2.IMREAD_COLOR))[1].tobytes()


def acceptance(app, dataset: str) -> dict:
    """Each photo enrolled on its own (one request each) into a student per identity; verdicts and times."""
    from app.students.enrollment import enroll_photos

    root = DATASETS / dataset
    if dataset == "detect":
        groups = {"detect": sorted(p for p in root.glob("*.jpg"))}
    else:
        groups = list_identity_images(root)
    out = {"accepted": 0, "total": 0, "seconds": [], "rejected": [], "chips": {}, "verdicts": {}}
    with app.app_context():
        course_id = new_course(dataset)
        for identity, paths in groups.items():
            sid = new_student(course_id, identity) if dataset != "detect" else None
            for path in paths:
                student = sid if sid is not None else new_student(course_id, path.stem)
                start = time.perf_counter()
                result = enroll_photos(student, [(path.name, upload_bytes(path))], app.config)
                out["seconds"].append(time.perf_counter() - start)
                out["total"] += 1
                out["accepted"] += result.accepted
                out["verdicts"][path.name] = result.accepted == 1
                if not result.accepted:
                    out["rejected"].append((f"{identity}/{path.name}", result.rejected[0][1] if result.rejected else "?"))
            if sid is not None:
                folder = Path(app.config["DATASET_DIR"]) / str(sid)
                out["chips"][identity] = [cv2.imread(str(p)) for p in sorted(folder.glob("*.png"))]
    return out


def subject_check(chips: dict[str, list[np.ndarray]]) -> tuple[int, int, list[str]]:
    """Accepted chips whose dlib embedding is nearest its own identity's other chips (leave-one-out)."""
    from app.vision.features import get_extractor

    extractor = get_extractor("dlib")
    emb = {k: extractor.from_chips(v) for k, v in chips.items() if len(v) >= 2}
    sums = {k: e.sum(axis=0) for k, e in emb.items()}
    ok, total, bad = 0, 0, []
    for k, e in emb.items():
        for i, vec in enumerate(e):
            centres = {j: (sums[j] - (vec if j == k else 0)) / (len(emb[j]) - (1 if j == k else 0)) for j in emb}
            dist = {j: float(np.linalg.norm(vec - c)) for j, c in centres.items()}
            best = min(dist, key=dist.get)
            total += 1
            if best == k and dist[k] < 0.6:
                ok += 1
            else:
                bad.append(f"{k} #{i} (nearest {best}, {dist[k]:.2f} from own)")
    return ok, total, bad


def training_cost(app) -> dict:
    """30 ORL students x 10 photos enrolled, then one training job (pixels in use + dlib compared)."""
    from app.courses.training import train_course
    from app.students.enrollment import enroll_photos

    people = list(list_identity_images(DATASETS / "orl").items())[:30]
    with app.app_context():
        course_id = new_course("cost")
        start = time.perf_counter()
        for identity, paths in people:
            sid = new_student(course_id, identity)
            enroll_photos(sid, [(p.name, upload_bytes(p)) for p in paths[:10]], app.config)
        enroll_s = time.perf_counter() - start
        start = time.perf_counter()
        summary = train_course(course_id, app.config)
        train_s = time.perf_counter() - start
    return {"enroll_s": enroll_s, "train_s": train_s, "comparison": summary["comparison"],
            "n_images": summary["n_images"]}


def bulk_slices(app, tmp: Path) -> dict:
    """A 144-photo class folder through the real bulk job body: how many slices and how long each held the runner."""
    from app.students import tasks

    folder = tmp / "bulk_bench"
    for identity, paths in list(list_identity_images(DATASETS / "faces94").items())[:18]:
        (folder / identity).mkdir(parents=True, exist_ok=True)
        for p in paths[:8]:
            (folder / identity / p.name).symlink_to(p)
    slices = []
    with app.app_context():
        course_id = new_course("bulk")
        kwargs = {"course_id": course_id, "folder": str(folder), "labels": {}}
        while True:
            start = time.perf_counter()
            result = tasks.run_bulk_job(None, **kwargs)
            slices.append(time.perf_counter() - start)
            if not hasattr(result, "kwargs"):
                return {"slices": slices, "message": result["message"]}
            kwargs = result.kwargs


NOTES = """Notes. Policy numbers (app/vision/face_policy.py) were chosen on the same boxes: before, 2x2 tiles
gave a phantom box on the subject's chin and collar and half of these portraits were refused. With
DOMINANT_SIDE / CENTRED_SIDE 0.7 / 0.9, 257 of 260 lfw10 photos pass and detect/ groups are still all
refused; 0.6 / 0.85 keeps a margin. The six lfw10 refusals are real second faces of about the subject's
size (e.g. Jiang Zemin_0004 beside George Bush). Duplicates: the same bytes give a chip-signature
difference of 0.000 and a re-encode on the same box ~0.005, but faces94 frames of a person talking
differ by as little as 0.026 and re-scaled copies up to 0.11, so only copies on the same pixels
(<= 0.01) are refused: a re-scaled copy of an enrolled photo is not caught."""


def speed(app, n: int = 100) -> dict:
    """CPU and wall seconds per photo for n lfw10 photos through enroll_photos (CPU time is less load-bound)."""
    from app.students.enrollment import enroll_photos

    paths = [p for ps in list_identity_images(DATASETS / "lfw10").values() for p in ps][:n]
    wall, cpu = [], []
    with app.app_context():
        sid = new_student(new_course("speed"), "speed")
        for path in paths:
            w, c = time.perf_counter(), time.process_time()
            enroll_photos(sid, [(path.name, path.read_bytes())], app.config)
            wall.append(time.perf_counter() - w)
            cpu.append(time.process_time() - c)
    return {"n": len(paths), "wall": wall, "cpu": cpu}


def main_speed() -> None:
    """`--speed`: 100 photos, one call each, CPU time per photo (threads limited to 1 and 2)."""
    from threadpoolctl import threadpool_limits

    with tempfile.TemporaryDirectory() as tmpdir:
        app = make_app(Path(tmpdir))
        cv2.setNumThreads(1)
        with threadpool_limits(1):
            one = speed(app)
    body = (f"Command: `.venv/bin/python bench/bench_enrollment.py --speed`. Measured {machine_line()}; "
            f"**under load**, so CPU seconds are the figure to read (one OpenCV/BLAS thread, so CPU time = work).\n\n"
            f"{one['n']} lfw10 photos (250x250), each checked and stored by its own `enroll_photos` call: CPU "
            f"median {statistics.median(one['cpu']):.2f} s, p90 {np.percentile(one['cpu'], 90):.2f} s, max {max(one['cpu']):.2f} s "
            f"per photo; wall median {statistics.median(one['wall']):.2f} s (waiting for a core).\n")
    print(body)
    replace_section("bench_enrollment_speed", "Issue 11: enrollment speed (bench_enrollment.py --speed)", body)


def main() -> None:
    faces = json.loads((DATASETS / "detect" / "faces.json").read_text())["images"]
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        app = make_app(tmp)
        runs = {ds: acceptance(app, ds) for ds in ("lfw10", "faces94", "orl", "detect")}
        ok, total, bad = subject_check(runs["lfw10"]["chips"])
        cost = training_cost(app)
        bulk = bulk_slices(app, tmp)
    rows = []
    for ds, r in runs.items():
        if ds == "detect":
            continue
        rows.append(f"| {ds} | {r['accepted']} / {r['total']} ({100 * r['accepted'] / r['total']:.1f}%) | "
                    f"{statistics.median(r['seconds']):.2f} / {np.percentile(r['seconds'], 90):.2f} / {max(r['seconds']):.2f} | "
                    + ("; ".join(f"{n}: {why}" for n, why in r["rejected"][:8]) or "none") + " |")
    multi = {n: v for n, v in runs["detect"]["verdicts"].items() if faces[n]["n_faces"] >= 2}
    single = {n: v for n, v in runs["detect"]["verdicts"].items() if faces[n]["n_faces"] == 1}
    comp = cost["comparison"]
    seconds = sorted(s for r in runs.values() for s in r["seconds"])
    body = f"""Command: `.venv/bin/python bench/bench_enrollment.py` (app venv; dlib from requirements.txt). Measured
{machine_line()}. **Timings measured under load** (other helpers' jobs on the same 2 cores).

Every photo goes through the real code (`enroll_photos`: header check, decode, `detect_photo` with the
config's DETECTOR_TILES={app.config['DETECTOR_TILES']}, `face_policy.judge`, duplicate and look-alike checks, chip
written, row committed), one photo per call, into one student per identity. ORL's PGM files are sent as
PNG (uploads take JPEG or PNG).

| dataset | accepted | seconds per photo (median / p90 / max) | refused (first 8) |
|---|---|---|---|
{chr(10).join(rows)}

- detect/ photos with 2+ faces (faces.json): {sum(not v for v in multi.values())} of {len(multi)} refused
  ({', '.join(f"{n}: {'refused' if not v else 'ACCEPTED'}" for n, v in sorted(multi.items()))}); photos with one
  face: {sum(single.values())} of {len(single)} accepted.
- The accepted chip is the subject: {ok} of {total} accepted lfw10 chips have a dlib embedding nearest their own
  identity's other chips (leave-one-out centroid, distance < 0.6){'; not: ' + '; '.join(bad[:10]) if bad else ''}.
- All {len(seconds)} photos: median {statistics.median(seconds):.2f} s, p90 {np.percentile(seconds, 90):.2f} s per photo checked.
- Cost of both feature kinds, 30 ORL students x 10 photos ({cost['n_images']} images): enrollment {cost['enroll_s']:.0f} s
  ({cost['enroll_s'] / 300:.2f} s a photo); one training job {cost['train_s']:.0f} s, of which pixels (in use)
  {comp['pixels'].get('seconds', 'n/a')} s and the dlib comparison {comp['dlib'].get('seconds', 'n/a')} s.
  Cross-validated accuracy pixels {100 * (comp['pixels'].get('cv_accuracy') or 0):.1f}%, dlib {100 * (comp['dlib'].get('cv_accuracy') or 0):.1f}%.
- Bulk job ({bulk['message']}): {len(bulk['slices'])} slices of at most 100 photos, each holding the single job
  runner {', '.join(f'{s:.0f}' for s in bulk['slices'])} s; jobs queued meanwhile run between slices.

{NOTES}
"""
    print(body)
    replace_section("bench_enrollment", "Issue 11: enrollment (bench_enrollment.py)", body)


if __name__ == "__main__":
    main_speed() if "--speed" in sys.argv else main()
