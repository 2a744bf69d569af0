"""The label column read straight from the CSV before any component runs: it decides the task,
the class count and so the normalization mode, and refuses labels that cannot train, naming the
file and line. Reading one column of 15k rows takes a few tens of milliseconds."""

from __future__ import annotations

import collections
import csv
import dataclasses
import math
from typing import List, Optional, Sequence, Tuple

from modules import modes, paths

MAX_CLASS_VALUES = 20  # an integer label with more distinct values than this is taken as numeric
# Fewer rows than this and a class is likely to miss the train split of ExampleGen's hash split
# (each row lands in train with probability ~0.7: all of 5 rows elsewhere has odds 0.3^5 = 0.2 %),
# and the Trainer cannot map a class its train split never had.
MIN_CLASS_ROWS = 5
SHOWN = 5
SNIFFED_ROWS = 10_000


@dataclasses.dataclass(frozen=True)
class LabelProfile:
    column: str
    rows: int
    distinct: Tuple[str, ...]  # sorted distinct non-empty values
    missing: Tuple[str, ...]  # "file:line" of each row whose label cell is empty
    non_numeric: Tuple[str, ...]  # "file:line (value)" of cells that are not numbers
    counts: Tuple[int, ...]  # rows of each distinct value, in `distinct`'s order

    @property
    def numeric(self) -> bool:
        return not self.non_numeric and bool(self.distinct)

    @property
    def integral(self) -> bool:
        return self.numeric and all(float(v).is_integer() for v in self.distinct)

    def task(self) -> str:
        """`auto` task: numbers that are not a handful of integer codes are a regression target."""
        many = len(self.distinct) > MAX_CLASS_VALUES
        return (
            modes.REGRESSION
            if self.numeric and (many or not self.integral)
            else modes.CLASSIFICATION
        )

    def n_outputs(self, task: str) -> int:
        return 1 if task == modes.REGRESSION else len(self.distinct)

    def check(self, task: str) -> None:
        """Refuses empty label cells, and non-numeric cells for regression, naming where they are."""
        if self.missing:
            raise ValueError(
                f"label {self.column!r} is empty in {len(self.missing)} row(s), first at "
                f"{', '.join(self.missing[:SHOWN])}: drop or fill those rows"
            )
        if task == modes.REGRESSION and self.non_numeric:
            raise ValueError(
                f"regression label {self.column!r} has {len(self.non_numeric)} non-numeric value(s), "
                f"first at {', '.join(self.non_numeric[:SHOWN])}"
            )
        rare = [
            f"{value!r} ({count} row{'s' if count > 1 else ''})"
            for value, count in zip(self.distinct, self.counts, strict=True)
            if count < MIN_CLASS_ROWS
        ]
        if task == modes.CLASSIFICATION and rare:
            raise ValueError(
                f"label {self.column!r} has class(es) with fewer than {MIN_CLASS_ROWS} rows: "
                f"{', '.join(rare[:SHOWN])}; the hash split would likely leave them out of the "
                "train split, and no model learns a class it never saw: drop or merge those rows"
            )


def read_label(files: Sequence[str], column: str) -> LabelProfile:
    """Profiles `column` over every data row of `files` (CSV files with a header line)."""
    rows, values, missing, non_numeric = 0, collections.Counter(), [], []
    for path in files:
        with paths.open_text(path) as handle:
            reader = csv.reader(handle)
            index = next(reader).index(column)
            for line, row in enumerate(reader, start=2):
                if not row:
                    continue
                rows += 1
                cell = row[index].strip() if index < len(row) else ""
                if not cell:
                    missing.append(f"{path}:{line}")
                    continue
                values[cell] += 1
                if _number(cell) is None:
                    non_numeric.append(f"{path}:{line} ({cell!r})")
    distinct = tuple(sorted(values))
    return LabelProfile(
        column,
        rows,
        distinct,
        tuple(missing),
        tuple(non_numeric),
        tuple(values[v] for v in distinct),
    )


def _number(cell: str) -> Optional[float]:
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def numeric_columns(files: Sequence[str], columns: Sequence[str]) -> List[str]:
    """Columns whose non-empty cells (the first SNIFFED_ROWS rows of each file) are all numbers,
    as CsvExampleGen would type them: drift compares these with Jensen-Shannon divergence and the
    others with L-infinity distance."""
    numeric = dict.fromkeys(columns, True)
    for file in files:
        with paths.open_text(file) as handle:
            for index, row in enumerate(csv.DictReader(handle)):
                if index >= SNIFFED_ROWS:
                    break
                for column in columns:
                    cell = (row.get(column) or "").strip()
                    if cell and numeric[column]:
                        try:
                            float(cell)
                        except ValueError:
                            numeric[column] = False
    return [c for c in columns if numeric[c]]
