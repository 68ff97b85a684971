"""The Fisherfaces recognizer on real faces: naming, rejecting strangers, errors, persistence."""
import json

import numpy as np
import pytest

from app.vision.features import PixelFeatures
from app.vision.preprocess import VECTOR_LENGTH
from app.vision.recognizer import Recognizer, RecognizerError
from tests.conftest import needs_datasets, needs_detector

pytestmark = [needs_datasets, needs_detector]


@pytest.fixture(scope="module")
def orl():
    from tests.faces import chips_of

    chips, ids = chips_of("orl", detect=False)
    # Whole ORL images stand in for detector boxes here (fast), so the box-crop pipeline fits them;
    # eye alignment expects a detector's box and is tested on detected faces in test_pixel_pipeline.
    X = PixelFeatures(align=False).from_chips(list(chips))
    y = np.array([int(i[1:]) for i in ids])  # s1..s40 -> 1..40
    return X, y


def _split(y, per_class, rng):
    train = np.zeros(len(y), bool)
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        train[idx[:per_class]] = True
    return train


@pytest.fixture(scope="module")
def open_set(orl):
    """30 ORL people enrolled with 5 images each; 10 never enrolled."""
    X, y = orl
    rng = np.random.default_rng(7)
    known = np.isin(y, rng.permutation(np.unique(y))[:30])
    train = _split(np.where(known, y, -1), 5, rng) & known
    rec = Recognizer(target_far=0.05).fit(X[train], y[train])
    return rec, X, y, known, train


def test_names_held_out_faces_of_enrolled_people(open_set):
    rec, X, y, known, train = open_set
    test = known & ~train
    labels, _ = rec.scores(X[test])
    assert np.mean(labels == y[test]) >= 0.9


def test_rejects_people_never_enrolled(open_set):
    """The calibrated threshold keeps strangers out at roughly the asked false-accept rate."""
    rec, X, y, known, train = open_set
    strangers = rec.predict(X[~known])
    accepted = np.mean([p.label is not None for p in strangers])
    assert accepted <= 0.15  # asked for 5%; 100 stranger images give a coarse estimate
    test = known & ~train
    named = np.mean([p.label == t for p, t in zip(rec.predict(X[test]), y[test])])
    assert named >= 0.6
    assert rec.operating_point_.method == "impostor-far"
    assert rec.operating_point_.measured_far <= 0.05 + 1e-9


def test_predictions_carry_best_label_and_score(open_set):
    rec, X, y, known, _ = open_set
    p = rec.predict(X[~known][:1])[0]
    assert p.label is None or p.label == p.best_label
    assert -1.0 <= p.score <= 1.0
    assert isinstance(p.best_label, int)


def test_report_describes_the_training(open_set):
    rec, *_ = open_set
    r = rec.report_
    assert r.n_classes == 30 and r.n_images == 150
    assert set(r.images_per_class.values()) == {5}
    assert 0.8 <= r.cv_accuracy <= 1.0
    assert r.pca_components <= 150 - 30  # the Fisherfaces rule: at most n - c components


def test_two_students_use_a_genuine_acceptance_threshold(orl):
    X, y = orl
    sel = np.isin(y, [1, 2])
    rec = Recognizer().fit(X[sel], y[sel])
    assert rec.operating_point_.method == "genuine-tar"
    assert {p.best_label for p in rec.predict(X[sel])} == {1, 2}


def test_three_students_calibrate_by_leaving_one_out(orl):
    X, y = orl
    sel = np.isin(y, [1, 2, 3])
    rec = Recognizer().fit(X[sel], y[sel])
    op = rec.operating_point_
    assert op.n_impostor_scores == 30  # each student held out once
    # 30 stranger scores cannot show a 1% tail: the threshold keeps 90% of held-out genuine faces
    # unless that lets in more than 10% of the held-out students.
    assert op.method == "tar-floor" and op.measured_far <= 0.1
    strict = Recognizer(max_far=0.0).fit(X[sel], y[sel]).operating_point_
    assert strict.threshold >= op.threshold and strict.measured_far == 0.0


