"""Render the first page of a sample 公示 to ``docs/images/notice.png`` (``nox -s documents``).

The round: four bases of 2025, recommended, scored, selected, reviewed, inspected and put into
public notice on Friday 2025-09-26 (the notice runs across National Day to 2025-10-15); the
settings: docs/examples/documents.toml. The 公示 goes through the library's own PDF path
(python-docx, then LibreOffice), then ``pdftoppm`` turns its first page into a PNG.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import tempfile
from pathlib import Path

import attrs

from kmbase_workflow import Actor, FixedClock, Role, Workflow
from kmbase_workflow.case import Recommendation
from kmbase_workflow.examples import eligible_application
from kmbase_workflow.exports import load_document_settings, public_notice, write_document
from kmbase_workflow.records import Application, SpotCheck

ROOT = Path(__file__).resolve().parents[1]
IMAGE = ROOT / "docs" / "images" / "notice.png"
SETTINGS = ROOT / "docs" / "examples" / "documents.toml"
BASES = {
    "春城数字经济创业创新园": 88.0,
    "呈贡信息产业孵化园": 95.0,
    "官渡区双创示范园": 91.0,
    "盘龙小微企业创业园": 84.0,
}


def _base(name: str) -> Application:
    application = eligible_application()
    if name == application.base.name:
        return application
    return attrs.evolve(
        application,
        base=attrs.evolve(application.base, name=name),
        operator=attrs.evolve(application.operator, name=f"昆明{name[:2]}园区运营管理有限公司"),
    )


def sample_round() -> Workflow:
    """The four bases of the sample round, in public notice from 2025-09-26."""
    clock = FixedClock(dt.date(2025, 6, 20))
    workflow = Workflow("memory://", clock=clock)
    bureau = Actor(Role.CITY_BUREAU, "市工业和信息化局")
    district = Actor(Role.DISTRICT_AUTHORITY, "五华区工信局", district="五华区")
    expert = Actor(Role.EXPERT, "专家甲")
    workflow.open_round(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31), bureau)
    recommendation = Recommendation("同意推荐", True, SpotCheck(60, 6, 6))
    ids = {}
    for number, (name, score) in enumerate(BASES.items(), start=1):
        application = _base(name)
        case_id = ids[name] = f"c{number}"
        workflow.declare(application, Actor.for_operator(application.operator), case_id=case_id)
        workflow.recommend(case_id, district, recommendation)
        workflow.record_expert_opinion(case_id, expert, score, "服务功能完善")
    workflow.select_round(2025, bureau, quota=len(BASES))
    for case_id in ids.values():
        workflow.pass_review(case_id, bureau)
        workflow.pass_inspection(case_id, bureau, "现场核查情况属实")
    clock.set(dt.date(2025, 9, 26))
    for case_id in ids.values():
        workflow.publicize(case_id, bureau)
    return workflow


def main() -> int:
    notice = public_notice(sample_round(), 2025, load_document_settings(SETTINGS))
    with tempfile.TemporaryDirectory(prefix="kmbase-image-") as folder:
        pdf = write_document(notice.document(), Path(folder) / "notice.pdf")
        stem = Path(folder) / "page"
        subprocess.run(
            [
                "pdftoppm",
                "-f",
                "1",
                "-l",
                "1",
                "-r",
                "80",
                "-png",
                "-singlefile",
                str(pdf),
                str(stem),
            ],
            check=True,
        )
        IMAGE.write_bytes(stem.with_suffix(".png").read_bytes())
    print(f"wrote {IMAGE.relative_to(ROOT)}: {notice.title}, {notice.period}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
