"""The app served for real on 127.0.0.1 by waitress (as `make run` serves it), in a background thread."""
from __future__ import annotations

import http.client
import threading
import time
from urllib.parse import urlencode

from waitress import create_server


class Served:
    """waitress with a fixed number of worker threads (16, like run.py) on a free port."""

    def __init__(self, app, threads: int = 16) -> None:  # noqa: ANN001
        self.server = create_server(app, host="127.0.0.1", port=0, threads=threads, channel_timeout=30)
        self.port = self.server.effective_port
        self.stopping = False
        self.thread = threading.Thread(target=self._run, name="security-server", daemon=True)

    def _run(self) -> None:
        try:
            self.server.run()
        except OSError:
            if not self.stopping:  # closing the sockets under the poll loop is how it stops
                raise

    def __enter__(self) -> "Served":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:  # noqa: ANN002
        self.stopping = True
        self.server.task_dispatcher.shutdown()  # let running requests finish before the sockets close
        for channel in list(self.server._map.values()):
            channel.close()  # the poll loop ends when its map is empty
        self.thread.join(5)
        self.thread.join(10)

    def request(self, method: str, path: str, form: dict | None = None, headers: dict | None = None,
                source: str = "127.0.0.1", timeout: float = 60.0) -> tuple[int, dict, bytes, float]:
        """(status, headers, body, seconds) of one request, from a chosen loopback source address."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout, source_address=(source, 0))
        body = urlencode(form) if form is not None else None
        hdrs = {"Content-Type": "application/x-www-form-urlencoded"} if form is not None else {}
        hdrs.update(headers or {})
        start = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=hdrs)
            response = conn.getresponse()
            data = response.read()
            return response.status, dict(response.getheaders()), data, time.perf_counter() - start
        finally:
            conn.close()
