"""Peak memory of hostile and large photo uploads through the real upload route (issue 14, item 2).

Each case runs in a fresh child process (so ru_maxrss is that case's own peak): an app on a SQLite file
in a temp folder, a teacher, a course, a student, one POST to the photo upload.
Reproduce: `.venv/bin/python bench/bench_upload_memory.py` (prints a Markdown table).
"""
from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = {
    "one 30000x30000 PNG (109 KB file)": ("bomb", 30000, 1),
    "one 50000x50000 PNG": ("bomb", 50000, 1),
    "50 x 30000x30000 PNG in one upload": ("bomb", 30000, 50),
    "one 7000x5600 JPEG (39 MP, the largest accepted)": ("large", 0, 1),
}


def run_case(kind: str, side: int, count: int) -> dict:
    """Runs inside the child: one upload; returns status, the flash line and peak memory."""
    sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
    import cv2
    import numpy as np

    from app import create_app
    from app.database import upgrade_database
    from config import Config
    from conftest import AuthActions, test_config
    from helpers_web import new_student, upload_photos
    from security.test_uploads import _png_header_bomb

    tmp = Path(tempfile.mkdtemp(prefix="rollcall-mem-"))
    app = create_app(Config, test_config(tmp))
    upgrade_database(app)
    client = app.test_client()
    student = new_student(client, AuthActions(client), app)
    if kind == "bomb":
        files = [(_png_header_bomb(side, side), f"bomb{i}.png") for i in range(count)]
    else:
        noise = np.random.default_rng(0).integers(0, 255, (5600, 7000, 3), dtype=np.uint8)
        files = [(cv2.imencode(".jpg", noise, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes(), "large.jpg")]
        del noise  # the bench's own array is not the upload's cost (ru_maxrss keeps the peak, though)
    size_mb = sum(len(c) for c, _ in files) / 1e6
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    response = upload_photos(client, student, files)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    page = response.data.decode()
    import re

    found = re.findall(r"[\w.]+: rejected, [^<]*|Added \d+ face images?[^<]*", page)
    line = f"{found[0]}" + (f" (and {len(found) - 1} more lines)" if len(found) > 1 else "") if found else "?"
    return {"status": response.status_code, "upload_mb": round(size_mb, 2), "before_mb": round(before),
            "peak_mb": round(peak), "answer": line[:160]}


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--case":
        print(json.dumps(run_case(sys.argv[2], int(sys.argv[3].split(":")[0]), int(sys.argv[3].split(":")[1]))))
        return
    rows = ["| upload | status | upload size | process before upload | peak | answer |", "|---|---|---|---|---|---|"]
    for label, (kind, side, count) in CASES.items():
        out = subprocess.run([sys.executable, __file__, "--case", kind, f"{side}:{count}"], capture_output=True,
                             text=True, cwd=ROOT)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(f"| {label} | {result['status']} | {result['upload_mb']} MB | {result['before_mb']} MB "
                    f"| {result['peak_mb']} MB | {result['answer']} |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
