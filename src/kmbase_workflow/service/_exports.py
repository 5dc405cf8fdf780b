"""The forms as workbooks: a case's 附件1 and a district's 推荐汇总表 (附件2)."""

from __future__ import annotations

import tempfile
import urllib.parse
from collections.abc import Callable
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import Response

from .._i18n import Text
from ..actors import Role
from ._routing import (
    ERRORS,
    ActorParam,
    RoundYear,
    WorkflowParam,
    forbidden,
    readable_case,
)

__all__ = ["XLSX", "router"]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

router = APIRouter(responses=ERRORS)


@router.get(
    "/cases/{case_id}/application-tables.xlsx",
    tags=["exports"],
    response_class=Response,
    responses={200: {"description": "附件1 as a workbook", "content": {XLSX: {}}}},
)
def application_tables(case_id: str, actor: ActorParam, workflow: WorkflowParam) -> Response:
    """The forms of 附件1 for the case's application (申请表 and its four tables)."""
    from ..exports import export_application_tables  # noqa: PLC0415 - needs openpyxl

    case = readable_case(workflow, actor, case_id)
    policy = workflow.policy_for(case)
    return _workbook(
        lambda path: export_application_tables(case, path, policy=policy), f"附件1-{case.id}.xlsx"
    )


@router.get(
    "/rounds/{year}/districts/{district}/recommendation-table.xlsx",
    tags=["exports"],
    response_class=Response,
    responses={200: {"description": "附件2 as a workbook", "content": {XLSX: {}}}},
)
def recommendation_table(
    year: RoundYear, district: str, actor: ActorParam, workflow: WorkflowParam
) -> Response:
    """A district's 推荐汇总表 (附件2) for a round: the bureau's, or the district's own."""
    from ..exports import export_recommendation_table  # noqa: PLC0415 - needs openpyxl

    if actor.role is not Role.CITY_BUREAU and not (
        actor.role is Role.DISTRICT_AUTHORITY and actor.district == district
    ):
        raise forbidden(
            Text(zh=f"{district}的推荐汇总表", en=f"the recommendation table of {district}")
        )
    return _workbook(
        lambda path: export_recommendation_table(workflow, district, year, path),
        f"附件2-推荐汇总表-{district}-{year}.xlsx",
    )


def _workbook(write: Callable[[Path], object], filename: str) -> Response:
    with tempfile.TemporaryDirectory(prefix="kmbase-") as folder:
        path = Path(folder) / "export.xlsx"
        write(path)
        content = path.read_bytes()
    quoted = urllib.parse.quote(filename)
    return Response(
        content,
        media_type=XLSX,
        headers={
            "Content-Disposition": f"attachment; filename=export.xlsx; filename*=UTF-8''{quoted}"
        },
    )
