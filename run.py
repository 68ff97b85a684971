"""Entry point: `flask --app run ...` for commands, `python run.py` to serve Rollcall with waitress."""
import os

# Everything this process creates (database, faces, snapshots, recognizers, uploads) is owner-only.
os.umask(0o077)

from app import create_app  # noqa: E402  (after the umask, so folders made at start-up get it too)

app = create_app()

if __name__ == "__main__":
    from app.serving import configure_logging, serve, server_threads

    configure_logging(app)
    serve(app, app.config["SERVER_HOST"], app.config["SERVER_PORT"], server_threads(app.config))
