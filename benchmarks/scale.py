"""Scale: the whole default pipeline on generated customer tables (benchmarks/generate_tabular.py)
of 1,000,000 and 5,000,000 rows, each written as 8 CSV files, with an unlabelled fifth as large
for batch inference keyed by `customer_id`. Not part of pytest.

    python -m benchmarks.scale [--rows 1000000 5000000] [--label churned] [--json PATH]
    then    python -m benchmarks.docs

Each size is one `local_runner.py` command into an empty folder, exactly as a user runs it, its
process tree's memory and CPU sampled. Per component (from ML Metadata): wall time, the rows it
handles (its split, the inference rows, or the examples the Trainer stepped through), rows/s, busy
cores and the tree's peak RSS while it ran; our own code's share of the components' time; the
Trainer's phases (training.json). After the runs, the in-memory step throughput of the largest
run's model at the same batch (pre-built batches replayed, benchmarks/trainer_e2e.py) is the
Trainer's baseline.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import sys
import tempfile
from typing import Dict, List

from benchmarks import generate_tabular as table
from benchmarks.common import (
    GIB,
    REPO_ROOT,
    SAMPLE_INTERVAL,
    component_times,
    machine_line,
    measured,
    newest_artifact,
    provenance,
    run_process,
    write_json,
)
from modules import names
from modules.paths import OutputLayout

RESULTS_NAME = "benchmarks/results/scale.json"
SHARDS = 8
INFERENCE_SHARE = 5  # inference rows = rows / INFERENCE_SHARE
# Components whose code is ours (the Trainer runs our run_fn, calibration included); the rest is
# stock TFX.
OURS = (
    "Trainer",
    "DataGate",
    "blessed_statistics_resolver",
    "Pusher",
    "RunReport",
    "BatchPredictions",
)
INFERENCE = ("InferenceExampleGen", "BulkInferrer", "BatchPredictions")
MEMORY_TARGET_GIB = 8.0
STEP_TIMING_STEPS = 4000


def split_rows(output: str) -> Dict[str, int]:
    """Examples per split, from StatisticsGen's artifact."""
    import tensorflow_data_validation as tfdv

    folder = newest_artifact(output, "StatisticsGen", "statistics")
    rows = {}
    for name in sorted(os.listdir(folder)):
        if name.startswith("Split-"):
            stats = tfdv.load_stats_binary(os.path.join(folder, name, "FeatureStats.pb"))
            rows[name[len("Split-") :]] = int(stats.datasets[0].num_examples)
    return rows


def training_record(output: str) -> dict:
    with open(
        os.path.join(newest_artifact(output, "Trainer", "model_run"), names.TRAINING_FILE)
    ) as f:
        return json.load(f)