def test_two_images_per_student_still_train(orl):
    X, y = orl
    keep = np.zeros(len(y), bool)
    for c in range(1, 9):
        keep[np.flatnonzero(y == c)[:2]] = True
    rec = Recognizer().fit(X[keep], y[keep])
    assert rec.report_.n_images == 16
    assert rec.operating_point_.method == "impostor-far"
    rest = np.isin(y, range(1, 9)) & ~keep
    labels, _ = rec.scores(X[rest])
    assert np.mean(labels == y[rest]) >= 0.6


def test_few_students_still_accept_their_faces(orl):
    """With 5 students the unknown score must not saturate: enrolled faces get through."""
    X, y = orl
    named, strangers = [], []
    # Four different classes of 5: which 5 students are enrolled moves the result a lot (one
    # class alone accepted 16% of its faces, another 96%), so the bar is on the average.
    for first in (1, 6, 11, 16):
        group = range(first, first + 5)
        train = np.zeros(len(y), bool)
        for c in group:
            train[np.flatnonzero(y == c)[:5]] = True
        rec = Recognizer(target_far=0.01).fit(X[train], y[train])
        held = np.isin(y, group) & ~train
        named.append(np.mean([p.label == t for p, t in zip(rec.predict(X[held]), y[held])]))
        strangers.append(np.mean([p.label is not None for p in rec.predict(X[np.isin(y, range(30, 41))])]))
    # With the Fisher-space score alone, 4-8 students saw as little as 0% of enrolled faces
    # accepted. 25 stranger scores cannot show a 1% tail, so the threshold keeps 90% of held-out
    # genuine faces unless more than 10% of the stand-in strangers would get in (issue 10): 70%
    # named here, 45% with the plain 1% quantile (their maximum); the live loop votes over frames.
    assert np.mean(named) >= 0.65 and np.mean(strangers) <= 0.2, (named, strangers)


def test_one_student_is_refused_with_a_clear_message(orl):
    X, y = orl
    with pytest.raises(RecognizerError, match="at least 2 students"):
        Recognizer().fit(X[y == 1], y[y == 1])


def test_student_with_one_image_is_named(orl):
    X, y = orl
    keep = (y == 1) | (y == 2) | (np.arange(len(y)) == np.flatnonzero(y == 3)[0])
    with pytest.raises(RecognizerError, match="fewer than 2 usable images: 3"):
        Recognizer().fit(X[keep], y[keep])


def test_wrong_vector_size_and_bad_values_are_refused(open_set):
    rec, X, *_ = open_set
    with pytest.raises(RecognizerError, match=f"length {VECTOR_LENGTH}"):
        rec.predict(np.zeros((1, 100), np.float32))
    bad = X[:10].copy()
    bad[0, 0] = np.nan
    with pytest.raises(RecognizerError, match="NaN"):
        Recognizer().fit(bad, [1] * 5 + [2] * 5)
    with pytest.raises(RecognizerError, match="not trained"):
        Recognizer().predict(X[:1])


def test_save_and_load_give_the_same_answers(open_set, tmp_path):
    rec, X, *_ = open_set
    path = rec.save(tmp_path / "course_1" / "v1", metadata={"course_id": 1})
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["metadata"] == {"course_id": 1}
    assert meta["vector_length"] == VECTOR_LENGTH and len(meta["labels"]) == 30
    loaded = Recognizer.load(path)
    assert loaded.predict(X[:20]) == rec.predict(X[:20])
    assert not list(tmp_path.rglob("*.tmp"))


def test_load_refuses_tampered_or_foreign_files(open_set, tmp_path):
    rec, *_ = open_set
    path = rec.save(tmp_path / "v1")
    side = path.with_suffix(".json")
    meta = json.loads(side.read_text())
    meta["sklearn_version"] = "0.0"
    side.write_text(json.dumps(meta))
    with pytest.raises(RecognizerError, match="retrain"):
        Recognizer.load(path)
    path = rec.save(tmp_path / "v2")
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(RecognizerError, match="checksum"):
        Recognizer.load(path)
    with pytest.raises(RecognizerError, match="train the course first"):
        Recognizer.load(tmp_path / "missing")


