"""Run every bad-argument case of tests/test_cli_errors.py through ``augbench.cli.main`` and classify the outcome.

Verdicts per case: ``ok`` (exit 2, one ``augbench:`` line with the expected words), ``traceback`` (an
exception escaped or a traceback was printed), ``rc=N`` (a wrong exit code: 0 means the bad command was
*accepted*, which for the data-loss cases means it wrote into the user's data) or ``other message``
(exit 2 but not the words the case expects). Results go to ``benchmarks/results/cli_error_sweep.json``
and a per-command table to stdout (pasted into docs/reliability.md).

To measure an older checkout, put its source first on the path:
``git archive <rev> | tar -x -C /tmp/old && PYTHONPATH=/tmp/old python benchmarks/cli_error_sweep.py --label old``.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--label", default="now", help="name of this measurement in the JSON (e.g. old / now)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "cli_error_sweep.json"))
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "tests"))
    import test_cli_errors as cases  # the single list of cases

    from augbench.cli import main as cli_main

    work = cases.build_workspace(Path(tempfile.mkdtemp(prefix="cli_sweep_")))
    table: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    rows = []
    for words, argv_t, expect in cases.CASES:
        argv = words.split() + [a.replace("{w}", str(work)) for a in argv_t]
        buf = io.StringIO()
        raised = ""
        with contextlib.redirect_stderr(buf), contextlib.redirect_stdout(buf):
            try:
                rc = cli_main(argv)
            except SystemExit as exc:
                rc = exc.code
            except BaseException as exc:  # noqa: BLE001 - that is what is being counted
                rc, raised = -1, type(exc).__name__
        text = buf.getvalue()
        if raised or "Traceback" in text:
            verdict = "traceback"
        elif rc != 2:
            verdict = f"rc={rc}"
        elif expect.lower() not in text.lower():
            verdict = "other message"
        else:
            verdict = "ok"
        table[words][verdict] += 1
        last = raised or (text.strip().splitlines() or [""])[-1][:160]
        rows.append({"command": words, "args": " ".join(argv_t), "verdict": verdict, "said": last})
    out = Path(args.out)
    data = json.loads(out.read_text(encoding="utf-8")) if out.is_file() else {}
    data[args.label] = {"cases": rows, "per_command": {k: dict(v) for k, v in table.items()}}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"| command | cases | {args.label}: verdicts |")
    print("|---|---|---|")
    for cmd, c in table.items():
        print(f"| {cmd} | {sum(c.values())} | " + ", ".join(f"{k} {v}" for k, v in sorted(c.items())) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
