"""Writes a penguin-schema CSV of any size: the embedded rows resampled with measurement noise.

    python -m benchmarks.generate_penguins ROWS OUT.csv [--seed 0]
    python -m benchmarks.generate_penguins ROWS OUT_FOLDER --shards 8   (part-00000-of-00008.csv, ...)

Each row copies a random embedded row (species, island, sex, year and which cells are missing)
and adds Gaussian noise of a quarter of that species' standard deviation to each measurement,
rounded as the source is. Same columns, types, categories and missing-value rate as the
embedded table, so the pipeline runs on it unchanged (`--data OUT` takes a file or a folder).
Deterministic for a seed. Shards matter for Beam: ExampleGen reads one file per bundle, so one big
file leaves every Beam worker but one idle.
"""

from __future__ import annotations

import argparse
import csv
import os
from typing import Dict, List

import numpy as np

from pipeline.config import DEFAULT_DATA, DEFAULT_LABEL

MEASUREMENTS = {
    "bill_length_mm": 1,
    "bill_depth_mm": 1,
    "flipper_length_mm": 0,
    "body_mass_g": 0,
}  # decimals
NOISE = 0.25  # of the species' standard deviation
CHUNK = 100_000


def _species_std(rows: List[Dict[str, str]], column: str) -> Dict[str, float]:
    by_species: Dict[str, List[float]] = {}
    for row in rows:
        if row[column]:
            by_species.setdefault(row[DEFAULT_LABEL], []).append(float(row[column]))
    return {species: float(np.std(values)) for species, values in by_species.items()}


def generate(
    rows: int, out: str, seed: int = 0, source: str = DEFAULT_DATA, shards: int = 1
) -> List[str]:
    """Writes `rows` rows to the CSV file `out`, or with `shards` > 1 to that many files in the
    folder `out`; returns the files written."""
    with open(source) as handle:
        reader = csv.DictReader(handle)
        columns, table = list(reader.fieldnames), list(reader)
    rng = np.random.default_rng(seed)
    stds = {column: _species_std(table, column) for column in MEASUREMENTS}
    if shards > 1:
        os.makedirs(out, exist_ok=True)
        paths = [os.path.join(out, f"part-{i:05d}-of-{shards:05d}.csv") for i in range(shards)]
    else:
        paths = [out]
    bounds = np.linspace(0, rows, len(paths) + 1).astype(int)[1:]  # shard i ends before bounds[i]
    handles = [open(path, "w", newline="") for path in paths]
    try:
        writers = [csv.writer(handle) for handle in handles]
        for writer in writers:
            writer.writerow(columns)
        for start in range(0, rows, CHUNK):  # the random stream does not depend on `shards`
            picks = rng.integers(0, len(table), min(CHUNK, rows - start))
            noise = rng.normal(size=(len(picks), len(MEASUREMENTS)))
            shard_of = np.searchsorted(bounds, start + np.arange(len(picks)), side="right")
            for k, index in enumerate(picks):
                row = dict(table[index])
                for j, (column, decimals) in enumerate(MEASUREMENTS.items()):
                    if row[column]:
                        value = (
                            float(row[column])
                            + NOISE * stds[column][row[DEFAULT_LABEL]] * noise[k, j]
                        )
                        row[column] = f"{max(value, 0.1):.{decimals}f}"
                writers[shard_of[k]].writerow([row[c] for c in columns])
    finally:
        for handle in handles:
            handle.close()
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int)
    parser.add_argument("out")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--shards", type=int, default=1, help="> 1: a folder of that many CSV files"
    )
    args = parser.parse_args()
    files = generate(args.rows, args.out, args.seed, shards=args.shards)
    print(f"wrote {args.rows} rows to {args.out} ({len(files)} file(s))")


if __name__ == "__main__":
    main()
