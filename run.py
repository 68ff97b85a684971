"""Entry point: `flask --app run ...` for commands, `python run.py` to serve Rollcall with waitress."""
import logging
import os

# Everything this process creates (database, faces, snapshots, recognizers, uploads) is owner-only.
os.umask(0o077)

from app import create_app  # noqa: E402  (after the umask, so folders made at start-up get it too)
from app.background import start_background  # noqa: E402

app = create_app()

if __name__ == "__main__":
    from waitress import serve

    from flask.logging import default_handler

    from app.retention import RetentionSweeper

    # Our package is also called "app", so Flask's own handler would print every app.* record twice.
    app.logger.removeHandler(default_handler)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    start_background(app)
    # Orphans and expired snapshots/videos: swept now (after interrupted sessions were closed) and daily.
    RetentionSweeper(app).start()
    # MJPEG viewers each hold a thread for as long as they watch (capped per session and teacher); 16+
    # keeps the rest of the app responsive.
    threads = max(16, int(os.environ.get("WAITRESS_THREADS", 16)))
    logging.getLogger(__name__).info("serving on %s:%s with %d threads", os.environ.get("HOST", "127.0.0.1"),
                                     os.environ.get("PORT", 5000), threads)
    serve(app, host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", 5000)), threads=threads)
