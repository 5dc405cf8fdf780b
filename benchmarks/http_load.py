"""A load driver for the HTTP service (issue 24): ``clients`` clients, each on its own
keep-alive connection, for ``seconds``, each repeating what an office does: declare an
application (``POST /cases``, ~28 KB), look at the district's inbox (``GET /inbox``), and
recommend the case it declared (``POST /cases/{id}/recommend``), one third each.

It records every request's status and latency and, for the audit after the load, every write
that answered 2xx. The same driver runs against the service and against the floor app
(`floor_app`), so the two are compared on the same requests in the same run.

Run alone: ``python benchmarks/http_load.py BASE_URL OPERATOR_TOKEN DISTRICT_TOKEN
[--clients 32] [--seconds 10]`` (the service must have an open round and those tokens).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import attrs
import httpx2

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "eligible.json"
RECOMMENDATION = json.dumps(
    {
        "payload": {
            "opinion": "同意推荐",
            "authenticity_checked": True,
            "spot_check": {"resident_small_micro_enterprises": 60, "sampled": 6, "satisfied": 6},
        }
    },
    ensure_ascii=False,
).encode()
NAME_MARK = "@@NAME@@"


def _template() -> str:
    """The example application with its base's name as a mark to replace (each declaration
    is a base of its own: one open case per base, 第九条)."""
    application = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    application["base"]["name"] = NAME_MARK
    return json.dumps(application, ensure_ascii=False)


@attrs.frozen
class LoadReport:
    """What a load did: requests by kind and status, latencies, the writes answered 2xx."""

    seconds: float
    clients: int
    statuses: Counter[tuple[str, int]]
    latencies: dict[str, list[float]]
    """Seconds per request, by kind (``declare``, ``inbox``, ``recommend``)."""
    writes: list[tuple[str, str]]
    """(case id, action) of each write answered 2xx."""
    failures: list[str]
    cpu_seconds: float = 0.0
    """The server's CPU time over the load (when the caller measured it)."""

    @property
    def cpu_per_request(self) -> float:
        """The server's CPU per request answered 2xx, in ms."""
        return self.cpu_seconds / max(self.ok, 1) * 1000

    @property
    def ok(self) -> int:
        return sum(n for (_, status), n in self.statuses.items() if 200 <= status < 300)

    @property
    def errors(self) -> int:
        return sum(self.statuses.values()) - self.ok

    @property
    def throughput(self) -> float:
        return self.ok / self.seconds

    def percentile(self, share: float, kind: str | None = None) -> float:
        """The ``share`` quantile of the latencies (of one kind, or of all), in ms."""
        values = sorted(
            value
            for name, latencies in self.latencies.items()
            if kind in (None, name)
            for value in latencies
        )
        if not values:
            return float("nan")
        if len(values) == 1:
            return values[0] * 1000
        return (
            statistics.quantiles(values, n=1000, method="inclusive")[int(share * 1000) - 1] * 1000
        )

    def line(self, label: str) -> str:
        kinds = "  ".join(
            f"{kind} p50 {self.percentile(0.5, kind):5.0f} ms" for kind in sorted(self.latencies)
        )
        return (
            f"  {label:<10} {self.throughput:7.1f} req/s  p50 {self.percentile(0.5):6.0f} ms  "
            f"p99 {self.percentile(0.99):6.0f} ms  errors {self.errors}   ({kinds})"
        )


async def _client(
    name: str,
    *,
    base: str,
    tokens: dict[str, str],
    deadline: float,
    template: str,
    report: LoadReport,
) -> None:
    operator = {"Authorization": f"Bearer {tokens['operator']}"}
    district = {"Authorization": f"Bearer {tokens['district']}"}
    limits = httpx2.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx2.AsyncClient(base_url=base, timeout=120, limits=limits) as http:
        sequence = 0
        while time.perf_counter() < deadline:
            sequence += 1
            case_id = f"load-{name}-{sequence}"
            body = template.replace(NAME_MARK, f"负载基地{name}-{sequence:05d}").encode()
            steps = (
                ("declare", "POST", "/cases", operator, body, {"case_id": case_id}),
                ("inbox", "GET", "/inbox", district, None, None),
                (
                    "recommend",
                    "POST",
                    f"/cases/{case_id}/recommend",
                    district,
                    RECOMMENDATION,
                    None,
                ),
            )
            for kind, method, path, headers, content, params in steps:
                started = time.perf_counter()
                try:
                    response = await http.request(
                        method, path, headers=headers, content=content, params=params
                    )
                    status = response.status_code
                    if status >= 300 and len(report.failures) < 5:
                        report.failures.append(f"{kind} {status}: {response.text[:300]}")
                except httpx2.HTTPError as error:
                    status = 599
                    if len(report.failures) < 5:
                        report.failures.append(f"{kind}: {error!r}")
                report.latencies[kind].append(time.perf_counter() - started)
                report.statuses[kind, status] += 1
                if kind != "inbox" and 200 <= status < 300:
                    report.writes.append((case_id, kind))
                if kind == "declare" and not 200 <= status < 300:
                    break  # nothing to recommend


def _report(seconds: float, clients: int) -> LoadReport:
    return LoadReport(
        seconds=seconds,
        clients=clients,
        statuses=Counter(),
        latencies={"declare": [], "inbox": [], "recommend": []},
        writes=[],
        failures=[],
    )


def run_load(
    base: str,
    tokens: dict[str, str],
    *,
    clients: int,
    seconds: float,
    warm_up: float = 2.0,
    measuring: Callable[[], object] = lambda: None,
) -> LoadReport:
    """``clients`` clients against ``base`` for ``seconds`` (the cycle in progress at the
    deadline finishes and counts), after ``warm_up`` seconds of the same load whose figures
    are dropped (first calls fill caches); the writes of both are in ``writes``.
    ``measuring`` is called when the measured load starts."""
    template = _template()

    async def load(report: LoadReport, round_: str) -> float:
        started = time.perf_counter()
        deadline = started + report.seconds
        await asyncio.gather(
            *(
                _client(
                    f"{round_}{n}",
                    base=base,
                    tokens=tokens,
                    deadline=deadline,
                    template=template,
                    report=report,
                )
                for n in range(clients)
            )
        )
        return time.perf_counter() - started

    first = _report(warm_up, clients)
    asyncio.run(load(first, "w"))
    report = _report(seconds, clients)
    measuring()
    elapsed = asyncio.run(load(report, "m"))
    return attrs.evolve(report, seconds=elapsed, writes=first.writes + report.writes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base")
    parser.add_argument("operator_token")
    parser.add_argument("district_token")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    tokens = {"operator": args.operator_token, "district": args.district_token}
    report = run_load(args.base, tokens, clients=args.clients, seconds=args.seconds)
    print(report.line(args.base))
    for failure in report.failures:
        print(f"    {failure}")


if __name__ == "__main__":
    main()
