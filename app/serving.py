"""Serving a web process: the background owner around waitress, stopped in order on SIGTERM/SIGINT."""
from __future__ import annotations

import logging
import os
import signal
import socket
from types import FrameType

from flask import Flask

from .background import DRAIN_SECONDS, start_background

log = logging.getLogger(__name__)


def _exit_on_signal(signum: int, _frame: FrameType | None) -> None:
    """Turn SIGTERM into SystemExit in the main thread: waitress's loop ends and `finally` stops the owner."""
    log.info("%s received: stopping", signal.Signals(signum).name)
    raise SystemExit(0)


def configure_logging(app: Flask) -> None:
    """INFO logs to stderr for a long-running process (web, job worker, camera worker), each record once."""
    from flask.logging import default_handler

    # Our package is also called "app", so Flask's own handler would print every app.* record twice.
    app.logger.removeHandler(default_handler)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def install_signal_handlers() -> None:
    """SIGTERM (systemd, docker stop) and SIGINT (Ctrl-C) both stop cleanly."""
    signal.signal(signal.SIGTERM, _exit_on_signal)
    signal.signal(signal.SIGINT, _exit_on_signal)


def serve(app: Flask, host: str, port: int, threads: int) -> None:
    """Start the background owner, serve until a signal, then stop every thread in order (draining)."""
    from waitress import serve as waitress_serve

    install_signal_handlers()
    background = start_background(app, sweeper=True)
    try:
        listen_fd = os.environ.get("ROLLCALL_LISTEN_FD")
        if listen_fd:
            # A socket bound once by the supervisor (deploy/run_school.py) and shared by every web
            # process: the kernel hands each new connection to one of them, so they serve one port.
            sock = socket.socket(fileno=int(listen_fd))
            log.info("serving on %s:%s (shared) with %d threads (pid %d)", *sock.getsockname()[:2], threads,
                     os.getpid())
            waitress_serve(app, sockets=[sock], threads=threads)
        else:
            log.info("serving on %s:%s with %d threads (pid %d)", host, port, threads, os.getpid())
            waitress_serve(app, host=host, port=port, threads=threads)
    finally:
        # A second signal during the drain must not cut it short.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if background is not None:
            background.stop(float(app.config.get("SHUTDOWN_DRAIN_SECONDS", DRAIN_SECONDS)))
            log.info("stopped: %s", ", ".join(background.stopped) or "nothing ran")
