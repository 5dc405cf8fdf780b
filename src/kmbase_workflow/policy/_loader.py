"""Reading policy files.

A policy file is TOML (see ``data/kunming_2022.toml``, the bundled 2022 Kunming measures).
Its shape is declared below as private attrs classes and read with the project's one cattrs
converter, so a broken file gets the same precise, path-by-path report as an application
(field by field: a file is read once, see `read_once`).
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

import attrs

from .._i18n import Text
from ..errors import ApplicationFormatError, PolicyFormatError
from ..serialization import read_once, structure
from ._measures import (
    APPLICATION_MEASURES,
    CATEGORICAL_MEASURES,
    CATEGORICAL_VALUES,
    CONSISTENCY_MEASURES,
    SERVICE_MEASURES,
)
from ._model import (
    AnnualReportPeriod,
    Comparison,
    Counting,
    DeclarationWindow,
    District,
    DistrictKind,
    EndOfPeriodRule,
    ExpertReviewRule,
    FiguresYearRule,
    Material,
    NoticePeriod,
    Periods,
    Pledge,
    Policy,
    Rule,
    ServiceFunction,
    ServiceFunctionRequirement,
    SpotCheckRule,
    ValidityPeriod,
    ValidityStart,
    WorkingDayPeriod,
)

FORMAT_VERSION = 1
"""The policy file format this library reads (the file's top-level ``format``)."""

# -- the file's shape --------------------------------------------------------------------
# Read once and never compared nor printed: no __eq__, __hash__ or __repr__ to write and
# compile at import (issue 23).


@read_once
@attrs.frozen(eq=False, repr=False)
class _Header:
    id: str
    document: str
    title_zh: str
    title_en: str
    jurisdiction_zh: str
    jurisdiction_en: str
    effective_from: dt.date
    effective_until: dt.date | None = None


@read_once
@attrs.frozen(eq=False, repr=False)
class _Rule:
    id: str
    article_zh: str
    article_en: str
    measure: str
    comparison: Comparison
    required: float | bool
    zh: str
    en: str
    unit_zh: str | None = None
    unit_en: str | None = None
    applies_when: dict[str, str] = attrs.field(factory=dict)
    declared: bool = False


@read_once
@attrs.frozen(eq=False, repr=False)
class _Threshold:
    measure: str
    required: float | bool
    comparison: Comparison = Comparison.AT_LEAST


@read_once
@attrs.frozen(eq=False, repr=False)
class _Function:
    id: str
    article_zh: str
    article_en: str
    name_zh: str
    name_en: str
    zh: str
    en: str
    thresholds: tuple[_Threshold, ...]


@read_once
@attrs.frozen(eq=False, repr=False)
class _ServiceFunctions:
    id: str
    article_zh: str
    article_en: str
    minimum: int
    zh: str
    en: str
    functions: tuple[_Function, ...]


@read_once
@attrs.frozen(eq=False, repr=False)
class _Material:
    id: str
    article_zh: str
    article_en: str
    name_zh: str
    name_en: str
    required: bool = True


@read_once
@attrs.frozen(eq=False, repr=False)
class _Materials:
    article_zh: str
    article_en: str
    items: tuple[_Material, ...]


@read_once
@attrs.frozen(eq=False, repr=False)
class _SpotCheck:
    article_zh: str
    article_en: str
    minimum_share: float
    satisfaction_blocking: bool
    zh: str
    en: str


@read_once
@attrs.frozen(eq=False, repr=False)
class _District:
    name: str
    kind: DistrictKind
    code: str | None = None


@read_once
@attrs.frozen(eq=False, repr=False)
class _Districts:
    article_zh: str
    article_en: str
    items: tuple[_District, ...]


@read_once
@attrs.frozen(eq=False, repr=False)
class _Pledge:
    id: str
    article_zh: str
    article_en: str
    zh: str
    en: str


@read_once
@attrs.frozen(eq=False, repr=False)
class _Pledges:
    items: tuple[_Pledge, ...]


@read_once
@attrs.frozen(eq=False, repr=False)
class _Figures:
    id: str
    article_zh: str
    article_en: str
    years_before: int
    zh: str
    en: str


@read_once
@attrs.frozen(eq=False, repr=False)
class _ExpertReview:
    article_zh: str
    article_en: str
    score_min: float
    score_max: float
    zh: str
    en: str
    tie_break_zh: str
    tie_break_en: str
    minimum_opinions: int = 1


@read_once
@attrs.frozen(eq=False, repr=False)
class _Declaration:
    article_zh: str
    article_en: str
    rounds_per_year: int
    zh: str
    en: str


@read_once
@attrs.frozen(eq=False, repr=False)
class _WorkingDays:
    article_zh: str
    article_en: str
    working_days: int
    counting: Counting
    zh: str
    en: str


@read_once
@attrs.frozen(eq=False, repr=False)
class _Validity:
    article_zh: str
    article_en: str
    years: int
    starts: ValidityStart
    reapply_in_final_year: bool
    zh: str
    en: str


@read_once
@attrs.frozen(eq=False, repr=False)
class _AnnualReport:
    article_zh: str
    article_en: str
    due_month: int
    end_rule: EndOfPeriodRule
    zh: str
    en: str


@read_once
@attrs.frozen(eq=False, repr=False)
class _Periods:
    declaration: _Declaration
    notice: _WorkingDays
    validity: _Validity
    base_annual_report: _AnnualReport
    district_annual_report: _AnnualReport
    change_filing: _WorkingDays


@read_once
@attrs.frozen(eq=False, repr=False)
class _PolicyFile:
    format: int
    policy: _Header
    rules: tuple[_Rule, ...]
    service_functions: _ServiceFunctions
    materials: _Materials
    spot_check: _SpotCheck
    periods: _Periods
    districts: _Districts
    pledges: _Pledges
    figures: _Figures
    expert_review: _ExpertReview


# -- from the file's shape to the model ----------------------------------------------------


def _article(
    part: _Rule
    | _Function
    | _Material
    | _Materials
    | _SpotCheck
    | _ServiceFunctions
    | _Districts
    | _Pledge
    | _Figures
    | _ExpertReview,
) -> Text:
    return Text(zh=part.article_zh, en=part.article_en)


def _rule(raw: _Rule) -> Rule:
    unit = Text(zh=raw.unit_zh, en=raw.unit_en) if raw.unit_zh and raw.unit_en else None
    return Rule(
        id=raw.id,
        article=_article(raw),
        measure=raw.measure,
        comparison=raw.comparison,
        required=raw.required,
        description=Text(zh=raw.zh, en=raw.en),
        unit=unit,
        applies_when=dict(raw.applies_when),
        declared=raw.declared,
    )


def _function(raw: _Function) -> ServiceFunction:
    article = Text(zh=raw.article_zh, en=raw.article_en)
    thresholds = tuple(
        Rule(
            id=f"{raw.id}.{threshold.measure}",
            article=article,
            measure=threshold.measure,
            comparison=threshold.comparison,
            required=threshold.required,
            description=Text(zh=raw.zh, en=raw.en),
        )
        for threshold in raw.thresholds
    )
    return ServiceFunction(
        id=raw.id,
        article=article,
        name=Text(zh=raw.name_zh, en=raw.name_en),
        description=Text(zh=raw.zh, en=raw.en),
        thresholds=thresholds,
    )


def _period_text(raw: _Declaration | _WorkingDays | _Validity | _AnnualReport) -> tuple[Text, Text]:
    return Text(zh=raw.article_zh, en=raw.article_en), Text(zh=raw.zh, en=raw.en)


def _periods(raw: _Periods) -> Periods:
    def working_days(part: _WorkingDays) -> tuple[Text, int, Counting, Text]:
        article, description = _period_text(part)
        return article, part.working_days, part.counting, description

    def annual(part: _AnnualReport) -> AnnualReportPeriod:
        article, description = _period_text(part)
        return AnnualReportPeriod(article, part.due_month, part.end_rule, description)

    validity_article, validity_description = _period_text(raw.validity)
    declaration_article, declaration_description = _period_text(raw.declaration)
    return Periods(
        notice=NoticePeriod(*working_days(raw.notice)),
        change_filing=WorkingDayPeriod(*working_days(raw.change_filing)),
        validity=ValidityPeriod(
            validity_article,
            raw.validity.years,
            raw.validity.starts,
            raw.validity.reapply_in_final_year,
            validity_description,
        ),
        base_annual_report=annual(raw.base_annual_report),
        district_annual_report=annual(raw.district_annual_report),
        declaration=DeclarationWindow(
            declaration_article, raw.declaration.rounds_per_year, declaration_description
        ),
    )


def _problem(path: str, zh: str, en: str) -> Text:
    return Text(zh=f"{path}：{zh}", en=f"{path}: {en}")


def _rule_problems(rules: tuple[_Rule, ...]) -> list[Text]:
    problems: list[Text] = []
    seen: set[str] = set()
    for index, rule in enumerate(rules):
        path = f"rules[{index}]"
        if rule.id in seen:
            problems.append(
                _problem(f"{path}.id", f"规则编号 {rule.id} 重复", f"rule id {rule.id} is repeated")
            )
        seen.add(rule.id)
        measures = {**APPLICATION_MEASURES, **CONSISTENCY_MEASURES}
        if not rule.declared and rule.measure not in measures:
            known = ", ".join(sorted(measures))
            problems.append(
                _problem(
                    f"{path}.measure",
                    f"未知指标 {rule.measure}（可用：{known}）",
                    f"unknown measure {rule.measure} (known: {known})",
                )
            )
        if rule.declared and rule.comparison is not Comparison.IS_TRUE:
            problems.append(
                _problem(
                    f"{path}.comparison",
                    "声明事项只能用 is_true",
                    "a declared condition takes is_true only",
                )
            )
        for key, value in rule.applies_when.items():
            if key in CATEGORICAL_MEASURES and value not in CATEGORICAL_VALUES[key]:
                allowed = ", ".join(CATEGORICAL_VALUES[key])
                problems.append(
                    _problem(
                        f"{path}.applies_when.{key}",
                        f"未知取值 {value}（可用：{allowed}）",
                        f"unknown value {value} (allowed: {allowed})",
                    )
                )
            if key not in CATEGORICAL_MEASURES:
                known = ", ".join(sorted(CATEGORICAL_MEASURES))
                problems.append(
                    _problem(
                        f"{path}.applies_when",
                        f"未知分类指标 {key}（可用：{known}）",
                        f"unknown categorical measure {key} (known: {known})",
                    )
                )
    return problems


def _repeated_ids(path: str, ids: list[str]) -> list[Text]:
    return [
        _problem(f"{path}[{index}].id", f"编号 {item} 重复", f"id {item} is repeated")
        for index, item in enumerate(ids)
        if item in ids[:index]
    ]


def _service_function_problems(raw: _ServiceFunctions) -> list[Text]:
    problems: list[Text] = []
    if not 0 < raw.minimum <= len(raw.functions):
        count = len(raw.functions)
        problems.append(
            _problem(
                "service_functions.minimum",
                f"应在 1 到 {count} 之间",
                f"must be between 1 and {count}",
            )
        )
    known = ", ".join(sorted(SERVICE_MEASURES))
    problems.extend(_repeated_ids("service_functions.functions", [f.id for f in raw.functions]))
    for index, function in enumerate(raw.functions):
        for t_index, threshold in enumerate(function.thresholds):
            if threshold.measure not in SERVICE_MEASURES:
                problems.append(
                    _problem(
                        f"service_functions.functions[{index}].thresholds[{t_index}].measure",
                        f"未知服务指标 {threshold.measure}（可用：{known}）",
                        f"unknown service measure {threshold.measure} (known: {known})",
                    )
                )
    return problems


def _district_problems(raw: _Districts) -> list[Text]:
    problems: list[Text] = []
    if not raw.items:
        problems.append(
            _problem("districts.items", "至少列出一个县区", "list at least one district")
        )
    names = [item.name for item in raw.items]
    for index, item in enumerate(raw.items):
        path = f"districts.items[{index}]"
        if not item.name.strip() or item.name != item.name.strip():
            problems.append(
                _problem(
                    f"{path}.name",
                    "名称不能为空，也不能以空白开头或结尾",
                    "a name is not empty and has no leading or trailing blanks",
                )
            )
        if item.name in names[:index]:
            problems.append(
                _problem(f"{path}.name", f"县区 {item.name} 重复", f"{item.name} is repeated")
            )
        if item.code is not None and not (len(item.code) == 6 and item.code.isdigit()):
            problems.append(
                _problem(
                    f"{path}.code",
                    f"行政区划代码应为 6 位数字，实际为 {item.code!r}",
                    f"an administrative division code has 6 digits, got {item.code!r}",
                )
            )
    return problems


def _consistency_problems(raw: _PolicyFile) -> list[Text]:
    """What the file's shape cannot say: unknown measures, repeated ids, impossible numbers."""
    problems = _rule_problems(raw.rules) + _service_function_problems(raw.service_functions)
    problems.extend(_repeated_ids("materials.items", [item.id for item in raw.materials.items]))
    if raw.format != FORMAT_VERSION:
        problems.append(
            _problem(
                "format",
                f"本库只读取第 {FORMAT_VERSION} 版格式",
                f"this library reads format {FORMAT_VERSION} only",
            )
        )
    problems.extend(_district_problems(raw.districts))
    problems.extend(_repeated_ids("pledges.items", [item.id for item in raw.pledges.items]))
    if raw.figures.years_before < 0:
        problems.append(_problem("figures.years_before", "不能为负数", "must not be negative"))
    review = raw.expert_review
    if review.minimum_opinions < 1:
        problems.append(
            _problem(
                "expert_review.minimum_opinions",
                "至少须有 1 份专家意见",
                "at least one expert opinion is required",
            )
        )
    if not (math.isfinite(review.score_min) and math.isfinite(review.score_max)) or not (
        review.score_min < review.score_max
    ):
        problems.append(
            _problem(
                "expert_review.score_max",
                "分值范围应为有限数且 score_min < score_max",
                "the scale must be finite with score_min < score_max",
            )
        )
    if not 0 < raw.spot_check.minimum_share <= 1:
        problems.append(
            _problem("spot_check.minimum_share", "应在 0 与 1 之间", "must be in (0, 1]")
        )
    for name in ("base_annual_report", "district_annual_report"):
        if not 1 <= getattr(raw.periods, name).due_month <= 12:
            problems.append(
                _problem(f"periods.{name}.due_month", "月份应在 1 到 12 之间", "a month is 1 to 12")
            )
    header = raw.policy
    if header.effective_until is not None and header.effective_until <= header.effective_from:
        problems.append(
            _problem(
                "policy.effective_until", "应晚于 effective_from", "must be after effective_from"
            )
        )
    return problems


def read_policy(data: Mapping[str, object], *, source: str = "policy") -> Policy:
    """Build a `Policy` from parsed TOML data, reporting every problem with its path."""
    try:
        raw = structure(dict(data), _PolicyFile, source=source)
    except ApplicationFormatError as exc:
        raise PolicyFormatError.from_problems(source, exc.problems) from None
    problems = _consistency_problems(raw)
    if problems:
        raise PolicyFormatError.from_problems(source, problems)
    header = raw.policy
    return Policy(
        id=header.id,
        title=Text(zh=header.title_zh, en=header.title_en),
        document=header.document,
        jurisdiction=Text(zh=header.jurisdiction_zh, en=header.jurisdiction_en),
        effective_from=header.effective_from,
        effective_until=header.effective_until,
        rules=tuple(_rule(rule) for rule in raw.rules),
        service_functions=ServiceFunctionRequirement(
            id=raw.service_functions.id,
            article=_article(raw.service_functions),
            minimum=raw.service_functions.minimum,
            description=Text(zh=raw.service_functions.zh, en=raw.service_functions.en),
            functions=tuple(_function(function) for function in raw.service_functions.functions),
        ),
        materials=tuple(
            Material(
                id=item.id,
                article=_article(item),
                name=Text(zh=item.name_zh, en=item.name_en),
                required=item.required,
            )
            for item in raw.materials.items
        ),
        materials_article=_article(raw.materials),
        spot_check=SpotCheckRule(
            article=_article(raw.spot_check),
            minimum_share=raw.spot_check.minimum_share,
            description=Text(zh=raw.spot_check.zh, en=raw.spot_check.en),
            satisfaction_blocking=raw.spot_check.satisfaction_blocking,
        ),
        periods=_periods(raw.periods),
        districts=tuple(
            District(name=item.name, kind=item.kind, code=item.code) for item in raw.districts.items
        ),
        districts_article=_article(raw.districts),
        pledges=tuple(
            Pledge(id=item.id, article=_article(item), description=Text(zh=item.zh, en=item.en))
            for item in raw.pledges.items
        ),
        figures=FiguresYearRule(
            id=raw.figures.id,
            article=_article(raw.figures),
            years_before=raw.figures.years_before,
            description=Text(zh=raw.figures.zh, en=raw.figures.en),
        ),
        expert_review=ExpertReviewRule(
            article=_article(raw.expert_review),
            score_min=raw.expert_review.score_min,
            score_max=raw.expert_review.score_max,
            description=Text(zh=raw.expert_review.zh, en=raw.expert_review.en),
            tie_break=Text(zh=raw.expert_review.tie_break_zh, en=raw.expert_review.tie_break_en),
            minimum_opinions=raw.expert_review.minimum_opinions,
        ),
    )


def load_policy_file(path: str | Path) -> Policy:
    """Read a policy from a TOML file of your own."""
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyFormatError(
            Text(
                zh=f"无法读取政策文件 {file}：{exc.strerror}",
                en=f"cannot read policy file {file}: {exc.strerror}",
            ),
            hint=Text(zh="请检查路径", en="check the path"),
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyFormatError(
            Text(
                zh=f"政策文件 {file} 不是有效的 TOML：{exc}",
                en=f"policy file {file} is not valid TOML: {exc}",
            ),
            hint=Text(zh="请检查文件语法", en="check the file's syntax"),
        ) from None
    return read_policy(data, source=str(file))


def bundled_policies() -> tuple[Policy, ...]:
    """The policies shipped with the library, oldest first."""
    folder = resources.files(__package__).joinpath("data")
    policies = [
        read_policy(
            tomllib.loads(entry.read_text(encoding="utf-8")),
            source=f"kmbase_workflow/policy/data/{entry.name}",
        )
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".toml")
    ]
    return tuple(sorted(policies, key=lambda policy: policy.effective_from))
