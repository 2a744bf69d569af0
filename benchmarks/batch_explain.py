"""What `--explain` costs batch inference: the default pipeline on the embedded penguins with an
unlabelled file of N rows (the embedded unlabelled penguins repeated), run as a user runs it,
`--explain none`, `combined` and `all` one after the other into one output folder, so only
BatchPredictions runs again (the rest comes from the cache). Per run, from ML Metadata:
BatchPredictions' wall time and rows/s, and the process tree's peak RSS while it ran; two file
sizes, to show the memory held does not grow with the rows. Not part of pytest.

    python -m benchmarks.batch_explain [--rows 50000 200000] [--json PATH]

Writes benchmarks/results/batch_explain.json; docs/serving.md's table is rendered from it.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import time
from typing import List

from benchmarks.common import (
    GIB,
    REPO_ROOT,
    SAMPLE_INTERVAL,
    component_times,
    measured,
    provenance,
    run_process,
    write_json,
)
from modules.paths import OutputLayout
from pipeline.config import DEFAULT_INFERENCE_DATA, EXPLAIN

RESULTS_NAME = os.path.join("benchmarks", "results", "batch_explain.json")
COMPONENT = "BatchPredictions"


def write_inference(rows: int, path: str) -> str:
    """The embedded unlabelled penguins repeated to `rows` rows."""
    with open(DEFAULT_INFERENCE_DATA, newline="") as handle:
        header, *source = list(csv.reader(handle))
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(source[i % len(source)] for i in range(rows))
    return path


def run_once(output: str, inference: str, explain: str, rows: int) -> dict:
    """One local_runner run; BatchPredictions' figures from its newest execution."""
    command = [sys.executable, "local_runner.py", "--quiet", "--output", output]
    command += ["--inference-data", inference, "--explain", explain]
    started = time.time()
    run = run_process(command, timeout=3 * 3600)
    (mine,) = [
        t
        for t in component_times(OutputLayout(output).metadata_path)
        if t.component == COMPONENT and t.start >= started and t.state == "COMPLETE"
    ]
    peak = run.memory.peak(mine.start - SAMPLE_INTERVAL, mine.end + SAMPLE_INTERVAL)
    figures = {
        "explain": explain,
        "rows": rows,
        "seconds": mine.seconds,
        "rows_per_s": rows / mine.seconds,
        "peak_rss_gib": peak / GIB,
        "run_wall_s": run.seconds,
    }
    print(json.dumps(figures), flush=True)
    return figures


def main(argv: List[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[50_000, 200_000])
    parser.add_argument("--json", default=os.path.join(REPO_ROOT, RESULTS_NAME))
    args = parser.parse_args(argv)
    runs = []
    with tempfile.TemporaryDirectory(prefix="batch-explain-") as scratch:
        for rows in args.rows:
            inference = write_inference(rows, os.path.join(scratch, f"unlabelled-{rows}.csv"))
            output = os.path.join(scratch, f"run-{rows}")
            runs += [run_once(output, inference, explain, rows) for explain in EXPLAIN]
    payload = {**provenance("benchmarks.batch_explain"), "runs": runs}
    write_json(args.json, payload)


def section(payload: dict) -> str:
    """docs/serving.md's table: BatchPredictions per --explain choice and size."""
    lines = [
        measured(payload) + ": the embedded penguins' pipeline, "
        "BatchPredictions run again per `--explain` choice on the same BulkInferrer output.",
        "",
        "| inference rows | --explain | BatchPredictions | rows/s | time / --explain none | peak RSS while it ran |",
        "|---|---|---|---|---|---|",
    ]
    plain = {r["rows"]: r["seconds"] for r in payload["runs"] if r["explain"] == "none"}
    for r in payload["runs"]:
        lines.append(
            f"| {r['rows']:,} | {r['explain']} | {r['seconds']:.1f} s | {r['rows_per_s']:,.0f} | "
            f"{r['seconds'] / plain[r['rows']]:.1f}x | {r['peak_rss_gib']:.2f} GiB |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
