"""Print the latest results as Markdown tables, for docs/benchmarks.md and issue notes.

    python -m bench.markdown                 # bench/results/store-latest.json and server-latest.json
    python -m bench.markdown path/to/result.json ...
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bench.common import RESULTS_DIR, fmt, fmt_advantage


def table(data: dict) -> str:
    systems = data["systems"]
    others = sorted({o for r in data["rows"] for o in r["advantage"]}, key=lambda o: systems.index(o)
                    if o in systems else len(systems))
    head = ["workload", "measure", *systems, *[f"HW vs {o}" for o in others], "goal"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in data["rows"]:
        goal = ""
        if r.get("goal"):
            met = {True: "met", False: "**missed**", None: "?"}[r["goal_met"]]
            goal = f"{r['goal']['text']}: {met}"
        cells = [r["workload"], r["measure"], *[fmt(r["values"].get(s)) for s in systems],
                 *[fmt_advantage(r["advantage"].get(o)) for o in others], goal]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def describe(data: dict) -> str:
    m = data["machine"]
    return (f"`bench.{data['benchmark']}`, {data['date']}, {m.get('cpu')} ({m.get('cpus')} CPUs, "
            f"{m.get('memory_gb')} GB), Python {m.get('python')}, SQLite {m.get('sqlite')}, "
            f"MLflow {m.get('mlflow')}, commit {m.get('commit')}; load average {m.get('load_average_1m')} at the end")


def main(argv: list[str]) -> None:
    paths = [Path(p) for p in argv] or [RESULTS_DIR / "store-latest.json", RESULTS_DIR / "server-latest.json"]
    for path in paths:
        if not path.exists():
            print(f"(no {path})\n")
            continue
        data = json.loads(path.read_text())
        print(describe(data) + "\n")
        print(table(data) + "\n")
        for note in data.get("notes", []):
            print(f"- {note}")
        print()


if __name__ == "__main__":
    main(sys.argv[1:])
