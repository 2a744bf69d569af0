"""Runs the default pipeline once and records what it printed, its wall time and the run report's
headline figures in `benchmarks/results/console.json`, the file README's console sample and
docs/pipeline.md's "default run" paragraph are written from. Not part of pytest.

    python -m benchmarks.console_sample [--output DIR]    then    python -m benchmarks.docs
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from typing import List, Optional

from benchmarks.common import REPO_ROOT, commit, machine, machine_line, newest_artifact, utc_now

RESULTS_NAME = "benchmarks/results/console.json"
SHOWN_AS = "/abs/tfx_runs"  # the run's output folder as the sample shows it
REPORT_KEYS = (
    "split",
    "examples",
    "class_names",
    "statistics",
    "metrics",
    "calibration",
    "calibration_on_split",
    "training",
    "pushed",
)


def record(output: str) -> dict:
    """Runs `local_runner.py --output OUTPUT` on the embedded data, as `make run` does."""
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "local_runner.py", "--output", output],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    seconds = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(
            f"the default run failed (exit {result.returncode}): {result.stderr[-2000:]}"
        )
    with open(
        os.path.join(newest_artifact(output, "RunReport", "report"), "report.json")
    ) as handle:
        report = json.load(handle)
    selected = {key: report[key] for key in REPORT_KEYS}
    selected["normalization"] = report["config"]["trainer"]["normalization"]
    selected["validation_examples"] = report["calibration"]["combined"]["examples"]
    return {
        "date": utc_now(),
        "machine": machine(),
        "commit": commit(),
        "seconds": seconds,
        "exit_code": result.returncode,
        "console": result.stdout.replace(os.path.abspath(output), SHOWN_AS).splitlines(),
        "report": selected,
    }


SAMPLED_COMPONENTS = ("Trainer", "Evaluator")  # README shows these component lines of the console


def sampled_console(lines: List[str]) -> List[str]:
    """The console's first line, the sampled components' lines and the whole summary; `...` where
    lines were left out."""
    summary = next(i for i, line in enumerate(lines) if " finished in " in line)
    kept = [lines[0]]
    for line in lines[1:summary]:
        shown = line.split() and line.split()[0] in SAMPLED_COMPONENTS
        if shown:
            kept.append(line)
        elif kept[-1] != "  ...":
            kept.append("  ...")
    return kept + lines[summary:]


def console_section(payload: dict) -> str:
    """README's sample of `make run`'s console, with when and where it was measured."""
    return (
        f"Measured {payload['date']} on {machine_line(payload['machine'])} (commit {payload['commit']}) by "
        f"`python -m benchmarks.console_sample`, {payload['seconds']:.1f} s wall for the command; the "
        f"figures are TFMA's on the {payload['report']['examples']}-row eval split, which nothing was "
        "fitted on:\n\n```\n" + "\n".join(sampled_console(payload["console"])) + "\n```"
    )


def _spread(statistics: dict, kind: str) -> str:
    a, b = statistics["network_a"][kind], statistics["network_b"][kind]
    return (
        f"network A spans [{a['min']:.2f}, {a['max']:.2f}] (std {a['std']:.3f}), network B "
        f"[{b['min']:.2f}, {b['max']:.2f}] (std {b['std']:.3f}), a spread ratio of "
        f"{max(a['std'], b['std']) / min(a['std'], b['std']):.3f}"
    )


def report_section(payload: dict) -> str:
    """docs/pipeline.md's paragraph: what the report of the default run shows."""
    r = payload["report"]
    outputs = ("network_a", "network_b", "combined")
    accuracy = " / ".join(
        f"{r['metrics']['candidate'][o]['sparse_categorical_accuracy']:.4f}" for o in outputs
    )
    temperature = " / ".join(f"{r['calibration'][o]['temperature']:.3f}" for o in outputs)
    before = " / ".join(f"{r['calibration_on_split'][o]['ece_before']:.3f}" for o in outputs)
    after = " / ".join(f"{r['calibration_on_split'][o]['ece_after']:.3f}" for o in outputs)
    t = r["training"]
    pushed = (
        f"version {r['pushed']['version']} pushed"
        if r["pushed"].get("pushed")
        else "nothing pushed"
    )
    return (
        f"The default run's report (measured {payload['date']} by `python -m benchmarks.console_sample`, "
        f"commit {payload['commit']}; `{r['normalization']}`, {t['steps']} steps ({t['epochs']} epochs; "
        f"{t['stopped']}), {r['examples']} {r['split']} rows): raw outputs: {_spread(r['statistics'], 'raw')}; "
        f"normalized: {_spread(r['statistics'], 'normalized')}. Accuracy on {r['split']} (A / B / combined) "
        f"{accuracy}, in TFMA and in the confusion matrices alike. Calibration, fitted on the "
        f"{r['validation_examples']} validation rows: temperatures {temperature}; on the {r['split']} split "
        f"they take the expected calibration error from {before} to {after}. {pushed.capitalize()} for all "
        "three models."
    )


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", help="folder for the run (default: a temporary one, removed)")
    parser.add_argument("--json", default=os.path.join(REPO_ROOT, RESULTS_NAME))
    args = parser.parse_args(argv)
    output = args.output or tempfile.mkdtemp(prefix="twinnorm-console-")
    try:
        payload = record(output)
    finally:
        if not args.output:
            shutil.rmtree(output, ignore_errors=True)
    with open(args.json, "w") as handle:
        json.dump(payload, handle, indent=1)
    print("\n".join(payload["console"]))
    print(
        f"\n{args.json}: {payload['seconds']:.1f} s; python -m benchmarks.docs writes the docs from it"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
