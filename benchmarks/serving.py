"""Serving latency (p50, p99) and throughput of `serving_default` through a TF1 session, the path
TF Serving's C++ loader takes: the combined model against a single network's model.

    python -m benchmarks.serving --run TWINNORM_OUTPUT [--quick] [--json PATH]

Both pushed SavedModels are loaded side by side; requests of serialized raw tf.Examples (penguin
rows, repeated to fill the batch) alternate between them. Every request's `session.run` is timed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Callable, Dict, List, Tuple

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft

from benchmarks.common import Comparison, alternate, newest_artifact, side, write_result
from components.pusher import versions
from modules import names
from modules.paths import OutputLayout
from pipeline.config import DEFAULT_DATA, PipelineConfig
from pipeline.resolution import resolve
from serving_client.raw_examples import read_rows, serialize

BATCH_SIZES = (1, 64, 1024)
REQUESTS = {1: 400, 64: 200, 1024: 40}  # per timing; --quick takes a quarter


class Tf1Model:
    """One SavedModel loaded into its own graph and TF1 session, as TF Serving holds it."""

    def __init__(self, model_dir: str):
        self.graph = tf.compat.v1.Graph()
        self.session = tf.compat.v1.Session(graph=self.graph)
        with self.graph.as_default():
            self.meta = tf.compat.v1.saved_model.loader.load(self.session, ["serve"], model_dir)
        self.bound: Dict[str, Tuple[str, Dict[str, str]]] = {}

    def __call__(
        self, examples: np.ndarray, signature: str = names.SERVING_DEFAULT
    ) -> Dict[str, np.ndarray]:
        """One request of serialized examples to `signature`."""
        if signature not in self.bound:  # looked up once, outside the timed requests
            sig = self.meta.signature_def[signature]
            fetches = {key: info.name for key, info in sig.outputs.items()}
            self.bound[signature] = (sig.inputs[names.EXAMPLES_INPUT].name, fetches)
        feed, fetches = self.bound[signature]
        return self.session.run(fetches, feed_dict={feed: examples})


def request_timer(
    model: Tf1Model, examples: np.ndarray, requests: int, latencies: List[float]
) -> Callable[[], float]:
    """Times `requests` calls, appends each latency (s) to `latencies`, returns examples/s."""
    for _ in range(10):
        model(examples)  # warm-up

    def measure() -> float:
        started = time.perf_counter()
        for _ in range(requests):
            t0 = time.perf_counter()
            model(examples)
            latencies.append(time.perf_counter() - t0)
        return requests * len(examples) / (time.perf_counter() - started)

    return measure


def percentile_ms(values: List[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000.0, q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="a finished twinnorm output folder")
    parser.add_argument("--network", default=names.NETWORK_A, choices=names.NETWORKS)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--json")
    args = parser.parse_args()
    repeats = args.repeats or (3 if args.quick else 5)
    serving_root = OutputLayout(args.run).serving_root
    models = {}
    for model in (names.COMBINED, args.network):
        model_dir = os.path.join(serving_root, model)
        models[model] = Tf1Model(os.path.join(model_dir, str(versions(model_dir)[-1])))
    pipeline = resolve(PipelineConfig())
    spec = tft.TFTransformOutput(
        newest_artifact(args.run, "Transform", "transform_graph")
    ).raw_feature_spec()
    spec.pop(pipeline.label)
    rows = serialize(read_rows(DEFAULT_DATA), spec)
    comparisons, details = [], {}
    for batch_size in BATCH_SIZES:
        examples = np.array([rows[i % len(rows)] for i in range(batch_size)], dtype=object)
        requests = REQUESTS[batch_size] // (4 if args.quick else 1)
        latencies = {model: [] for model in models}
        runs = alternate(
            {
                model: request_timer(m, examples, requests, latencies[model])
                for model, m in models.items()
            },
            repeats,
        )
        # p50 and p99 per repetition, then the median over repetitions.
        per_rep = {
            model: [latencies[model][i * requests : (i + 1) * requests] for i in range(repeats)]
            for model in models
        }
        combined, single = names.COMBINED, args.network
        p50 = {m: [percentile_ms(r, 50) for r in per_rep[m]] for m in models}
        p99 = {m: [percentile_ms(r, 99) for r in per_rep[m]] for m in models}
        comparisons += [
            Comparison(
                "serving",
                f"batch {batch_size}: p50 latency, combined vs {single}",
                side("combined model", p50[combined], "ms"),
                side(f"{single} model", p50[single], "ms"),
                "<= 1.5" if batch_size == 1 else "",
                f"{requests} requests per timing",
            ),
            Comparison(
                "serving",
                f"batch {batch_size}: p99 latency, combined vs {single}",
                side("combined model", p99[combined], "ms"),
                side(f"{single} model", p99[single], "ms"),
            ),
            Comparison(
                "serving",
                f"batch {batch_size}: throughput, combined vs {single}",
                side("combined model", runs[combined], "examples/s"),
                side(f"{single} model", runs[single], "examples/s"),
            ),
        ]
        details[f"batch_{batch_size}"] = {
            m: {
                "p50_ms": statistics.median(p50[m]),
                "p99_ms": statistics.median(p99[m]),
                "examples_per_s": statistics.median(runs[m]),
            }
            for m in models
        }
        for c in comparisons[-3:]:
            print(
                f"{c.name}: {c.ours.value:,.3f} vs {c.baseline.value:,.3f} {c.ours.unit}, ratio {c.ratio:.2f}",
                flush=True,
            )
    write_result(
        args.json,
        comparisons,
        {"repeats": repeats, "by_batch": details, "signature": names.SERVING_DEFAULT},
    )


if __name__ == "__main__":
    main()
