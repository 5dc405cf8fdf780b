"""The flat public API: what ``from kmbase_workflow import *`` promises."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

import kmbase_workflow
from kmbase_workflow import errors


def test_all_is_sorted_and_unique() -> None:
    names = kmbase_workflow.__all__

    # isort style, as ruff's RUF022 keeps it: CONSTANTS, then Classes, then functions.
    def kind(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert names == sorted(names, key=kind)
    assert len(names) == len(set(names))


def test_every_public_name_exists_and_is_documented() -> None:
    for name in kmbase_workflow.__all__:
        value = getattr(kmbase_workflow, name)
        if callable(value) and name != "Lang":  # Lang is a typing alias
            assert value.__doc__, f"{name} has no docstring"


def test_submodules_declare_their_public_names() -> None:
    for module_name in ("records", "eligibility", "serialization", "errors", "policy"):
        module = importlib.import_module(f"kmbase_workflow.{module_name}")
        for name in module.__all__:
            assert hasattr(module, name), f"{module_name}.{name} is listed but missing"


def test_every_error_derives_from_the_one_root() -> None:
    for name in errors.__all__:
        error = getattr(errors, name)
        assert issubclass(error, kmbase_workflow.KmbaseError)


def test_the_error_tree_in_the_docstring_names_every_error() -> None:
    for name in errors.__all__:
        assert name in (errors.__doc__ or ""), f"{name} missing from the error tree drawing"


def test_the_version_is_the_project_s() -> None:
    """``__version__`` comes from the installed distribution (or, from a checkout that is
    not installed, from pyproject.toml): the two never disagree."""
    import tomllib

    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    assert kmbase_workflow.__version__ == project["version"] == "0.1.0"


DOCS = Path(__file__).resolve().parents[1] / "docs"
PRIVATE_IMPORT = re.compile(r"kmbase_workflow(?:\.\w+)*\._\w+|from \.+_\w+ import")


def _documents() -> list[Path]:
    return sorted([*DOCS.rglob("*.md"), *DOCS.rglob("*.ipynb"), DOCS.parent / "README.md"])


@pytest.mark.parametrize("page", _documents(), ids=lambda path: path.name)
def test_the_docs_use_only_public_modules(page: Path) -> None:
    """A reader copies what the docs import; a private module may change without notice."""
    text = page.read_text(encoding="utf-8")
    private = [m.group() for m in PRIVATE_IMPORT.finditer(text) if "__" not in m.group()]
    assert not private, f"{page.name} uses private modules: {private}"


def _flat_modules() -> list[str]:
    text = (DOCS / "reference.md").read_text(encoding="utf-8")
    claim = re.search(
        r"These modules' public names\s+can all be imported from `kmbase_workflow` "
        r"directly:(.*?)\.\s",
        text,
        re.DOTALL,
    )
    assert claim, "docs/reference.md no longer says which modules are flat"
    return re.findall(r"`(\w+)`", claim.group(1))


def test_the_reference_names_the_modules_it_calls_flat() -> None:
    assert _flat_modules() == [
        "records",
        "eligibility",
        "errors",
        "clock",
        "case",
        "actors",
        "workflow",
    ]


@pytest.mark.parametrize("module_name", _flat_modules())
def test_what_the_reference_calls_flat_is_importable_from_the_top(module_name: str) -> None:
    module = importlib.import_module(f"kmbase_workflow.{module_name}")
    missing = [name for name in module.__all__ if name not in kmbase_workflow.__all__]
    assert not missing, f"docs/reference.md says {module_name} is flat; import {missing}"
    for name in module.__all__:
        assert getattr(kmbase_workflow, name) is getattr(module, name)


def test_the_top_level_names_are_the_modules_names() -> None:
    """Each top-level name is the object of a documented module (or the notebook HTML of
    docs/simulation.md), never a copy."""
    html = {"case_html", "deadline_html", "finding_html", "verdict_html", "Lang", "Text"}
    text = (DOCS / "reference.md").read_text(encoding="utf-8")
    documented = re.findall(r"^::: kmbase_workflow\.([\w.]+)$", text, re.MULTILINE)
    homes = {
        name
        for module in documented
        for name in importlib.import_module(f"kmbase_workflow.{module}").__all__
    }
    orphans = [name for name in kmbase_workflow.__all__ if name not in homes | html]
    assert not orphans, f"top-level names no section of docs/reference.md documents: {orphans}"
