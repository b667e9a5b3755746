"""What every scenario reports, and the small tools they share: timers, peak memory, the table.

A result compares our figure with the bare database doing the same work in the
same run, so the ratio means something on any machine; the target says which
way the ratio (or the absolute figure) must go.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass
class Result:
    scenario: str  # "P1" … "P6"
    what: str  # exactly what was measured
    backend: str  # "postgresql" or "sqlite"
    size: str  # e.g. "1,000,000 accounts"
    ours: float
    bare: float | None
    unit: str  # "changes/s", "ms p95", …
    higher_is_better: bool
    target: str  # the target, in words
    met: bool | None  # None: no target for this row (informational)
    peak_rss_mb: float | None = None
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        """ours / bare for rates, bare / ours for times: 1.0 = as fast as the bare database."""
        if self.bare is None or self.bare == 0 or self.ours == 0:
            return None
        return self.ours / self.bare if self.higher_is_better else self.bare / self.ours


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0-100) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


# -- peak memory -------------------------------------------------------------
def reset_peak_rss(pids: Iterable[int] = ()) -> None:
    """Reset the kernel's high-water mark (VmHWM) so the next reading is this scenario's peak."""
    for pid in [os.getpid(), *pids]:
        # Not Linux, or not ours: the reading is then the process's lifetime peak.
        with contextlib.suppress(OSError):
            Path(f"/proc/{pid}/clear_refs").write_text("5")


def peak_rss_mb(pid: int | None = None) -> float | None:
    """VmHWM of a process in MiB (None where /proc is not available)."""
    try:
        status = Path(f"/proc/{pid or os.getpid()}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def children(pid: int) -> list[int]:
    """Every descendant process of `pid` (uvicorn's worker processes)."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            kids = Path(f"/proc/{pid}/task/{task}/children").read_text().split()
        except OSError:
            continue
        for kid in map(int, kids):
            found += [kid, *children(kid)]
    return found


# -- reporting ---------------------------------------------------------------
def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    try:
        meminfo = Path("/proc/meminfo").read_text().splitlines()[0].split()
        info["memory_gib"] = round(int(meminfo[1]) / 1024 / 1024, 1)
        cpu = [line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")]
        info["cpu"] = cpu[0].split(":", 1)[1].strip() if cpu else "?"
    except OSError:
        pass
    return info


def _fmt(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if value < 10 else f"{value:.1f}"


def table(results: Sequence[Result]) -> str:
    head = ["#", "what", "db", "size", "ours", "bare", "unit", "ratio", "target", "met", "peak RSS MiB"]
    rows = [
        [
            r.scenario,
            r.what,
            r.backend,
            r.size,
            _fmt(r.ours),
            _fmt(r.bare),
            r.unit,
            f"{r.ratio:.2f}" if r.ratio is not None else "—",
            r.target,
            {True: "yes", False: "NO", None: "—"}[r.met],
            _fmt(r.peak_rss_mb),
        ]
        for r in results
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def write_json(results: Sequence[Result], meta: dict[str, Any], path: Path | None = None) -> Path:
    path = path or RESULTS / "latest.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    items = [{**asdict(r), "ratio": r.ratio} for r in results]
    path.write_text(json.dumps({"meta": meta, "results": items}, indent=2, default=str) + "\n")
    return path


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        return "?"
