"""Browser fixtures: the real app served on 127.0.0.1, a mail sink, headless Debian Chromium."""
from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest
from conftest import DATASETS, DETECTOR_DIR, test_config
from live_media import MailSink

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 60_000
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"

# Applied to every test in this folder: skip with a reason rather than fail when a prerequisite is absent.
PREREQUISITES = [
    (not CHROMIUM.is_file(), f"{CHROMIUM} not found: `make test` installs Debian's chromium (root with apt)"),
    (not DATASETS.is_dir(), f"face datasets not found at {DATASETS} (../shared is absent)"),
    (not (DETECTOR_DIR / "res10_300x300_ssd_iter_140000.caffemodel").is_file(),
     "detector weights missing: run `make test` (it fetches them)"),
]


def pytest_collection_modifyitems(config, items):  # noqa: ANN001
    """Skip this folder's tests (with the first missing prerequisite as reason) when something is absent."""
    reasons = [reason for missing, reason in PREREQUISITES if missing]
    if not reasons:
        return
    here = Path(__file__).resolve().parent
    for item in items:
        if item.path.resolve().is_relative_to(here):
            item.add_marker(pytest.mark.skip(reason=reasons[0]))


class LiveServer:
    """The app served by werkzeug's threaded server in a background thread on a free port."""

    def __init__(self, app) -> None:  # noqa: ANN001
        from werkzeug.serving import make_server

        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="e2e-server", daemon=True)

    def start(self) -> "LiveServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


@pytest.fixture(scope="module")
def mail_sink():
    """An aiosmtpd server on 127.0.0.1 (a free port picked by MailSink) that keeps every message."""
    sink = MailSink().start()
    yield sink
    sink.stop()


@pytest.fixture(scope="module")
def e2e_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("e2e")


@pytest.fixture(scope="module")
def live_server(e2e_dir, mail_sink):
    """Rollcall as a teacher gets it: CSRF on, background runner, recorder and outbox sender running."""
    from app import create_app, db
    from app.attendance.camera_service import camera_service
    from app.background import start_background
    from app.database import upgrade_database
    from config import Config

    (e2e_dir / "videos").mkdir(exist_ok=True)
    app = create_app(Config, test_config(
        e2e_dir, WTF_CSRF_ENABLED=True, START_BACKGROUND=True, TESTING=False,
        # Every frame analysed and videos read as fast as they decode: the run does not depend on CPU speed.
        CAMERA_DETECT_EVERY=1, CAMERA_VIDEO_REALTIME=False, **mail_sink.config()))
    upgrade_database(app)
    start_background(app)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = LiveServer(app).start()
    yield server
    server.stop()
    background = app.extensions.get("background")
    if background is not None:
        background.stop()
    camera_service(app).stop_all()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless (never a Playwright-downloaded build)."""
    from playwright.sync_api import expect, sync_playwright

    # Assertions wait this long (background training and the camera share 2 busy cores); pages time out alike.
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def shot():
    """shot(page_or_locator, name): a PNG (whole page, or one element) under tests/e2e/screenshots/ (git-ignored)."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(target, name: str) -> Path:  # noqa: ANN001
        path = SCREENSHOTS / f"{name}.png"
        if hasattr(target, "goto"):
            target.screenshot(path=str(path), full_page=True)
        else:
            target.screenshot(path=str(path))
        return path

    return take
