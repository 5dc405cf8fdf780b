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
    ``failing``: answer 503 while true; ``bad_signatures`` counts refused requests.

    The ways real receivers misbehave, each off by default:

    - ``redirect``: answer every POST with this status (301, 302, 303, 307, 308) and a
      ``Location`` on the same server, which answers a GET with 200 (``followed`` counts them);
    - ``hold``: an event each POST waits on before it is answered (a hanging endpoint;
      ``holding`` is released once per request that waits);
    - ``trickle``: answer one byte every so many seconds (a slow-loris receiver); ``cut`` is
      set when the client hangs up before the answer is complete.

    ``connections`` counts the connections the client opened, ``open`` those not yet closed
    (``receiving(keep_alive=True)`` keeps a connection open across requests, as HTTP/1.1
    servers do)."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str, int, float]] = []
        self.failing = False
        self.refused = 0
        self.bad_signatures = 0
        self.redirect: int | None = None
        self.followed = 0
        self.hold: threading.Event | None = None
        self.holding = threading.Semaphore(0)
        self.trickle: float | None = None
        self.cut = threading.Event()
        self.connections = 0
        self.open = 0
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        self.url = ""

    def ids(self) -> set[str]:
        """The ids of the events received (at least once)."""
        with self.lock:
            return {received[0] for received in self.received}

    def wait_for(self, ids: set[str], timeout: float = 60.0) -> bool:
        """Wait until every event of ``ids`` was received (false if ``timeout`` passed first)."""
        with self.arrived:
            return self.arrived.wait_for(
                lambda: ids <= {received[0] for received in self.received}, timeout
            )

    def wait_closed(self, timeout: float = 60.0) -> bool:
        """Wait until every connection was closed (false if ``timeout`` passed first)."""
        with self.arrived:
            return self.arrived.wait_for(lambda: self.open == 0, timeout)


@contextmanager
def receiving(*, keep_alive: bool = False) -> Iterator[Receiver]:
    """A receiver on a free port of 127.0.0.1, stopped when the block ends; with
    ``keep_alive``, an HTTP/1.1 server (else HTTP/1.0: one request a connection)."""
    receiver = Receiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

        def setup(self) -> None:
            super().setup()
            with receiver.lock:
                receiver.connections += 1
                receiver.open += 1

        def finish(self) -> None:
            super().finish()
            with receiver.lock:
                receiver.open -= 1
                receiver.arrived.notify_all()

        def do_GET(self) -> None:
            with receiver.lock:
                receiver.followed += 1
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if receiver.hold is not None:
                receiver.holding.release()
                receiver.hold.wait()
            if receiver.trickle is not None:
                self._trickle(receiver.trickle)
                return
            if receiver.redirect is not None:
                self.send_response(receiver.redirect)
                self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "0")
            elif not verify(SECRET, dict(self.headers.items()), body):
                with receiver.lock:
                    receiver.bad_signatures += 1
                self.send_response(401)
                self.send_header("Content-Length", "0")
            elif receiver.failing:
                with receiver.lock:
                    receiver.refused += 1
                self.send_response(503)
                self.send_header("Content-Length", "0")
            else:
                data: dict[str, Any] = json.loads(body)
                with receiver.lock:
                    event = data["event"]
                    receiver.received.append(
                        (event["id"], event["case_id"], int(data["position"]), time.perf_counter())
                    )
                    receiver.arrived.notify_all()
                self.send_response(204)
            self.end_headers()

        def _trickle(self, every: float) -> None:
            answer = b"HTTP/1.1 204 No Content\r\nX-Padding: " + b"." * 200 + b"\r\n\r\n"
            try:
                for index in range(len(answer)):
                    self.wfile.write(answer[index : index + 1])
                    self.wfile.flush()
                    time.sleep(every)
            except OSError:  # the client hung up before the whole answer came
                receiver.cut.set()
            self.close_connection = True

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
