"""Every twinnorm benchmark in one invocation: pipeline wall time, training step, roofline,
Trainer end to end and serving, each against its named baseline. Not part of pytest.

    python -m benchmarks.run [--quick] [--json PATH] [--png PATH] [--only GROUP ...]

Each benchmark runs in its own process (a fresh TensorFlow runtime) and alternates its two sides
within that process. Prints a table, writes JSON (every comparison: both figures, units, ratio,
target) and a PNG chart. `--quick` shrinks repetitions and data for a smoke run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from typing import List

from benchmarks.common import Comparison, commit, machine, python_module, run_process, utc_now
from benchmarks.report import chart, component_table, table

MODULES = {
    "pipeline": "pipeline_time",
    "train_step": "train_step",
    "roofline": "roofline",
    "trainer_e2e": "trainer_e2e",
    "serving": "serving",
}  # group -> module in benchmarks/
GROUPS = tuple(MODULES)
NEEDS_RUN = ("trainer_e2e", "serving")  # read a finished pipeline run's artifacts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, smaller data")
    parser.add_argument("--json", default="benchmarks/results/latest.json")
    parser.add_argument("--png", help="chart (default: the JSON path with .png)")
    parser.add_argument("--only", nargs="+", choices=GROUPS, help="run only these groups")
    args = parser.parse_args()
    groups = args.only or list(GROUPS)
    quick = ["--quick"] if args.quick else []
    scratch = tempfile.mkdtemp(prefix="twinnorm-benchmarks-")
    run_dir = os.path.join(scratch, "twinnorm-run")
    comparisons: List[Comparison] = []
    details, seconds = {}, {}
    try:
        if "pipeline" not in groups and any(g in groups for g in NEEDS_RUN):
            print("a default pipeline run for the Trainer and serving benchmarks ...", flush=True)
            run_process([sys.executable, "local_runner.py", "--output", run_dir])
        for group in groups:
            out = os.path.join(scratch, f"{group}.json")
            extra = {
                "pipeline": ["--keep", run_dir],
                "trainer_e2e": ["--run", run_dir],
                "serving": ["--run", run_dir],
            }.get(group, [])
            print(f"== {group}", flush=True)
            started = time.monotonic()
            result = run_process(
                python_module(f"benchmarks.{MODULES[group]}", *quick, "--json", out, *extra)
            )
            seconds[group] = time.monotonic() - started
            print(result.stdout, end="", flush=True)
            with open(out) as handle:
                payload = json.load(handle)
            comparisons += [Comparison.from_dict(c) for c in payload["comparisons"]]
            details[group] = payload["details"]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    report = {
        "date": utc_now(),
        "quick": args.quick,
        "groups": groups,
        "commit": commit(),
        "machine": machine(),
        "seconds_per_group": seconds,
        "comparisons": [c.to_dict() for c in comparisons],
        "details": details,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as handle:
        json.dump(report, handle, indent=1)
    png = args.png or os.path.splitext(args.json)[0] + ".png"
    chart(
        comparisons,
        png,
        f"twinnorm benchmarks, {report['date']}, {report['machine']['cores']} cores, "
        f"{report['machine']['memory_gib']:g} GiB",
    )
    print()
    print(table(comparisons))
    extra = component_table(details)
    if extra:
        print("\n" + extra)
    print(
        f"\nJSON: {args.json}\nchart: {png}\n(python -m benchmarks.docs writes README's and docs' tables from the JSON)"
    )
    missed = [c for c in comparisons if c.met is False]
    if missed:
        print(f"{len(missed)} target(s) missed: " + "; ".join(c.name for c in missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
