"""Running the alterations on a backend: `run_tamper`, `run_tamper_suite` and the pytest
suite `TamperSuite`, and what each tamper came to (`Outcome`)."""

from __future__ import annotations

import enum
from collections.abc import Callable

import attrs
import pytest

from ...audit import verify_store
from ...errors import KmbaseError
from ...stores import CaseStore
from ._alterations import TAMPERS, Tamper
from ._databases import Database
from ._scenario import TAMPER_KEY, _scenario

_REFUSALS = ("append-only", "written once")


class Outcome(enum.Enum):
    """What became of a tamper."""

    PREVENTED = "prevented"
    DETECTED = "detected"
    DETECTED_BY_CHECKPOINT = "detected_by_checkpoint"
    PASSED = "passed"


@attrs.frozen
class TamperResult:
    """One tamper's outcome, and what each mode of verification found."""

    tamper: str
    outcome: Outcome
    plain: bool
    """Plain verification found it."""
    with_checkpoint: bool
    """Verification against the checkpoint found it."""
    findings: tuple[str, ...] = ()


@attrs.frozen
class TamperReport:
    """Every tamper's result on one backend."""

    dialect: str
    results: tuple[TamperResult, ...]

    def counts(self) -> dict[str, int]:
        """How many tampers ended in each outcome."""
        return {
            outcome.value: sum(1 for r in self.results if r.outcome is outcome)
            for outcome in Outcome
        }

    def summary(self) -> str:
        """One line: ``sqlite: 36 tampers: 12 prevented, 20 detected, 4 …``."""
        counts = self.counts()
        parts = ", ".join(f"{counts[o.value]} {o.value}" for o in Outcome)
        return f"{self.dialect}: {len(self.results)} tampers: {parts}"


def _refused(error: Exception) -> bool:
    return any(word in str(error) for word in _REFUSALS)


def run_tamper(
    tamper: Tamper, store: CaseStore, db: Database, *, check_clean: bool = True
) -> TamperResult:
    """Apply one tamper to a fresh ``store`` (reached raw through ``db``) and verify it
    against the checkpoint taken before (plain findings are those of every kind but
    ``checkpoint``). ``check_clean`` first proves the untouched store verifies."""
    scenario = _scenario(store, db)
    if check_clean:
        clean = verify_store(store, scenario.checkpoint, TAMPER_KEY)
        if not clean.ok:
            raise AssertionError(
                "the untouched database does not verify: "
                + "; ".join(f.problem.en for f in clean.findings)
            )
    if tamper.dba:
        db.drop_guards()
    try:
        shown = tamper.apply(scenario) or scenario.checkpoint
    except Exception as error:  # the driver's error: a refusal, or a broken tamper
        if _refused(error):
            return TamperResult(tamper.name, Outcome.PREVENTED, False, False, (str(error),))
        raise
    try:
        report = verify_store(store, shown, TAMPER_KEY)
    except KmbaseError as error:  # the store could not even read itself: detected
        return TamperResult(tamper.name, Outcome.DETECTED, True, True, (error.message.en,))
    plain = [f for f in report.findings if f.kind != "checkpoint"]
    if plain:
        outcome = Outcome.DETECTED
    elif report.findings:
        outcome = Outcome.DETECTED_BY_CHECKPOINT
    else:
        outcome = Outcome.PASSED
    found = tuple(f.problem.en for f in report.findings)
    return TamperResult(tamper.name, outcome, bool(plain), bool(report.findings), found)


def tampers_for(dialect: str) -> tuple[Tamper, ...]:
    """The tampers that apply to a dialect."""
    return tuple(t for t in TAMPERS if dialect in t.dialects)


RECORDED: dict[tuple[str, str], TamperResult] = {}
"""Results of the tampers `TamperSuite` ran in this process, by (dialect, tamper)."""


def run_tamper_suite(
    make_store: Callable[[], CaseStore],
    database: Callable[[CaseStore], Database],
    dialect: str,
    *,
    reuse: bool = True,
) -> TamperReport:
    """Run every tamper of ``dialect``, each on a fresh store, and count the outcomes
    (``reuse``: take the results `TamperSuite` already recorded in this process)."""
    results = []
    for tamper in tampers_for(dialect):
        if reuse and (dialect, tamper.name) in RECORDED:
            results.append(RECORDED[dialect, tamper.name])
            continue
        store = make_store()
        db = database(store)
        try:
            results.append(run_tamper(tamper, store, db))
        finally:
            db.close()
            store.close()
    return TamperReport(dialect, tuple(results))


class TamperSuite:
    """The tamper suite as pytest tests: subclass it, set ``dialect`` and implement
    `make_store` (a fresh, empty store) and `database` (raw access to it)."""

    dialect: str = "sqlite"

    def make_store(self) -> CaseStore:
        """A fresh, empty store of the backend under test."""
        raise NotImplementedError

    def database(self, store: CaseStore) -> Database:
        """Raw access to ``store``'s database."""
        raise NotImplementedError

    @pytest.mark.parametrize("tamper", TAMPERS, ids=[t.name for t in TAMPERS])
    def test_tampering_is_prevented_or_detected(self, tamper: Tamper) -> None:
        """Each alteration is refused by the database or found by verification."""
        if self.dialect not in tamper.dialects:
            pytest.skip(f"{tamper.name} does not apply to {self.dialect}")
        store = self.make_store()
        db = self.database(store)
        try:
            result = run_tamper(tamper, store, db)
        finally:
            db.close()
            store.close()
        RECORDED[self.dialect, tamper.name] = result
        assert result.outcome is not Outcome.PASSED, (
            f"{tamper.name} ({tamper.description.en}) passed verification"
        )
