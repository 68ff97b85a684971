"""app.storage: the one owner of file paths, recognizer versions, atomic writes, deletion and the sweep's folders."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from app.storage import Storage, storage


def _storage(tmp_path: Path) -> Storage:
    return storage({key: str(tmp_path / name) for key, name in (
        ("DATASET_DIR", "dataset"), ("RECOGNIZER_DIR", "models"), ("SNAPSHOT_DIR", "snapshots"),
        ("UPLOAD_DIR", "uploads"))})


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_version_numbers_skip_failed_saves_and_only_a_sidecar_completes_a_save(tmp_path):
    files = _storage(tmp_path)
    assert files.recognizer_path(7, 3) == tmp_path / "models" / "course_7" / "v3.joblib"
    assert files.next_version(7, None) == 1
    _touch(files.recognizer_path(7, 3))  # a save whose sidecar never came (or whose DB commit failed)
    assert not files.is_saved(7, 3)
    assert files.next_version(7, 2) == 4  # its number is not reused
    _touch(files.recognizer_path(7, 3).with_suffix(".json"))
    assert files.is_saved(7, 3) and files.versions_on_disk(7) == {3}


def test_delete_version_removes_both_files_of_that_version_only(tmp_path):
    files = _storage(tmp_path)
    for version in (1, 2):
        _touch(files.recognizer_path(1, version))
        _touch(files.recognizer_path(1, version).with_suffix(".json"))
    files.delete_version(1, 2)
    assert files.versions_on_disk(1) == {1} and files.is_saved(1, 1)


def test_discard_unsaved_removes_only_the_failed_versions_temp_files(tmp_path):
    files = _storage(tmp_path)
    folder = files.course_dir(1)
    kept = [_touch(folder / "v1.joblib"), _touch(folder / "v1.json"), _touch(folder / "v3.joblib.tmp")]
    failed = _touch(folder / "v2.joblib.tmp")
    files.discard_unsaved(1, 2)
    assert not failed.exists() and all(p.exists() for p in kept)


def test_chips_are_written_whole_and_deleted_by_student(tmp_path):
    files = _storage(tmp_path)
    chip = np.full((128, 128, 3), 90, np.uint8)
    path = files.write_chip(5, chip)
    assert path.parent == files.student_dir(5) and path.suffix == ".png"
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left beside it
    assert files.student_dirs() == {5: files.student_dir(5)}
    files.delete_chip(5, path.name)
    assert not path.exists()
    files.write_chip(5, chip)
    files.delete_student_chips(5)
    assert not files.student_dir(5).exists() and files.student_dirs() == {}


def test_snapshots_round_trip_and_names_outside_the_folder_are_refused(tmp_path):
    files = _storage(tmp_path)
    chip = np.zeros((64, 64, 3), np.uint8)
    chip[16:48, 16:48] = 200
    name = files.save_snapshot(12, "student_3", chip)
    assert name == "session_12/student_3.jpg" and files.save_snapshot(12, "x", None) is None
    read = files.read_snapshot(name)
    assert read.shape == chip.shape and abs(int(read[32, 32, 0]) - 200) < 10
    assert files.snapshot_file(str(files.snapshot_dir / name)) == (files.snapshot_dir / name).resolve()
    secret = _touch(tmp_path / "secret.jpg")
    assert files.snapshot_file("../secret.jpg") is None and files.snapshot_file(str(secret)) is None
    assert files.snapshot_file("session_12/missing.jpg") is None
    files.delete_snapshots([name])
    assert files.snapshot_file(name) is None and files.session_dirs() == {12: files.session_dir(12)}
    files.delete_session_snapshots(12)
    assert files.session_dirs() == {}


def test_sweep_folders_are_found_by_their_id_and_other_names_are_left_alone(tmp_path):
    files = _storage(tmp_path)
    for path in ("models/course_4/v1.joblib", "models/notes/x", "dataset/9/a.png", "dataset/tmp/a.png",
                 "snapshots/session_2/a.jpg", "snapshots/session_x/a.jpg"):
        _touch(tmp_path / path)
    assert set(files.course_dirs()) == {4} and set(files.student_dirs()) == {9} and set(files.session_dirs()) == {2}
    files.delete_recognizers(4)
    assert files.course_dirs() == {} and (tmp_path / "models" / "notes" / "x").exists()