def run_size(rows: int, label: str, scratch: str) -> dict:
    """Generates `rows` rows, runs the pipeline on them, returns the figures of that run."""
    data = os.path.join(scratch, f"data-{rows}")
    unlabelled = os.path.join(scratch, f"inference-{rows}")
    table.generate(rows, data, SHARDS, seed=0)
    table.generate(rows // INFERENCE_SHARE, unlabelled, SHARDS, seed=1, labelled=False)
    output = os.path.join(scratch, f"run-{rows}")
    command = [
        sys.executable,
        "local_runner.py",
        "--quiet",
        "--output", output,
        "--data", data,
        "--label", label,
        "--features", ",".join(table.FEATURES),
        "--inference-data", unlabelled,
        "--key-columns", table.KEY,
    ]  # fmt: skip
    print(f"{rows:,} rows: {' '.join(command[1:])}", flush=True)
    run = run_process(command, timeout=6 * 3600)
    splits = split_rows(output)
    training = training_record(output)
    from modules.hparams import TrainerConfig

    batch = TrainerConfig().batch_size
    handled = {
        "Evaluator": splits["eval"],
        "Trainer": training["steps"] * batch,
        **{c: rows // INFERENCE_SHARE for c in INFERENCE},
    }
    components = []
    for t in component_times(OutputLayout(output).metadata_path):
        n = handled.get(t.component, rows)
        components.append(
            {
                "component": t.component,
                "state": t.state,
                "seconds": t.seconds,
                "rows": n,
                "rows_per_s": n / t.seconds if t.seconds > 0 else None,
                "busy_cores": run.memory.cores(t.start, t.end),
                # widened by a sampling interval, so a component shorter than one has a sample
                "peak_rss_gib": run.memory.peak(t.start - SAMPLE_INTERVAL, t.end + SAMPLE_INTERVAL)
                / GIB,
                "ours": t.component in OURS,
            }
        )
    total = sum(c["seconds"] for c in components)
    ours = sum(c["seconds"] for c in components if c["ours"])
    result = {
        "rows": rows,
        "inference_rows": rows // INFERENCE_SHARE,
        "splits": splits,
        "wall_s": run.seconds,
        "peak_rss_gib": run.peak_rss / GIB,
        "busy_cores": run.memory.cores(),
        "components": components,
        "ours_share": ours / total,
        "training": {
            k: training.get(k) for k in ("steps", "epochs", "max_steps", "stopped", "seconds")
        },
        "batch_size": batch,
        "data": data,
        "output": output,
    }
    print(
        f"{rows:,} rows: {run.seconds:.0f} s, peak RSS {result['peak_rss_gib']:.2f} GiB, "
        + ", ".join(f"{c['component']} {c['seconds']:.1f} s" for c in components),
        flush=True,
    )
    return result


def step_rate(run: dict, label: str, repeats: int = 3) -> float:
    """Examples/s of the Trainer's joint step on `run`'s own model and data at the same batch,
    batches pre-built in memory: what the Trainer would reach if reading cost nothing."""
    import statistics

    import tensorflow_transform as tft

    from benchmarks.train_step import trainer_timer
    from benchmarks.trainer_e2e import IN_MEMORY_BATCHES, in_memory
    from modules.data import memory_budget, training_batches
    from modules.layout import feature_layout
    from modules.networks import TwinModel
    from modules.training import JointTrainer
    from pipeline.config import PipelineConfig
    from pipeline.resolution import resolve

    config = resolve(
        PipelineConfig(data=run["data"], label=label, features=table.FEATURES, output=run["output"])
    )
    transform = tft.TFTransformOutput(
        newest_artifact(run["output"], "Transform", "transform_graph")
    )
    examples = newest_artifact(run["output"], "Transform", "transformed_examples")
    files = sorted(glob.glob(os.path.join(examples, "Split-train", "*")))
    layout = feature_layout(transform, config.feature_specs, config.label_key, config.trainer.task)
    trainer_config = config.trainer.for_layout(layout.task, layout.width, layout.n_outputs)
    batches = training_batches(
        files,
        transform,
        config.label,
        trainer_config.batch_size,
        trainer_config.seed,
        trainer_config.shuffle_buffer,
        memory_budget(trainer_config.in_memory_fraction),
    )
    timer = trainer_timer(
        JointTrainer(TwinModel(layout, trainer_config), trainer_config),
        in_memory(batches.dataset_from(0), IN_MEMORY_BATCHES),
        trainer_config.batch_size,
        STEP_TIMING_STEPS,
    )
    return statistics.median(timer() for _ in range(repeats))


def by_component(run: dict) -> Dict[str, dict]:
    return {c["component"]: c for c in run["components"]}


def targets(runs: List[dict], step_examples_per_s: float) -> List[dict]:
    """The issue's targets, each with the figure measured and whether it was met."""
    small, large = runs[0], runs[-1]
    found = []

    def target(name: str, value: float, bound: str, met: bool, note: str = "") -> None:
        found.append({"target": name, "value": value, "bound": bound, "met": met, "note": note})

    size = f"{large['rows']:,} rows"
    target(f"peak RSS of the process tree, {size} (GiB)", large["peak_rss_gib"],
           f"<= {MEMORY_TARGET_GIB:g}", large["peak_rss_gib"] <= MEMORY_TARGET_GIB)  # fmt: skip
    if len(runs) > 1:
        before = by_component(small)
        for name, c in by_component(large).items():
            if name in before and before[name]["seconds"] >= 1.0:
                growth = (c["seconds"] / c["rows"]) / (
                    before[name]["seconds"] / before[name]["rows"]
                )
                target(f"{name}: time per row, {size} vs {small['rows']:,}", growth, "<= 1.2",
                       growth <= 1.2)  # fmt: skip
    target(f"our components' share of the components' time, {size}", large["ours_share"],
           "<= 0.25", large["ours_share"] <= 0.25)  # fmt: skip
    trainer = by_component(large)["Trainer"]
    ratio = trainer["rows_per_s"] / step_examples_per_s
    target(f"Trainer examples/s vs the in-memory step at batch {large['batch_size']}, {size}",
           ratio, ">= 0.8", ratio >= 0.8,
           f"{trainer['rows_per_s']:,.0f} vs {step_examples_per_s:,.0f} examples/s")  # fmt: skip
    seconds = large["training"].get("seconds") or {}
    if "validation" in seconds:  # recorded since the in-graph validation passes
        loop = trainer["rows"] / (seconds["fit"] - seconds["validation"])
        target(f"the Trainer's training loop (fit less validation passes) examples/s vs the "
               f"in-memory step, {size}", loop / step_examples_per_s, ">= 0.8",
               loop >= 0.8 * step_examples_per_s,
               f"{loop:,.0f} vs {step_examples_per_s:,.0f} examples/s")  # fmt: skip
    parts = by_component(large)
    ratio = parts["BatchPredictions"]["rows_per_s"] / parts["BulkInferrer"]["rows_per_s"]
    target(f"CSV predictions rows/s vs BulkInferrer's, {size}", ratio, ">= 0.5", ratio >= 0.5)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 5_000_000])
    parser.add_argument("--label", default=table.BINARY_LABEL, choices=table.LABELS)
    parser.add_argument("--json", default=os.path.join(REPO_ROOT, RESULTS_NAME))
    parser.add_argument("--keep", help="keep the data and runs in this folder")
    args = parser.parse_args()
    scratch = args.keep or tempfile.mkdtemp(prefix="twinnorm-scale-")
    try:
        runs = [run_size(rows, args.label, scratch) for rows in sorted(args.rows)]
        step = step_rate(runs[-1], args.label)
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    payload = {
        **provenance("benchmarks.scale"),
        "label": args.label,
        "step_examples_per_s": step,
        "runs": [{k: v for k, v in r.items() if k not in ("data", "output")} for r in runs],
        "targets": targets(runs, step),
    }
    write_json(args.json, payload)
    print(section(payload))


