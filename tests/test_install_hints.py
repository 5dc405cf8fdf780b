"""What the library says about installing it is true (issue 22).

kmbase-workflow is on no public package index: ``pip install 'kmbase-workflow[postgres]'``
fails, and where a public index is reachable it would install whatever someone registered
under that name. So no page and no message says it; each missing extra is told with one
hint, `install_hint`, naming the extra and where the library comes from (a checkout, a
built wheel, its repository); and every extra that a documented module needs exists,
``testing`` (pytest) included.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kmbase_workflow.errors import InvalidInputError, install_hint

ROOT = Path(__file__).resolve().parents[1]
EXTRAS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
    "optional-dependencies"
]
FROM_AN_INDEX = re.compile(
    r"pip install\s+(?:-\S+\s+)*[\"']?kmbase[-_]workflow(?![\w/\\-])(?![^\n\"']*\s@\s)",
    re.IGNORECASE,
)
"""``pip install kmbase-workflow…`` by name, as if from an index (a PEP 508 direct
reference, ``kmbase-workflow[postgres] @ git+https://…``, says where it comes from)."""


def _texts() -> list[Path]:
    here = Path(__file__).resolve()
    files = [ROOT / "README.md", ROOT / "noxfile.py", ROOT / "pyproject.toml"]
    for folder, patterns in (
        ("docs", ("*.md", "*.py", "*.ipynb")),
        ("src", ("*.py",)),
        ("tests", ("*.py",)),
        ("tools", ("*.py",)),
    ):
        for pattern in patterns:
            files.extend(path for path in (ROOT / folder).rglob(pattern) if path != here)
    return files


def test_the_pattern_finds_what_it_should() -> None:
    assert FROM_AN_INDEX.search("pip install 'kmbase-workflow[excel]'")
    assert FROM_AN_INDEX.search('python -m pip install "kmbase_workflow[notebook]"')
    assert not FROM_AN_INDEX.search('pip install "kmbase-workflow[postgres] @ git+https://x/y.git"')
    assert not FROM_AN_INDEX.search('pip install "./kmbase_workflow[postgres]"')
    assert not FROM_AN_INDEX.search("pip install kmbase_workflow/dist/kmbase_workflow-*.whl")


def test_no_page_or_message_installs_the_library_from_an_index() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _texts()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if FROM_AN_INDEX.search(line)
    ]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("extra", sorted(EXTRAS))
def test_the_hint_names_the_extra_and_where_the_library_comes_from(extra: str) -> None:
    hint = install_hint(extra)
    for text in (hint.zh, hint.en):
        assert f"[{extra}]" in text
        assert not FROM_AN_INDEX.search(text)
    assert "checkout" in hint.en
    assert "wheel" in hint.en
    assert "源码" in hint.zh


def _hint_of(error: BaseException) -> str:
    assert isinstance(error, InvalidInputError), error
    assert error.hint is not None
    return str(error.hint)


def test_a_missing_postgres_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    from kmbase_workflow.stores import open_store

    monkeypatch.setitem(sys.modules, "psycopg", None)
    monkeypatch.delitem(sys.modules, "kmbase_workflow.stores.postgres", raising=False)
    with pytest.raises(InvalidInputError) as caught:
        open_store("postgresql://nobody@127.0.0.1:1/none")
    assert _hint_of(caught.value) == str(install_hint("postgres"))


@pytest.mark.parametrize(("scheme", "module", "extra"), [("redis", "redis", "redis")])
def test_a_missing_broker_driver(
    monkeypatch: pytest.MonkeyPatch, scheme: str, module: str, extra: str
) -> None:
    from kmbase_workflow.bridges import open_sink

    monkeypatch.setitem(sys.modules, module, None)
    monkeypatch.delitem(sys.modules, f"kmbase_workflow.bridges.{module}", raising=False)
    with pytest.raises(InvalidInputError) as caught:
        open_sink(f"{scheme}://127.0.0.1:1/0")
    assert _hint_of(caught.value) == str(install_hint(extra))


def test_a_missing_openpyxl(monkeypatch: pytest.MonkeyPatch) -> None:
    from kmbase_workflow.exports._cells import openpyxl_module

    monkeypatch.setitem(sys.modules, "openpyxl", None)
    with pytest.raises(InvalidInputError) as caught:
        openpyxl_module()
    assert str(install_hint("excel").zh) in _hint_of(caught.value)
    assert ".csv" in _hint_of(caught.value)


def test_a_missing_metrics_client(monkeypatch: pytest.MonkeyPatch) -> None:
    from kmbase_workflow.delivery.worker import Metrics

    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    with pytest.raises(InvalidInputError) as caught:
        Metrics()
    assert _hint_of(caught.value) == str(install_hint("metrics"))


def test_a_missing_service_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from kmbase_workflow.cli import app

    monkeypatch.setitem(sys.modules, "uvicorn", None)
    result = CliRunner().invoke(app, ["serve", "--lang", "en"])
    assert result.exit_code == 2, result.output
    assert install_hint("service").en in " ".join(result.output.split())


def test_a_missing_notebook_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from kmbase_workflow.simulation._deps import _optional

    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError) as caught:
        _optional("pandas")
    assert install_hint("notebook").en in str(caught.value)


def test_the_testing_helpers_have_their_extra() -> None:
    """``kmbase_workflow.testing`` runs under pytest: the ``testing`` extra installs it."""
    assert any(requirement.startswith("pytest") for requirement in EXTRAS["testing"])


def test_without_pytest_the_testing_helpers_say_which_extra() -> None:
    code = (
        "import sys; sys.modules['pytest'] = None\n"
        "try:\n    import kmbase_workflow.testing\n"
        "except ImportError as error:\n    print(error)\n"
        "else:\n    print('imported')\n"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert install_hint("testing").en in shown
