"""``kmbase worker``: running, stopping on SIGTERM, status, dead letters and re-driving, and
bad input that always ends with exit 2 and a message."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from kmbase_workflow.cli import app
from kmbase_workflow.delivery import Backoff, Consumer, Worker
from kmbase_workflow.stores import OutboxRecord, open_store
from kmbase_workflow.testing import sample_case, sample_change
from kmbase_workflow.workflow import Workflow
from webhook_receiver import SECRET, receiving
from worker_processes import start_worker

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'worker.db'}"
    with open_store(url) as store:
        for index in range(3):
            store.commit(sample_change(sample_case(f"c{index}"), None))
    return url


def _fail_first(db: str) -> None:
    """A consumer ``archive`` that gave up on the first event (a dead letter)."""

    def handle(record: OutboxRecord) -> None:
        if record.position == 1:
            raise RuntimeError("archive offline")

    worker = Worker(
        Workflow(open_store(db)),
        consumers=[Consumer("archive", handle)],
        backoff=Backoff(base=0, max_attempts=1),
        sweep=False,
    )
    worker.run(
        handle_signals=False,
        until=lambda: all(c.lag == 0 for c in worker.queue.status().consumers),
    )
    worker.workflow.close()


def test_status_dead_letters_and_redrive(db: str) -> None:
    _fail_first(db)
    status = runner.invoke(app, ["worker", "status", "--db", db, "--format", "json"])
    assert status.exit_code == 0, status.output
    data = json.loads(status.stdout)
    assert data["head"] == 3
    assert data["consumers"] == [
        {"name": "archive", "position": 3, "queued": 0, "dead": 1, "lag": 0}
    ]
    table = runner.invoke(app, ["worker", "status", "--db", db, "--lang", "en"])
    assert "archive" in table.stdout
    assert "last sweep: never" in table.stdout
    letters = runner.invoke(app, ["worker", "dead-letters", "--db", db, "--format", "json"])
    [letter] = json.loads(letters.stdout)
    assert letter["position"] == 1
    assert "archive offline" in letter["last_error"]
    wrong = runner.invoke(app, ["worker", "redrive", "archive", "--position", "2", "--db", db])
    assert wrong.exit_code == 2
    assert "不是" in wrong.stderr
    moved = runner.invoke(
        app, ["worker", "redrive", "archive", "--position", "1", "--db", db, "--lang", "en"]
    )
    assert moved.exit_code == 0
    assert moved.stdout.strip() == "1 re-driven"
    again = runner.invoke(app, ["worker", "status", "--db", db, "--format", "json"])
    assert json.loads(again.stdout)["consumers"][0]["queued"] == 1


def test_a_missing_database_is_bad_input(tmp_path: Path) -> None:
    for command in (["status"], ["dead-letters"], ["redrive", "x"], ["run"]):
        result = runner.invoke(
            app, ["worker", *command, "--db", f"sqlite:///{tmp_path / 'none.db'}"]
        )
        assert result.exit_code == 2, command
        assert result.stdout == ""


def test_webhooks_need_the_secret(db: str) -> None:
    result = runner.invoke(
        app,
        ["worker", "run", "--db", db, "--webhook", "portal=http://127.0.0.1:9/"],
        env={"KMBASE_WEBHOOK_SECRET": ""},
    )
    assert result.exit_code == 2
    assert "KMBASE_WEBHOOK_SECRET" in result.stderr


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--lease", "5"], "lease"),  # the default 10 s deadline would outlast the lease
        (["--timeout", "60", "--lease", "60"], "lease"),
        (["--timeout", "0"], "timeout"),
        (["--timeout", "nan"], "timeout"),
    ],
)
def test_a_webhook_deadline_is_positive_and_shorter_than_the_lease(
    db: str, options: list[str], expected: str
) -> None:
    result = runner.invoke(
        app,
        [
            "worker",
            "run",
            "--db",
            db,
            "--webhook",
            "portal=http://127.0.0.1:9/",
            "--lang",
            "en",
            *options,
        ],
        env={"KMBASE_WEBHOOK_SECRET": "s"},
    )
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert expected in result.stderr


def test_sigterm_stops_the_worker_cleanly(db: str, tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    with receiving() as receiver:
        worker = start_worker(
            db, "--webhook", f"portal={receiver.url}", "--no-sweep", "--poll", "0.05",
            secret=SECRET, log=log,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while len(receiver.ids()) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(timeout=60)
    assert code == 0, log.read_text()
    assert len(receiver.ids()) == 3
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert lines[-1]["event"] == "worker_stopped"  # structured logs, to the end
    path = db.removeprefix("sqlite:///")
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT COUNT(*) FROM delivery_queue").fetchone() == (0,)


_option = st.one_of(
    st.tuples(st.just("--webhook"), st.text(max_size=30)),
    st.tuples(st.just("--sweep-at"), st.text(max_size=10)),
    st.tuples(st.just("--poll"), st.sampled_from(["0", "-1", "0.5", "x", "nan", "inf"])),
    st.tuples(st.just("--lease"), st.sampled_from(["0", "-5", "5", "30", "1e400"])),
    st.tuples(st.just("--timeout"), st.sampled_from(["0", "-1", "0.5", "nan", "inf", "30"])),
    st.tuples(st.just("--batch"), st.sampled_from(["0", "-1", "10", "2.5"])),
    st.tuples(st.just("--max-attempts"), st.sampled_from(["0", "1", "-3"])),
    st.tuples(st.just("--log-format"), st.text(max_size=8)),
    st.tuples(st.just("--lang"), st.sampled_from(["zh", "en", "fr"])),
)


@given(options=st.lists(_option, max_size=4))
@settings(max_examples=40, deadline=None)
def test_worker_run_options_exit_with_a_documented_code(
    tmp_path_factory: pytest.TempPathFactory, options: list[tuple[str, str]]
) -> None:
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'w.db'}"
    open_store(url).close()
    flat = [part for option in options for part in option]
    original = Worker.run
    Worker.run = lambda self, **_: None  # type: ignore[method-assign]
    try:
        result = runner.invoke(
            app, ["worker", "run", "--db", url, *flat], env={"KMBASE_WEBHOOK_SECRET": "s"}
        )
    finally:
        Worker.run = original  # type: ignore[method-assign]
    assert result.exit_code in (0, 2), (flat, result.output, result.exception)
    if result.exit_code == 2:
        assert result.stdout == ""


@given(consumer=st.text(max_size=30), positions=st.lists(st.integers(-(2**70), 2**70), max_size=3))
@settings(max_examples=40, deadline=None)
def test_dead_letters_and_redrive_take_any_consumer_name(
    tmp_path_factory: pytest.TempPathFactory, consumer: str, positions: list[int]
) -> None:
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'w.db'}"
    open_store(url).close()
    flat = [part for position in positions for part in ("--position", str(position))]
    for command in (["dead-letters", consumer], ["redrive", consumer, *flat]):
        result = runner.invoke(app, ["worker", *command, "--db", url])
        assert result.exit_code in (0, 2), (command, result.output, result.exception)
