"""Scale: a generated penguin-schema dataset (1,000,000 rows) through ExampleGen ... Transform and
the Trainer, with Beam's DirectRunner in_memory vs multi_processing (2 workers): rows/s of
Transform and the Trainer, and peak RSS of the whole process tree.

    python -m benchmarks.scale [--rows 1000000] [--quick] [--json PATH]
    python -m benchmarks.scale --run-until-trainer LOCAL_RUNNER_OPTIONS...   (one run; used by the above)

The pipeline is the default one built by `create_pipeline`, run as a TFX partial run that ends at
the Trainer (the Evaluator, Pusher and report are not what this measures). The data is written as
8 CSV files. The Trainer makes one pass over the train split at batch 256.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import sys
import tempfile
from typing import Dict, List

from benchmarks.common import (
    GIB,
    Comparison,
    component_times,
    python_module,
    run_process,
    side,
    write_result,
)
from modules.paths import OutputLayout

MODES = {
    "in_memory": ["--beam-profile", "local"],
    "multi_processing": ["--beam-profile", "multiprocess", "--beam-workers", "2"],
}
BATCH_SIZE = 256
MEMORY_BUDGET_GIB = 8.0
TRAIN_FRACTION = 2 / 3  # the default 2:1 hash split
# CSV files: ExampleGen reads one file per bundle, and gzip output cannot be split later, so a
# single 1M-row file would keep every stage on one Beam worker (measured: no gain at all).
SHARDS = 8


def run_until_trainer(argv: List[str]) -> None:
    """`local_runner.py` options in; the pipeline runs up to and including the Trainer."""
    from tfx import v1 as tfx
    from tfx.orchestration import pipeline as pipeline_module

    from pipeline import cli
    from pipeline.pipeline import create_pipeline

    config = cli.parse(argv, description="twinnorm up to the Trainer")
    os.makedirs(os.path.dirname(config.metadata_path), exist_ok=True)
    tfx.orchestration.LocalDagRunner().run(
        create_pipeline(
            config,
            tfx.orchestration.metadata.sqlite_metadata_connection_config(config.metadata_path),
        ),
        run_options=pipeline_module.RunOptions(to_nodes=["Trainer"]),
    )


def measure(data: str, rows: int, mode: str, output: str) -> Dict[str, float]:
    steps = math.ceil(rows * TRAIN_FRACTION / BATCH_SIZE)
    run = run_process(
        python_module(
            "benchmarks.scale",
            "--run-until-trainer",
            "--data",
            data,
            "--output",
            output,
            "--inference-data",
            "none",
            "--batch-size",
            str(BATCH_SIZE),
            "--train-steps",
            str(steps),
            *MODES[mode],
        )
    )
    times = {t.component: t for t in component_times(OutputLayout(output).metadata_path)}
    transform, trainer = times["Transform"], times["Trainer"]
    return {
        "wall_s": run.seconds,
        "peak_rss_gib": run.peak_rss / GIB,
        "transform_s": transform.seconds,
        "transform_rows_per_s": rows / transform.seconds,
        "transform_peak_rss_gib": run.memory.peak(transform.start, transform.end) / GIB,
        "transform_busy_cores": run.memory.cores(transform.start, transform.end),
        "run_busy_cores": run.memory.cores(),
        "trainer_s": trainer.seconds,
        "trainer_rows_per_s": steps * BATCH_SIZE / trainer.seconds,
        "trainer_peak_rss_gib": run.memory.peak(trainer.start, trainer.end) / GIB,
        "beam_upstream_s": sum(
            t.seconds
            for name, t in times.items()
            if name in ("CsvExampleGen", "StatisticsGen", "Transform")
        ),
        **{f"component_s.{name}": t.seconds for name, t in times.items()},
        **{
            f"component_busy_cores.{name}": run.memory.cores(t.start, t.end)
            for name, t in times.items()
        },
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--run-until-trainer":
        run_until_trainer(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--json")
    args = parser.parse_args()
    rows = args.rows or (100_000 if args.quick else 1_000_000)
    repeats = args.repeats or (1 if args.quick else 2)
    from benchmarks.generate_penguins import generate

    scratch = tempfile.mkdtemp(prefix="twinnorm-scale-")
    runs: Dict[str, List[dict]] = {mode: [] for mode in MODES}
    try:
        data = os.path.join(scratch, "data")
        generate(rows, data, shards=SHARDS)
        for rep in range(repeats):
            for mode in MODES:
                output = os.path.join(scratch, f"{mode}-{rep}")
                runs[mode].append(measure(data, rows, mode, output))
                shutil.rmtree(output)
                r = runs[mode][-1]
                print(
                    f"{mode} run {rep + 1}: Transform {r['transform_s']:.1f} s "
                    f"({r['transform_rows_per_s']:,.0f} rows/s), "
                    f"Trainer {r['trainer_s']:.1f} s, peak RSS {r['peak_rss_gib']:.2f} GiB",
                    flush=True,
                )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    def figure(mode: str, key: str, label: str, unit: str):
        return side(label, [r[key] for r in runs[mode]], unit)

    budget = side(f"budget {MEMORY_BUDGET_GIB:g} GiB", [MEMORY_BUDGET_GIB], "GiB")
    note = f"{rows:,} rows in {SHARDS} CSV files, {repeats} run(s) per mode"
    comparisons = [
        Comparison(
            "scale",
            "Transform rows/s: multi_processing (2 workers) vs in_memory",
            figure(
                "multi_processing", "transform_rows_per_s", "multi_processing, 2 workers", "rows/s"
            ),
            figure("in_memory", "transform_rows_per_s", "in_memory", "rows/s"),
            "",  # diagnostic: on 2 cores the DirectRunner's gRPC traffic takes the second core,
            # and a user who outgrows one machine moves to a distributed runner, not to this one
            f"{note}; diagnostic, no target (2 cores: the workers' gRPC traffic eats the second)",
        ),
        Comparison(
            "scale",
            "ExampleGen+StatisticsGen+Transform time: multi_processing vs in_memory",
            figure("multi_processing", "beam_upstream_s", "multi_processing, 2 workers", "s"),
            figure("in_memory", "beam_upstream_s", "in_memory", "s"),
            "",
            note,
        ),
        Comparison(
            "scale",
            "Trainer rows/s (one pass, batch 256): multi_processing run vs in_memory run",
            figure(
                "multi_processing", "trainer_rows_per_s", "in the multi_processing run", "rows/s"
            ),
            figure("in_memory", "trainer_rows_per_s", "in the in_memory run", "rows/s"),
            "",
            note,
        ),
    ]
    for mode in MODES:
        comparisons.append(
            Comparison(
                "scale",
                f"peak RSS, whole run up to the Trainer ({mode})",
                figure(mode, "peak_rss_gib", mode, "GiB"),
                budget,
                "<= 1.0",
                note,
            )
        )
    for c in comparisons:
        print(
            f"{c.name}: {c.ours.value:,.2f} vs {c.baseline.value:,.2f} {c.ours.unit}, ratio {c.ratio:.2f}"
        )
    write_result(
        args.json,
        comparisons,
        {
            "rows": rows,
            "repeats": repeats,
            "batch_size": BATCH_SIZE,
            "by_mode": {
                mode: {key: statistics.median(r[key] for r in rs) for key in rs[0]}
                for mode, rs in runs.items()
            },
        },
    )


if __name__ == "__main__":
    main()