def section(payload: dict) -> str:
    """docs/benchmarks.md's scale section: per component at each size, then the targets."""
    runs = payload["runs"]
    head = (
        measured(payload)
        + f"; label `{payload['label']}`, "
        + "; ".join(
            f"{r['rows']:,} rows: splits "
            + " / ".join(f"{k} {v:,}" for k, v in r["splits"].items())
            + f", {r['inference_rows']:,} inference rows, {r['wall_s'] / 60:.1f} min wall, "
            f"peak RSS {r['peak_rss_gib']:.2f} GiB, {r['busy_cores']:.2f} busy cores"
            for r in runs
        )
        + "."
    )
    sizes = [f"{r['rows']:,}" for r in runs]
    lines = [
        head,
        "",
        "| component | ours | "
        + " | ".join(f"{s}: s | rows/s | busy cores | peak RSS GiB" for s in sizes)
        + " |",
        "|---|---|" + "---|---|---|---|" * len(runs),
    ]
    names_in_order = [c["component"] for c in runs[-1]["components"]]
    for name in names_in_order:
        cells = []
        for r in runs:
            c = by_component(r).get(name)
            if c is None:
                cells.append("- | - | - | -")
                continue
            speed = f"{c['rows_per_s']:,.0f}" if c["rows_per_s"] and c["seconds"] >= 0.5 else "-"
            cells.append(
                f"{c['seconds']:.1f} | {speed} | {c['busy_cores']:.2f} | {c['peak_rss_gib']:.2f}"
            )
        ours = "yes" if by_component(runs[-1])[name]["ours"] else ""
        lines.append(f"| {name} | {ours} | " + " | ".join(cells) + " |")
    lines += ["", "Trainer phases (training.json), seconds: " + "; ".join(
        f"{r['rows']:,} rows: " + ", ".join(
            f"{k} {v:.1f}" for k, v in (r["training"].get("seconds") or {}).items()
        ) + f" ({r['training']['steps']:,} steps, {r['training']['epochs']} epochs)"
        for r in runs
    ) + "."]  # fmt: skip
    lines += ["", "| target | measured | bound | met |", "|---|---|---|---|"]
    for t in payload["targets"]:
        note = f" ({t['note']})" if t["note"] else ""
        met = "yes" if t["met"] else "**no**"
        lines.append(f"| {t['target']} | {t['value']:.2f}{note} | {t['bound']} | {met} |")
    return "\n".join(lines)


def headline(payload: dict) -> str:
    """README's one line: the largest size run here and its time."""
    r = payload["runs"][-1]
    return (
        f"The largest data run here: {r['rows']:,} rows through the whole default pipeline in "
        f"{r['wall_s'] / 60:.1f} min, peak RSS {r['peak_rss_gib']:.2f} GiB on "
        f"{machine_line(payload['machine'])} ({payload['date']}; "
        "[docs/benchmarks.md](docs/benchmarks.md#the-whole-pipeline-at-scale))."
    )


if __name__ == "__main__":
    main()