def test_recognizer_records_its_feature_pipeline_and_refuses_another(orl, tmp_path):
    X, y = orl
    keep = y <= 5
    rec = Recognizer(feature_pipeline="pixels/2-aligned", calibrate=False).fit(X[keep], y[keep])
    path = rec.save(tmp_path / "v1")
    assert json.loads(path.with_suffix(".json").read_text())["feature_pipeline"] == "pixels/2-aligned"
    assert Recognizer.load(path, feature_pipeline="pixels/2-aligned").feature_pipeline == "pixels/2-aligned"
    with pytest.raises(RecognizerError, match=r"Retrain needed: .*'pixels/2-aligned'.* makes 'pixels/2-box'"):
        Recognizer.load(path, feature_pipeline="pixels/2-box")
    # Fitted by code that named no pipeline (scripts, tests): recorded as "", not checked.
    unnamed = Recognizer(calibrate=False).fit(X[keep], y[keep]).save(tmp_path / "v2")
    assert Recognizer.load(unnamed, feature_pipeline="pixels/2-box").feature_pipeline == ""


def test_recognizer_saved_before_pipelines_were_recorded_asks_for_a_retrain(orl, tmp_path):
    """Courses trained by the first build have sidecars with no pipeline: a message, not a crash."""
    X, y = orl
    keep = y <= 5
    path = Recognizer(calibrate=False).fit(X[keep], y[keep]).save(tmp_path / "v1")
    side = path.with_suffix(".json")
    meta = json.loads(side.read_text())
    del meta["feature_pipeline"]
    meta["vector_length"] = 16384  # what the pixels/1 vector was
    side.write_text(json.dumps(meta))
    with pytest.raises(RecognizerError, match=r"Retrain needed: .*'pixels/1'"):
        Recognizer.load(path, feature_pipeline="pixels/2-aligned")
    assert Recognizer.load(path).feature_pipeline == "pixels/1"  # without a check it still loads


def test_recognizer_saved_with_the_one_vs_one_svc_still_loads_and_predicts(orl, tmp_path):
    """Format 3 (before issue 16) pickled an SVC as `svm`: such files load and answer as before."""
    import joblib

    from app.vision.classifier import FisherCore
    from app.vision.files import sha256_of

    X, y = orl
    keep = y <= 6
    rec = Recognizer(classifier="svc").fit(X[keep], y[keep])
    path = rec.save(tmp_path / "v1")
    state = dict(rec.__dict__)
    del state["classifier"]  # not a parameter then
    old_core = FisherCore.__new__(FisherCore)
    old_core.__dict__ = {k: v for k, v in rec.core_.__dict__.items() if k not in ("classifier", "classes")}
    old_core.__dict__["svm"] = rec.core_.classifier
    state["core_"] = old_core
    joblib.dump(state, path)
    side = path.with_suffix(".json")
    meta = json.loads(side.read_text())
    meta.update(format_version=3, sha256=sha256_of(path))
    side.write_text(json.dumps(meta))
    loaded = Recognizer.load(path)
    assert loaded.classifier == "svc" and loaded.predict(X[:30]) == rec.predict(X[:30])
    meta["format_version"] = 2
    side.write_text(json.dumps(meta))
    with pytest.raises(RecognizerError, match="retrain"):
        Recognizer.load(path)


@pytest.mark.parametrize("classifier", ["ridge", "svc", "nearest"])
def test_every_classifier_names_held_out_faces(orl, classifier):
    X, y = orl
    rng = np.random.default_rng(3)
    train = _split(y, 5, rng)
    rec = Recognizer(classifier=classifier, calibrate=False).fit(X[train], y[train])
    labels, _ = rec.scores(X[~train])
    assert np.mean(labels == y[~train]) >= 0.9


def test_pca_fitted_on_a_subset_of_a_large_course_still_names_faces(orl):
    """Large courses fit the PCA basis on a random subset of rows (issue 16): the names stay right."""
    X, y = orl
    train = _split(y, 5, np.random.default_rng(4))
    rec = Recognizer(pca_max_rows=120, calibrate=False).fit(X[train], y[train])
    assert rec.report_.pca_components == 100
    labels, _ = rec.scores(X[~train])
    assert np.mean(labels == y[~train]) >= 0.9
