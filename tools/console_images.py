"""Each role's main page of the officials' console to ``docs/images/console-<role>.png``
(``nox -s screenshots``).

The round: five bases of 2025 in 五华区 on a fresh SQLite file. 春城数字经济创业创新园 is
declared and awaits its district; 西山区双创服务园 is recommended and awaits its expert's
score; the three other bases of the sample 公示 (tools/document_images.py) were scored,
selected, inspected and put into public notice on Friday 2025-09-26. ``kmbase serve --today 2025-09-29`` runs over it; Playwright drives the machine's
Chromium (Debian's ``chromium``; ``$KMBASE_CHROMIUM`` names another), signs in with a token
per person as an office does, and photographs each person's first page, in Chinese: the
inbox (district, expert), the operator's case, the round dashboard (city bureau) and the
public notices.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import attrs
import httpx2
from document_images import BASES, _base  # the bases of the sample 公示 (nox -s documents)
from playwright.sync_api import Page, sync_playwright

from kmbase_workflow import Actor, FixedClock, Role, Workflow
from kmbase_workflow.case import Recommendation
from kmbase_workflow.records import SpotCheck
from kmbase_workflow.stores.tokens import token_store

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"
TODAY = dt.date(2025, 9, 29)
"""The day the pictures show: the Monday after the notice started."""
BUREAU = Actor(Role.CITY_BUREAU, "bureau-01", name="张三")
DISTRICT = Actor(Role.DISTRICT_AUTHORITY, "wh-01", district="五华区", name="李四")
EXPERT = Actor(Role.EXPERT, "expert-01", name="王五")
WAITING_FOR_SCORE = "西山区双创服务园"
KMBASE = [
    sys.executable,
    "-c",
    "import sys; from kmbase_workflow.cli import main; sys.argv[0] = 'kmbase'; main()",
]


@attrs.frozen
class Shot:
    """One picture: whose, which page, and what must be on it before it is taken."""

    role: str
    path: str
    heading: str


SHOTS = (
    Shot("operator", "/console/cases/c1", "春城数字经济创业创新园"),
    Shot("district", "/console/inbox", "待办"),
    Shot("expert", "/console/inbox", "待办"),
    Shot("city-bureau", "/console/rounds/2025", "年度概览 2025"),
    Shot("public", "/console/notices", "公示"),
)


def sample_round(url: str) -> dict[str, str]:
    """The round of the pictures on the store at ``url``; a token for each signed-in role."""
    clock = FixedClock(dt.date(2025, 6, 20))
    workflow = Workflow(url, clock=clock)
    try:
        workflow.open_round(2025, dt.date(2025, 6, 1), dt.date(2025, 7, 31), BUREAU)
        recommendation = Recommendation("同意推荐", True, SpotCheck(60, 6, 6))
        declared = _base("春城数字经济创业创新园")
        operator = Actor.for_operator(declared.operator)
        workflow.declare(declared, operator, case_id="c1")
        noticed = [name for name in BASES if name != declared.base.name]
        for number, name in enumerate(noticed, start=2):
            application = _base(name)
            case_id = f"c{number}"
            workflow.declare(application, Actor.for_operator(application.operator), case_id=case_id)
            workflow.recommend(case_id, DISTRICT, recommendation)
            workflow.record_expert_opinion(case_id, EXPERT, BASES[name], "服务功能完善")
        scoring = _base(WAITING_FOR_SCORE)
        workflow.declare(scoring, Actor.for_operator(scoring.operator), case_id="c9")
        workflow.select_round(2025, BUREAU, quota=len(noticed))
        workflow.recommend("c9", DISTRICT, recommendation)  # after the ranking: to be scored
        for number in range(2, len(noticed) + 2):
            workflow.pass_review(f"c{number}", BUREAU)
            workflow.pass_inspection(f"c{number}", BUREAU, "现场核查情况属实")
        clock.set(dt.date(2025, 9, 26))
        for number in range(2, len(noticed) + 2):
            workflow.publicize(f"c{number}", BUREAU)
        tokens = token_store(workflow.store)
        now = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
        people = {
            "operator": operator,
            "district": DISTRICT,
            "expert": EXPERT,
            "city-bureau": BUREAU,
        }
        return {role: tokens.issue(actor, now=now)[1] for role, actor in people.items()}
    finally:
        workflow.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def kmbase_serve(db: str, folder: Path) -> Iterator[str]:
    """``kmbase serve`` on ``db`` (its day TODAY) until the block ends: its base URL."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    log = (folder / "serve.log").open("w", encoding="utf-8")
    args = ["serve", "--db", db, "--port", str(port), "--today", TODAY.isoformat()]
    process = subprocess.Popen([*KMBASE, *args], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx2.TransportError):
                if httpx2.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                log.close()
                raise SystemExit(
                    "kmbase serve did not start:\n" + (folder / "serve.log").read_text()
                )
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def chromium() -> str:
    """The Chromium to drive, or exit saying how to get one."""
    found = os.environ.get("KMBASE_CHROMIUM") or shutil.which("chromium")
    if not found:
        raise SystemExit("no Chromium: apt-get install chromium (or set KMBASE_CHROMIUM)")
    return found


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="kmbase-console-") as folder:
        db = f"sqlite:///{Path(folder) / 'office.db'}"
        tokens = sample_round(db)
        with kmbase_serve(db, Path(folder)) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium())
            for shot in SHOTS:
                context = browser.new_context(
                    locale="zh-CN", viewport={"width": 1200, "height": 560}
                )
                page = context.new_page()
                if shot.role in tokens:
                    sign_in(page, base, tokens[shot.role])
                page.goto(base + shot.path)
                page.get_by_role("heading", name=shot.heading).first.wait_for()
                target = IMAGES / f"console-{shot.role}.png"
                page.screenshot(path=str(target), full_page=True)
                print(f"wrote {target.relative_to(ROOT)}: {page.title()}")
                context.close()
            browser.close()
    return 0


def sign_in(page: Page, base: str, token: str) -> None:
    """Sign in through the console's sign-in form, as a person with a token does."""
    page.goto(base + "/console/sign-in")
    page.get_by_label("访问令牌").fill(token)
    page.get_by_role("button", name="登录").click()


if __name__ == "__main__":
    sys.exit(main())
