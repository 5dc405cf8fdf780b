"""The flat public API: what ``from kmbase_workflow import *`` promises."""

from __future__ import annotations

import importlib

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
