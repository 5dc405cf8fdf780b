"""A webhook receiver for the delivery tests and the bench: a local HTTP server in a thread
that checks each request's signature and remembers what it received."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kmbase_workflow.delivery import verify

SECRET = "test-secret"


class Receiver:
    """What the server received: ``received`` (event id, case id, position, arrival time) in
    order;
    ``failing``: answer 503 while true; ``bad_signatures`` counts refused requests."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str, int, float]] = []
        self.failing = False
        self.refused = 0
        self.bad_signatures = 0
        self.lock = threading.Lock()
        self.url = ""

    def ids(self) -> set[str]:
        """The ids of the events received (at least once)."""
        with self.lock:
            return {received[0] for received in self.received}


@contextmanager
def receiving() -> Iterator[Receiver]:
    """A receiver on a free port of 127.0.0.1, stopped when the block ends."""
    receiver = Receiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if not verify(SECRET, dict(self.headers.items()), body):
                with receiver.lock:
                    receiver.bad_signatures += 1
                self.send_response(401)
            elif receiver.failing:
                with receiver.lock:
                    receiver.refused += 1
                self.send_response(503)
            else:
                data: dict[str, Any] = json.loads(body)
                with receiver.lock:
                    event = data["event"]
                    receiver.received.append(
                        (event["id"], event["case_id"], int(data["position"]), time.perf_counter())
                    )
                self.send_response(204)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_port}/hooks"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
