"""Entry point: `flask --app run ...` for commands, `python run.py` to serve Rollcall with waitress."""
import os

# Everything this process creates (database, faces, snapshots, recognizers, uploads) is owner-only.
os.umask(0o077)

from app import create_app  # noqa: E402  (after the umask, so folders made at start-up get it too)

app = create_app()

if __name__ == "__main__":
    from app.serving import configure_logging, serve

    configure_logging(app)
    # MJPEG viewers each hold a thread for as long as they watch (capped per session and teacher); 16+
    # keeps the rest of the app responsive.
    threads = max(16, int(os.environ.get("WAITRESS_THREADS", 16)))
    serve(app, os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", 5000)), threads)
