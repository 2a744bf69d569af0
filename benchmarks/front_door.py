"""A table as users export it, through the whole default pipeline: a free-text column with about
one distinct string per row (a few words carry the signal), an ISO date whose month carries
signal, a number with gaps, a category and an id, under spreadsheet headers.

Two runs on the same rows, defaults only: every column, and the same pipeline with the text and
the date left out (`--features`). Each served model is scored on held-out rows no run saw (AUC,
through the pushed SavedModel's `classification` signature); each run's wall time and the peak
RSS of its whole process tree are measured. Writes benchmarks/results/front_door.json.

    python -m benchmarks.front_door [--rows 50000] [--keep FOLDER]
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
import tempfile
from typing import Dict, List

import numpy as np

from benchmarks.common import (
    measured,
    newest_artifact,
    provenance,
    run_process,
    write_json,
)
from pipeline.local import EXIT_NOT_BLESSED, EXIT_OK
from pipeline.project import REPO_ROOT

RESULTS_NAME = os.path.join("benchmarks", "results", "front_door.json")
LABEL = "Churned?"
TEXT, DATE = "Review text", "Signed up"
OTHERS = ("Monthly spend (€)", "Plan")
HEADER = ("Customer ID", TEXT, DATE, *OTHERS, LABEL)
BAD, GOOD = ("refund", "broken", "cancel"), ("love", "great", "recommend")
HELD_OUT = 10_000
RSS_BOUND_GIB = 4.0
TIME_BOUND = 2.0  # wall time with the text and date over the run without them


def rows(count: int, seed: int) -> List[List[str]]:
    """`count` rows; P(churn) rises with a complaint word, falls with praise, rises in Nov/Dec."""
    rng = np.random.default_rng(seed)
    filler = [f"w{i}" for i in range(3000)]
    table = []
    for i in range(count):
        bad, good = rng.random() < 0.25, rng.random() < 0.25
        words = list(rng.choice(filler, size=int(rng.integers(4, 12))))
        words += [str(rng.choice(BAD))] * bad + [str(rng.choice(GOOD))] * good
        rng.shuffle(words)
        month, spend = int(rng.integers(1, 13)), float(rng.gamma(2.0, 30.0))
        plan = str(rng.choice(["basic", "plus", "family", "pro"]))
        logit = -1.0 + 2.0 * bad - 2.0 * good + 1.5 * (month >= 11) + 0.01 * (spend - 60)
        churned = rng.random() < 1 / (1 + np.exp(-logit))
        table.append(
            [
                f"C-{seed}-{i:07d}",
                " ".join(words) + f". Order {i}",
                f"{int(rng.integers(2015, 2024))}-{month:02d}-{int(rng.integers(1, 29)):02d}",
                "" if rng.random() < 0.1 else f"{spend:.2f}",
                plan,
                "yes" if churned else "no",
            ]
        )
    return table


def write(path: str, table: List[List[str]]) -> str:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(table)
    return path


def served_auc(model_dir: str, test_csv: str) -> float:
    """AUC of P(yes) from the pushed combined model on the held-out rows, as a client sends them."""
    import tensorflow as tf
    from sklearn.metrics import roc_auc_score

    from modules import names
    from serving_client import requests
    from serving_client.__main__ import feature_spec_of
    from serving_client.raw_examples import read_rows, serialize

    table = read_rows(test_csv)
    spec = requests.by_column_names(feature_spec_of(model_dir), list(table[0]))
    classify = tf.saved_model.load(model_dir).signatures[names.CLASSIFICATION]
    scores, labels = [], []
    for start in range(0, len(table), 2048):
        batch = table[start : start + 2048]
        out = classify(inputs=tf.constant(serialize(batch, spec)))
        classes = out[names.CLASSIFY_CLASSES].numpy()[0].tolist()
        scores += out[names.CLASSIFY_SCORES].numpy()[:, classes.index(b"yes")].tolist()
        labels += [row[LABEL] == "yes" for row in batch]
    return float(roc_auc_score(labels, scores))


def run(name: str, train_csv: str, test_csv: str, scratch: str, *args: str) -> Dict[str, object]:
    output = os.path.join(scratch, name)
    command = [
        sys.executable, "local_runner.py", "--data", train_csv, "--label", LABEL,
        "--output", output, "--inference-data", "none", *args,
    ]  # fmt: skip
    measured = run_process(command, exit_codes=(EXIT_OK, EXIT_NOT_BLESSED))
    # The Trainer's combined model (what a blessed run pushes): a run the bar refuses scores too.
    model_dir = os.path.join(newest_artifact(output, "Trainer", "model"), "Format-Serving")
    return {
        "name": name,
        "args": list(args),
        "wall_s": measured.seconds,
        "peak_rss_gib": measured.peak_rss / 2**30,
        "blessed": "blessed, pushed version 1" in measured.stdout,
        "auc_unseen": served_auc(model_dir, test_csv),
        "columns": [  # the console's line per column, the columns left out included
            line.strip()
            for line in measured.stdout.splitlines()
            if line.startswith("  ") and (" - " in line or ": left out (" in line)
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--json", default=os.path.join(REPO_ROOT, RESULTS_NAME))
    parser.add_argument("--keep", help="keep the data and runs in this folder")
    args = parser.parse_args()
    scratch = args.keep or tempfile.mkdtemp(prefix="twinnorm-front-door-")
    try:
        train = write(os.path.join(scratch, "customers.csv"), rows(args.rows, seed=1))
        test = write(os.path.join(scratch, "held-out.csv"), rows(HELD_OUT, seed=2))
        runs = [
            run("every column", train, test, scratch),
            run("without text and date", train, test, scratch, "--features", ",".join(OTHERS)),
        ]
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    payload = {
        **provenance("benchmarks.front_door"),
        "rows": args.rows,
        "held_out_rows": HELD_OUT,
        "runs": runs,
    }
    write_json(args.json, payload)
    print(section(payload))


def section(payload: dict) -> str:
    """docs/benchmarks.md's section: each run's AUC on unseen rows, wall time and peak RSS."""
    every, without = payload["runs"]
    lines = [
        measured(payload) + f": {payload['rows']:,} generated rows "
        f"(a free-text column with a distinct string per row, an ISO date, a number with gaps, "
        f"a category, an id), scored on {payload['held_out_rows']:,} held-out rows no run saw.",
        "",
        "| run | blessed | AUC, unseen rows | wall time | peak RSS, process tree |",
        "|---|---|---|---|---|",
    ]
    for r in payload["runs"]:
        lines.append(
            f"| {r['name']} | {'yes' if r['blessed'] else 'no'} | {r['auc_unseen']:.3f} | "
            f"{r['wall_s'] / 60:.1f} min | {r['peak_rss_gib']:.2f} GiB |"
        )
    lines += [
        "",
        f"Text and date add {every['auc_unseen'] - without['auc_unseen']:+.3f} AUC at "
        f"{every['wall_s'] / without['wall_s']:.2f}x the wall time (bound: {TIME_BOUND:g}x); peak RSS "
        f"{every['peak_rss_gib']:.2f} GiB (bound: {RSS_BOUND_GIB:g} GiB). What each column "
        "became (the run's console):",
        "",
        *(f"- {line}" for line in every["columns"]),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
