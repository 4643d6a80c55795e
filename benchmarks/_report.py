"""Shared by every benchmark: write results JSON and a section of docs/benchmarks.md.

Each benchmark owns one section between ``<!-- BEGIN name -->`` and
``<!-- END name -->`` markers, so several benchmarks update the same page
without overwriting each other.
"""

from __future__ import annotations

import fcntl
import json
import platform
import re
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
DOC = ROOT / "docs" / "benchmarks.md"
HEADER = (
    "# augbench benchmarks\n\n"
    "Every figure below was measured by a script in `benchmarks/` that runs augbench and a peer in the same run.\n"
)


def machine() -> dict[str, Any]:
    import os

    return {"python": platform.python_version(), "cpu_count": os.cpu_count(), "machine": platform.machine(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def write_results(name: str, data: dict[str, Any], markdown: str) -> Path:
    """Save ``benchmarks/results/<name>.json`` and replace the ``name`` section of docs/benchmarks.md."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{name}.json"
    payload = {"benchmark": name, "machine": machine(), **data}
    out.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    DOC.parent.mkdir(parents=True, exist_ok=True)
    lock = DOC.with_suffix(".lock")
    with open(lock, "w") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)
        text = DOC.read_text(encoding="utf-8") if DOC.exists() else HEADER
        stamp = f"_Raw numbers: `benchmarks/results/{name}.json` ({payload['machine']['date']})._"
        block = f"<!-- BEGIN {name} -->\n{markdown.strip()}\n\n{stamp}\n<!-- END {name} -->"
        pattern = re.compile(rf"<!-- BEGIN {re.escape(name)} -->.*?<!-- END {re.escape(name)} -->", re.S)
        text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
        DOC.write_text(text, encoding="utf-8")
    lock.unlink(missing_ok=True)
    return out


def md_table(headers: list[str], rows: list[list[Any]]) -> str:
    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"
        return str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(fmt(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)
