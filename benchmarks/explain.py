"""What an explanation costs: each pushed model's `explain` signature against its
`serving_default` on the same rows, in the same batches, in one TF1 session per model (the path
TF Serving's C++ loader takes), timings alternated. Completeness is measured on the same rows.

    python -m benchmarks.explain --run TWINNORM_OUTPUT [--rows 10000] [--batch 1024] [--json PATH]

Writes benchmarks/results/explain.json; docs/serving.md's cost table is rendered from it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import List

import numpy as np
import tensorflow_transform as tft

from benchmarks.common import (
    REPO_ROOT,
    alternate,
    measured,
    newest_artifact,
    provenance,
    write_json,
)
from benchmarks.serving import Tf1Model
from components.pusher import versions
from modules import attribution, names
from modules.paths import OutputLayout
from pipeline.config import DEFAULT_DATA, PipelineConfig
from pipeline.resolution import resolve
from serving_client.raw_examples import read_rows, serialize

RESULTS_NAME = os.path.join("benchmarks", "results", "explain.json")
BOUND = 20.0  # explain's time over serving_default's, same rows and batches (issue 36)


def batches_of(rows: List[bytes], count: int, batch: int) -> List[np.ndarray]:
    """`count` examples (the rows repeated) in batches of `batch`, the last one short."""
    examples = [rows[i % len(rows)] for i in range(count)]
    return [np.array(examples[i : i + batch], dtype=object) for i in range(0, count, batch)]


def completeness(model: Tf1Model, batches: List[np.ndarray]) -> float:
    """The largest |sum(attributions) - (prediction - baseline_prediction)| over every row, as a
    share of 2 % of |difference| + 2e-3 (the tested tolerance): below 1 is within it."""
    worst = 0.0
    for examples in batches:
        out = model(examples, names.EXPLAIN)
        difference = out[names.PREDICTION].astype(np.float64) - out[names.BASELINE_PREDICTION]
        gap = np.abs(out[names.ATTRIBUTIONS].sum(axis=1) - difference)
        worst = max(worst, float(np.max(gap / (0.02 * np.abs(difference) + 2e-3))))
    return worst


def main(argv: List[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="a finished twinnorm output folder (penguins)")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", default=os.path.join(REPO_ROOT, RESULTS_NAME))
    args = parser.parse_args(argv)
    serving_root = OutputLayout(args.run).serving_root
    spec = tft.TFTransformOutput(
        newest_artifact(args.run, "Transform", "transform_graph")
    ).raw_feature_spec()
    spec.pop(resolve(PipelineConfig()).label)
    batches = batches_of(serialize(read_rows(DEFAULT_DATA), spec), args.rows, args.batch)
    models = {}
    for model in names.SERVED_MODELS:
        folder = os.path.join(serving_root, model)
        loaded = Tf1Model(os.path.join(folder, str(versions(folder)[-1])))

        def timer(signature: str, loaded: Tf1Model = loaded):
            for examples in batches[:2]:
                loaded(examples, signature)  # warm-up

            def measure() -> float:
                started = time.perf_counter()
                for examples in batches:
                    loaded(examples, signature)
                return time.perf_counter() - started

            return measure

        seconds = alternate(
            {s: timer(s) for s in (names.SERVING_DEFAULT, names.EXPLAIN)}, args.repeats
        )
        serve, explain = (
            statistics.median(seconds[s]) for s in (names.SERVING_DEFAULT, names.EXPLAIN)
        )
        models[model] = {
            "serving_default_s": serve,
            "explain_s": explain,
            "ratio": explain / serve,
            "completeness_share": completeness(loaded, batches),
        }
        print(model, models[model], flush=True)
    payload = {
        **provenance("benchmarks.explain"),
        "rows": args.rows,
        "batch": args.batch,
        "steps": attribution.STEPS,
        "bound": BOUND,
        "models": models,
    }
    write_json(args.json, payload)


def section(payload: dict) -> str:
    """docs/serving.md's cost table."""
    lines = [
        measured(payload) + f": {payload['rows']:,} penguin rows in "
        f"batches of {payload['batch']}, {payload['steps']} path segments, each signature "
        "through a TF1 session (median of alternated timings).",
        "",
        "| model | serving_default | explain | explain / serving | worst completeness gap, share of the tolerance |",
        "|---|---|---|---|---|",
    ]
    for model, m in payload["models"].items():
        lines.append(
            f"| {model} | {1000 * m['serving_default_s']:.0f} ms | {1000 * m['explain_s']:.0f} ms | "
            f"{m['ratio']:.1f}x | {m['completeness_share']:.1e} |"
        )
    lines += ["", f"Bound: explain at most {payload['bound']:g}x serving_default."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
