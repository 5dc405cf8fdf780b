"""The steps and outcomes of a simulated round (labels of the charts and tables)."""

from __future__ import annotations

from .._i18n import Text

TIMELINE_STEPS: tuple[tuple[str, Text], ...] = (
    ("declared", Text(zh="申报", en="declared")),
    ("recommended", Text(zh="县区推荐", en="recommended")),
    ("expert_reviewed", Text(zh="专家评审", en="expert review")),
    ("site_inspected", Text(zh="现场核查", en="site inspection")),
    ("publicized", Text(zh="社会公示", en="publicized")),
    ("notice_due", Text(zh="公示期满", en="notice ends")),
    ("certified", Text(zh="认定授牌", en="certified")),
)
"""The dated steps of a simulated case, in order (each a ``datetime64[D]`` array)."""

OUTCOMES: dict[str, Text] = {
    "certified": Text(zh="认定授牌", en="certified"),
    "not_recommended": Text(zh="县区未推荐", en="not recommended"),
    "rejected_review": Text(zh="专家评审未通过", en="failed expert review"),
    "rejected_inspection": Text(zh="现场核查未通过", en="failed site inspection"),
    "rejected_objection": Text(zh="异议成立", en="objection sustained"),
}
"""Where a simulated case ends."""
