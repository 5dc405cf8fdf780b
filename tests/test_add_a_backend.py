"""docs/how-to/add-a-backend.md holds true: the backend it shows (docs/examples/tiny_store.py),
installed as a package is (its module and a ``.dist-info`` with the ``kmbase_workflow.stores``
entry point the page declares), is opened by its scheme and passes the contract of every
capability it has; delivery, the worker and its webhooks run on it as on the bundled stores.
"""

from __future__ import annotations

import re
import shutil
import textwrap
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from kmbase_workflow import Workflow
from kmbase_workflow.delivery import Consumer, DeliveryQueue, Worker
from kmbase_workflow.stores import (
    ENTRY_POINT_GROUP,
    CaseStore,
    DeliveryStore,
    OutboxRecord,
    TokenStore,
    WorkQueueStore,
    open_store,
    store_backends,
)
from kmbase_workflow.testing import StoreContract, WorkQueueContract, sample_case, sample_change
from kmbase_workflow.testing.capabilities import DeliveryContract, TokenContract

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "how-to" / "add-a-backend.md"
MODULE = ROOT / "docs" / "examples" / "tiny_store.py"


def _entry_points() -> str:
    """The page's ``[project.entry-points."kmbase_workflow.stores"]`` table, as a wheel's
    ``entry_points.txt`` holds it."""
    found = re.search(
        r'(\[project\.entry-points\."kmbase_workflow\.stores"\]\n.*?)\n\s*```',
        PAGE.read_text(encoding="utf-8"),
        re.S,
    )
    assert found, "the page declares no kmbase_workflow.stores entry point"
    table = tomllib.loads(textwrap.dedent("    " + found.group(1)))
    entries = table["project"]["entry-points"][ENTRY_POINT_GROUP]
    return "".join([f"[{ENTRY_POINT_GROUP}]\n", *(f"{k} = {v}\n" for k, v in entries.items())])


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The page's package installed in a folder on ``sys.path``, as pip would leave it."""
    folder = tmp_path_factory.mktemp("site")
    shutil.copy(MODULE, folder / "tiny_store.py")
    info = folder / "tiny_store-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: tiny-store\nVersion: 1.0\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(_entry_points(), encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(folder))
        store_backends.cache_clear()
        yield
    store_backends.cache_clear()


@pytest.mark.usefixtures("installed")
class TestTheBackendOfThePage(StoreContract, WorkQueueContract, TokenContract, DeliveryContract):
    def make_store(self) -> CaseStore:
        return open_store("tiny://cases")


@pytest.mark.usefixtures("installed")
def test_it_is_opened_by_its_scheme_with_every_capability_it_claims() -> None:
    assert "tiny" in store_backends()
    store = open_store("tiny://cases")
    assert type(store).__name__ == "TinyStore"
    for capability in (CaseStore, WorkQueueStore, TokenStore, DeliveryStore):
        assert isinstance(store, capability), capability.__name__


@pytest.mark.usefixtures("installed")
def test_the_worker_delivers_on_it() -> None:
    store = open_store("tiny://cases")
    store.commit(sample_change(sample_case("case-1"), None))
    store.commit(sample_change(sample_case("case-2"), None))
    seen: list[str] = []

    def handle(record: OutboxRecord) -> None:
        seen.append(record.event.case_id)

    worker = Worker(Workflow(store), consumers=[Consumer("portal", handle)], sweep=False)
    assert not worker.queue.notifies  # it polls
    worker.run(handle_signals=False, until=lambda: len(seen) >= 2)
    assert sorted(seen) == ["case-1", "case-2"]
    status = DeliveryQueue(store).status()
    assert [(c.name, c.lag) for c in status.consumers] == [("portal", 0)]
