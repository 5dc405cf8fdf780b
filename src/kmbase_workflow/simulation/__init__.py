"""Policy simulation for notebooks: populations, policy variants and the timeline of a round.

Three questions an analyst asks, and the tools here that answer them:

* **How many bases qualify, and which rule stops the others?** `to_frame` turns
  application records into a pandas data frame (one row per application, one column per
  measure, see `frame_columns`); `generate_population` draws a synthetic one from
  a `PopulationSpec`; `evaluate_frame` judges every row at once with the same
  column-wise judgement as `evaluate` (it *is*
  `evaluate_population`), so the verdicts agree row by row.
* **What if a threshold or a period changed?** `vary` derives a policy variant without
  editing files; `compare` judges one population under several variants and reports the
  pass rate per rule, the overall pass rate, the rule that binds (fails alone) most often and
  the bases whose outcome changes (`VariantComparison`).
* **When can certification happen?** `simulate_round` runs a round of 第九条 to 第十四条
  on the working-day calendar, with stage durations drawn from `Stage` distributions
  (`TimelineSpec`), the notice period of the policy (第十三条), objections and their
  investigation, and the collective decision (第十四条). Time is computed, never waited for:
  the whole round is date arithmetic on the calendar's numpy batch operations.

pandas and matplotlib are optional (the ``notebook`` extra): they are
imported only by the functions that return frames or draw plots, and every array-level
function (`generate_columns`, `simulate_round`'s arrays) works without them.

>>> from kmbase_workflow.simulation import vary
>>> from kmbase_workflow.policy import load_policy
>>> variant = vary(load_policy(), resident_enterprises=30)
>>> variant.id, variant.rule("resident_enterprises").required
('kunming-2022+resident_enterprises=30', 30)
"""

from ._plots import MissingCJKFontWarning, find_cjk_font
from ._population import (
    STATUS_CATEGORIES,
    Bernoulli,
    Beta,
    Choice,
    LogNormal,
    Normal,
    PopulationSpec,
    evaluate_frame,
    frame_columns,
    generate_columns,
    generate_population,
    to_frame,
)
from ._steps import OUTCOMES, TIMELINE_STEPS
from ._timeline import (
    RoundTimeline,
    Stage,
    TimelineComparison,
    TimelineSpec,
    compare_timelines,
    simulate_round,
)
from ._variants import VariantComparison, compare, variant_keys, vary

__all__ = [
    "OUTCOMES",
    "STATUS_CATEGORIES",
    "TIMELINE_STEPS",
    "Bernoulli",
    "Beta",
    "Choice",
    "LogNormal",
    "MissingCJKFontWarning",
    "Normal",
    "PopulationSpec",
    "RoundTimeline",
    "Stage",
    "TimelineComparison",
    "TimelineSpec",
    "VariantComparison",
    "compare",
    "compare_timelines",
    "evaluate_frame",
    "find_cjk_font",
    "frame_columns",
    "generate_columns",
    "generate_population",
    "simulate_round",
    "to_frame",
    "variant_keys",
    "vary",
]
