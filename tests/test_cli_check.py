"""``kmbase check`` as scripts use it: exit codes, JSON contract, messages on stderr."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import attrs
import pytest
from typer.testing import CliRunner

from kmbase_workflow.cli import app
from kmbase_workflow.examples import eligible_application, ineligible_application
from kmbase_workflow.serialization import dumps_json

runner = CliRunner()


@pytest.fixture
def eligible_file(tmp_path: Path) -> Path:
    path = tmp_path / "eligible.json"
    path.write_text(dumps_json(eligible_application()), encoding="utf-8")
    return path


@pytest.fixture
def ineligible_file(tmp_path: Path) -> Path:
    path = tmp_path / "ineligible.json"
    path.write_text(dumps_json(ineligible_application()), encoding="utf-8")
    return path


def test_eligible_exits_0_with_a_table(eligible_file: Path) -> None:
    result = runner.invoke(app, ["check", str(eligible_file), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "eligible" in result.stdout
    assert "Art. 6(3)" in result.stdout


def test_ineligible_exits_1(ineligible_file: Path) -> None:
    result = runner.invoke(app, ["check", str(ineligible_file)])
    assert result.exit_code == 1
    assert "不符合" in result.stdout


def test_json_output_follows_the_contract(ineligible_file: Path) -> None:
    result = runner.invoke(app, ["check", str(ineligible_file), "--format", "json", "--lang", "en"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["eligible"] is False
    assert data["policy"] == "kunming-2022"
    assert data["findings"]
    for finding in data["findings"]:
        assert {"rule", "article", "status", "required", "actual", "message"} <= finding.keys()
        assert finding["status"] in {"pass", "fail", "not_assessable"}
    statuses = {finding["rule"]: finding["status"] for finding in data["findings"]}
    assert statuses["resident_enterprises"] == "fail"
    assert statuses["good_credit"] == "not_assessable"  # declared without evidence


def test_invalid_input_exits_2_with_the_message_on_stderr_only(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"base": {"name": "x"}}', encoding="utf-8")
    result = runner.invoke(app, ["check", str(bad), "--lang", "en"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "base.district: required field missing" in result.stderr


@pytest.mark.parametrize("flag", [["--json"], ["--format", "json"]])
def test_invalid_input_with_json_is_an_error_object_on_stdout(
    tmp_path: Path, flag: list[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"base": {"name": "x"}}', encoding="utf-8")
    result = runner.invoke(app, ["check", str(bad), *flag, "--lang", "en"])
    assert result.exit_code == 2
    assert result.stderr == ""
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "application_format"
    assert error["exit_code"] == 2
    assert "base.district: required field missing" in error["message"]["en"]
    assert "base.district：缺少必填字段" in error["message"]["zh"]
    assert {"zh": "base.district：缺少必填字段", "en": "base.district: required field missing"} in (
        error["problems"]
    )


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", str(tmp_path / "absent.json"), "--lang", "en"])
    assert result.exit_code == 2
    assert "cannot read" in result.stderr


def test_unknown_language_exits_2(eligible_file: Path) -> None:
    result = runner.invoke(app, ["check", str(eligible_file), "--lang", "fr"])
    assert result.exit_code == 2
    assert "unsupported language fr" in result.stderr


def test_own_policy_file_is_used(eligible_file: Path, tmp_path: Path) -> None:
    source = Path(__file__).parents[1] / "src/kmbase_workflow/policy/data/kunming_2022.toml"
    stricter = tmp_path / "stricter.toml"
    stricter.write_text(
        source.read_text(encoding="utf-8").replace("required = 40\n", "required = 400\n"),
        encoding="utf-8",
    )
    result = runner.invoke(
        app, ["check", str(eligible_file), "--policy", str(stricter), "--format", "json"]
    )
    assert result.exit_code == 1
    statuses = {f["rule"]: f["status"] for f in json.loads(result.stdout)["findings"]}
    assert statuses["resident_enterprises"] == "fail"


def test_demo_runs_a_whole_round_on_a_new_sqlite_file(tmp_path: Path) -> None:
    database = tmp_path / "demo.db"  # a file that exists is refused (tests/test_demo_cli.py)
    result = runner.invoke(app, ["demo", "--db", f"sqlite:///{database}", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    steps = {(step["base"], step["state"]) for step in data["timeline"]}
    assert ("春城数字经济创业创新园", "expired") in steps
    assert ("盘龙滇池创客港", "revoked") in steps
    assert ("滇池智造小微企业孵化园", "not_recommended") in steps
    notices = [step["note"] for step in data["timeline"] if step["step"] == "社会公示"]
    assert notices == ["公示期 2025-09-26 至 2025-10-15"] * 3  # across National Day
    assert data["events"]["certified"] == 3
    assert data["events"]["objection_verified"] == 1
    assert [row["是否同意推荐"] for row in data["recommendation_table"]].count("否") == 1
    assert database.stat().st_size > 0
    exported = [Path(path) for path in data["exports"]]
    assert len(exported) == 5
    assert exported[0].name == "demo-推荐汇总表-五华区.xlsx"
    assert all(path.stat().st_size > 0 for path in exported)


def test_demo_prints_tables_in_english(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--db", str(tmp_path / "demo.db"), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "Timeline" in result.stdout
    assert "Recommendation summary (Annex 2)" in result.stdout


def test_markup_in_the_base_name_is_shown_as_it_is(tmp_path: Path) -> None:
    original = ineligible_application()
    name = "[/b][red]园区 :thumbs_up:"
    path = tmp_path / "markup.json"
    path.write_text(
        dumps_json(attrs.evolve(original, base=attrs.evolve(original.base, name=name))),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["check", str(path), "--lang", "en"])
    assert result.exit_code == 1, result.output
    assert name in result.stdout
    assert "not met" in result.stdout or "not eligible" in result.stdout


@pytest.mark.parametrize("field", ["declared_on", "established_on"])
def test_a_date_at_the_end_of_the_calendar_is_bad_input(tmp_path: Path, field: str) -> None:
    application = eligible_application()
    last = dt.date(9999, 12, 31)
    if field == "declared_on":
        application = attrs.evolve(application, declared_on=last)
    else:
        application = attrs.evolve(
            application, base=attrs.evolve(application.base, established_on=last)
        )
    path = tmp_path / "late.json"
    path.write_text(dumps_json(application), encoding="utf-8")
    for lang, words in (("en", "operating years"), ("zh", "运营年限")):
        result = runner.invoke(app, ["check", str(path), "--lang", lang])
        assert result.exit_code == 2, result.output
        assert result.stdout == ""
        assert words in result.stderr
        assert "9999-12-31" in result.stderr
