"""Writes a customer table of any size with the shape of a real tabular file, for the scale
benchmark (benchmarks/scale.py):

    python -m benchmarks.generate_tabular ROWS OUT_FOLDER [--shards 8] [--seed 0] [--unlabelled]

One id column (`customer_id`, the batch predictions' key), seven numeric columns with missing
cells (ints and floats, one heavy-tailed), four categorical columns (3 to 40 categories, one
with missing cells), a binary label `churned` (0/1, about one row in five positive) and a
regression label `spend_next_month`, both depending non-linearly on the features plus noise, so
a model has something to learn and cannot be perfect. `--unlabelled` leaves both labels out (the
batch-inference input). Written in chunks, as `part-00000-of-00008.csv`, ...; deterministic for a
seed.
"""

from __future__ import annotations

import argparse
import os
from typing import Dict, List

import numpy as np
import pandas as pd

KEY = "customer_id"
BINARY_LABEL = "churned"
REGRESSION_LABEL = "spend_next_month"
LABELS = (BINARY_LABEL, REGRESSION_LABEL)
CATEGORIES = {
    "region": [f"region_{i:02d}" for i in range(12)],
    "plan": ["basic", "standard", "premium", "enterprise"],
    "device": ["android", "ios", "web"],
    "city": [f"city_{i:02d}" for i in range(40)],
}
NUMERIC = (
    "age",
    "tenure_months",
    "monthly_charges",
    "lifetime_value",
    "support_calls",
    "days_since_login",
    "discount_rate",
)
FEATURES = (*NUMERIC, *CATEGORIES)
CHUNK = 250_000


def _missing(rng: np.random.Generator, values: np.ndarray, rate: float) -> np.ndarray:
    """`values` as float with a `rate` share of cells missing (NaN, an empty CSV cell)."""
    out = values.astype(np.float64)
    out[rng.random(len(out)) < rate] = np.nan
    return out


def chunk(rng: np.random.Generator, first: int, n: int, labelled: bool) -> pd.DataFrame:
    """Rows first .. first + n - 1."""
    cats = {c: rng.integers(0, len(v), n) for c, v in CATEGORIES.items()}
    age = rng.integers(18, 91, n)
    tenure = rng.integers(0, 121, n)
    plan_price = np.array([20.0, 45.0, 80.0, 150.0])[cats["plan"]]
    charges = np.round(plan_price * rng.lognormal(0.0, 0.25, n), 2)
    value = np.round(charges * (tenure + 1) * rng.lognormal(0.0, 1.5, n), 2)  # heavy tail
    calls = rng.poisson(1.0 + 2.0 * (cats["device"] == 2), n)
    login = np.round(rng.exponential(12.0, n), 1)
    discount = np.round(rng.beta(1.0, 6.0, n), 3)
    columns: Dict[str, object] = {KEY: [f"C{i:09d}" for i in range(first, first + n)]}
    columns.update(
        age=_missing(rng, age, 0.03),
        tenure_months=tenure,
        monthly_charges=_missing(rng, charges, 0.05),
        lifetime_value=_missing(rng, value, 0.02),
        support_calls=calls,
        days_since_login=_missing(rng, login, 0.20),
        discount_rate=discount,
    )
    for name, values in CATEGORIES.items():
        text = np.array(values, dtype=object)[cats[name]]
        if name == "device":
            text[rng.random(n) < 0.04] = ""
        columns[name] = text
    if labelled:
        region_effect = np.sin(cats["region"] * 1.3)
        score = (
            -1.6
            + 0.45 * calls
            - 0.025 * tenure
            + 0.04 * np.minimum(login, 60.0)
            + 0.9 * (cats["plan"] == 0)
            - 3.0 * discount
            + 0.5 * region_effect
            + 0.012 * np.abs(age - 45)
        )
        columns[BINARY_LABEL] = (rng.random(n) < 1.0 / (1.0 + np.exp(-score))).astype(int)
        columns[REGRESSION_LABEL] = np.round(
            charges * (1.0 + 0.3 * region_effect) * (1.0 - discount)
            + 4.0 * calls
            + np.sqrt(tenure) * 2.0
            + rng.normal(0.0, 8.0, n),
            2,
        )
    return pd.DataFrame(columns)


def generate(
    rows: int, out: str, shards: int = 8, seed: int = 0, labelled: bool = True
) -> List[str]:
    """Writes `rows` rows into `shards` CSV files in the folder `out`; returns the files."""
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(seed)
    bounds = np.linspace(0, rows, shards + 1).astype(int)
    paths = []
    for shard in range(shards):
        path = os.path.join(out, f"part-{shard:05d}-of-{shards:05d}.csv")
        paths.append(path)
        start = int(bounds[shard])
        for first in range(start, int(bounds[shard + 1]), CHUNK):
            n = min(CHUNK, int(bounds[shard + 1]) - first)
            chunk(rng, first, n, labelled).to_csv(
                path, mode="a" if first > start else "w", header=first == start, index=False
            )
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int)
    parser.add_argument("out")
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--unlabelled", action="store_true")
    args = parser.parse_args()
    for path in generate(args.rows, args.out, args.shards, args.seed, not args.unlabelled):
        print(path)


if __name__ == "__main__":
    main()
