"""Stores are chosen by URL scheme through the ``kmbase_workflow.stores`` entry points: a
third party's backend is opened exactly as the library's own are."""

from __future__ import annotations

import importlib
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from kmbase_workflow import Workflow
from kmbase_workflow.errors import InvalidInputError
from kmbase_workflow.stores import (
    _BUNDLED,
    ENTRY_POINT_GROUP,
    MemoryStore,
    open_store,
    store_backends,
)
from kmbase_workflow.stores.tokens import token_store
from kmbase_workflow.testing import sample_case, sample_change
from kmbase_workflow.testing.capabilities import CONTRACTS

ROOT = Path(__file__).resolve().parents[1]

_MODULE = '''
from kmbase_workflow.stores import MemoryStore


class ThirdPartyStore(MemoryStore):
    """A backend of another package (a memory store that remembers its URL)."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url


def open_url(url: str, *, create: bool = True) -> ThirdPartyStore:
    return ThirdPartyStore(url)
'''


def _install(folder: Path, name: str, entry_points: str, module: str | None) -> None:
    """A package installed in ``folder`` as pip would leave it: its module and its
    ``.dist-info`` with the entry points."""
    if module is not None:
        (folder / f"{name}.py").write_text(module, encoding="utf-8")
    info = folder / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name.replace('_', '-')}\nVersion: 1.0\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(entry_points, encoding="utf-8")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on ``sys.path`` to install packages into; the registry is read afresh."""
    monkeypatch.syspath_prepend(str(tmp_path))
    store_backends.cache_clear()
    yield tmp_path
    store_backends.cache_clear()


def test_a_third_party_backend_registered_by_entry_point_is_opened_by_its_scheme(
    site: Path,
) -> None:
    _install(
        site,
        "third_party_store",
        f"[{ENTRY_POINT_GROUP}]\nthirdparty = third_party_store:open_url\n"
        "sqlite = third_party_store:open_url\n",
        _MODULE,
    )
    assert "thirdparty" in store_backends()
    store = open_store("thirdparty://somewhere/cases")
    assert type(store).__name__ == "ThirdPartyStore"
    assert store.url == "thirdparty://somewhere/cases"  # type: ignore[attr-defined]
    # the workflow and the tokens take it as they take the library's own
    assert Workflow(store).store is store
    store.commit(sample_change(sample_case("case-1"), None))
    assert store.get("case-1").version == 1
    assert token_store(store).list() == []
    # no package takes over the library's own schemes
    assert type(open_store("sqlite://:memory:")).__name__ == "SQLiteStore"
    assert store_backends()["sqlite"].value == _BUNDLED["sqlite"]


def test_a_backend_whose_driver_is_missing_names_it_in_both_languages(site: Path) -> None:
    _install(site, "broken_store", f"[{ENTRY_POINT_GROUP}]\nbroken = broken_store:open_url\n", None)
    with pytest.raises(InvalidInputError) as info:
        open_store("broken://x")
    assert "broken_store" in info.value.describe("en")
    assert "未安装" in info.value.describe("zh")


def test_an_unknown_scheme_is_refused_listing_the_known_ones() -> None:
    with pytest.raises(InvalidInputError) as info:
        open_store("oracle://scott@db/cases")
    english, chinese = info.value.describe("en"), info.value.describe("zh")
    for scheme in ("memory://", "sqlite://", "postgresql://", "mysql://", "mariadb://"):
        assert scheme in english
        assert scheme in chinese
    assert "unsupported store URL" in english
    assert "不支持的存储地址" in chinese
    for url in ("no scheme at all", "memory", "sqlite:cases.db"):
        with pytest.raises(InvalidInputError):
            open_store(url)


def test_the_library_declares_its_own_backends_as_entry_points() -> None:
    # One list: pyproject.toml declares them; the fallback of a stale install is the same.
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert declared["project"]["entry-points"][ENTRY_POINT_GROUP] == _BUNDLED
    assert isinstance(open_store("memory://"), MemoryStore)


def test_a_bundled_backend_without_its_driver_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "pymysql", None)  # as if PyMySQL were not installed
    monkeypatch.delitem(sys.modules, "kmbase_workflow.stores.mysql", raising=False)
    with pytest.raises(InvalidInputError) as info:
        open_store("mysql://root@127.0.0.1/kmbase")
    assert "[mysql]" in info.value.describe("en")
    assert "pymysql" in info.value.describe("zh")


@pytest.mark.parametrize(
    ("module", "suite", "store"),
    [
        ("test_store_memory", "TestMemoryStore", "kmbase_workflow.stores.memory:MemoryStore"),
        ("test_store_sqlite", "TestSQLiteStore", "kmbase_workflow.stores.sqlite:SQLiteStore"),
        (
            "test_store_postgres",
            "TestPostgresStore",
            "kmbase_workflow.stores.postgres:PostgresStore",
        ),
        ("test_store_mysql", "TestMySQLStore", "kmbase_workflow.stores.mysql:MySQLStore"),
        ("test_add_a_backend", "TestTheBackendOfThePage", "tiny_store:TinyStore"),
    ],
)
def test_each_store_passes_the_contract_of_every_capability_it_has(
    module: str, suite: str, store: str
) -> None:
    if store.startswith("tiny_store"):
        sys.path.insert(0, str(ROOT / "docs" / "examples"))
    try:
        store_module, _, name = store.partition(":")
        cls = getattr(importlib.import_module(store_module), name)
    finally:
        if store.startswith("tiny_store"):
            sys.path.remove(str(ROOT / "docs" / "examples"))
    tests = getattr(importlib.import_module(module), suite)
    missing = [
        contract.__name__
        for protocol, contract in CONTRACTS.items()
        if issubclass(cls, protocol) and not issubclass(tests, contract)
    ]
    assert not missing, f"{module}.{suite}: mix in {missing}"
