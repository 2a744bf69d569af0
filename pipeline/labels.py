"""The label column read straight from the CSV before any component runs: it decides the task,
the class count and so the normalization mode, and refuses labels that cannot train, naming the
file and line. Reading one column of 15k rows takes a few tens of milliseconds."""

from __future__ import annotations

import collections
import dataclasses
import math
from typing import List, Optional, Sequence, Tuple

from modules import modes
from pipeline import csv_reading

MAX_CLASS_VALUES = 20  # an integer label with more distinct values than this is taken as numeric
# Fewer rows than this and a class is likely to miss the train split of ExampleGen's hash split
# (each row lands in train with probability ~0.7: all of 5 rows elsewhere has odds 0.3^5 = 0.2 %),
# and the Trainer cannot map a class its train split never had.
MIN_CLASS_ROWS = 5
SHOWN = 5
SNIFFED_ROWS = 10_000
# Distinct label values kept: a class label has far fewer, a regression label needs none of them.
MAX_DISTINCT = 10_000


@dataclasses.dataclass(frozen=True)
class LabelProfile:
    column: str
    rows: int
    distinct: Tuple[str, ...]  # sorted distinct non-empty values (the first MAX_DISTINCT)
    missing: Tuple[str, ...]  # "file:line" of the first rows whose label cell is empty
    non_numeric: Tuple[str, ...]  # "file:line (value)" of the first cells that are not numbers
    counts: Tuple[int, ...]  # rows of each distinct value, in `distinct`'s order
    missing_rows: int = 0  # rows whose label cell is empty, all of them
    non_numeric_rows: int = 0
    integral_numbers: bool = True  # every numeric cell is a whole number
    more_values: bool = False  # more than MAX_DISTINCT distinct values: `distinct` is cut

    @property
    def numeric(self) -> bool:
        return not self.non_numeric_rows and bool(self.distinct)

    @property
    def integral(self) -> bool:
        return self.numeric and self.integral_numbers

    def task(self) -> str:
        """`auto` task: numbers that are not a handful of integer codes are a regression target."""
        many = self.more_values or len(self.distinct) > MAX_CLASS_VALUES
        return (
            modes.REGRESSION
            if self.numeric and (many or not self.integral)
            else modes.CLASSIFICATION
        )

    def n_outputs(self, task: str) -> int:
        return 1 if task == modes.REGRESSION else len(self.distinct)

    def check(self, task: str, drop_missing: bool = False) -> None:
        """Refuses empty label cells (unless they are set aside), non-numeric cells for
        regression and classes too rare to split, naming where they are."""
        if self.missing_rows and not drop_missing:
            raise ValueError(
                f"label {self.column!r} is empty in {self.missing_rows} row(s), first at "
                f"{', '.join(self.missing[:SHOWN])}: drop or fill those rows, or leave out "
                "--on-missing-label fail to set them aside"
            )
        if self.missing_rows == self.rows:
            raise ValueError(f"label {self.column!r} is empty in every row")
        if task == modes.REGRESSION and self.non_numeric_rows:
            raise ValueError(
                f"regression label {self.column!r} has {self.non_numeric_rows} non-numeric "
                f"value(s), first at {', '.join(self.non_numeric[:SHOWN])}"
            )
        if task == modes.CLASSIFICATION and self.more_values:
            raise ValueError(
                f"label {self.column!r} has over {MAX_DISTINCT:,} distinct values: too many "
                "classes to learn (a numeric label with many values is a regression target)"
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


class LabelCounter:
    """Builds a LabelProfile cell by cell, in memory bounded by MAX_DISTINCT values."""

    def __init__(self, column: str):
        self.column = column
        self.rows = self.missing_rows = self.non_numeric_rows = 0
        self.values: collections.Counter = collections.Counter()
        self.missing: List[str] = []
        self.non_numeric: List[str] = []
        self.integral = True
        self.more_values = False

    def add(self, cell: str, where: str) -> None:
        """One row's label cell, stripped as Transform strips it; `where` is "file:line"."""
        self.rows += 1
        cell = cell.strip()
        if not cell:
            self.missing_rows += 1
            if len(self.missing) < SHOWN:
                self.missing.append(where)
            return
        if cell in self.values or len(self.values) < MAX_DISTINCT:
            self.values[cell] += 1
        else:
            self.more_values = True
        number = _number(cell)
        if number is None:
            self.non_numeric_rows += 1
            if len(self.non_numeric) < SHOWN:
                self.non_numeric.append(f"{where} ({cell!r})")
        elif not number.is_integer():
            self.integral = False

    def profile(self) -> LabelProfile:
        distinct = tuple(sorted(self.values))
        return LabelProfile(
            self.column,
            self.rows,
            distinct,
            tuple(self.missing),
            tuple(self.non_numeric),
            tuple(self.values[v] for v in distinct),
            missing_rows=self.missing_rows,
            non_numeric_rows=self.non_numeric_rows,
            integral_numbers=self.integral,
            more_values=self.more_values,
        )


def read_label(files: Sequence[str], column: str) -> LabelProfile:
    """Profiles `column` over every data row of `files` (CSV files in any form csv_reading reads)."""
    counter = LabelCounter(column)
    for path in files:
        form = csv_reading.sniff(path)
        index = form.header.index(column)
        for line, row in csv_reading.rows(form):
            counter.add(row[index], f"{path}:{line}")
    return counter.profile()


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
        form = csv_reading.sniff(file)
        indexes = {column: form.header.index(column) for column in columns}
        for _, row in csv_reading.rows(form, limit=SNIFFED_ROWS):
            for column, index in indexes.items():
                if numeric[column] and row[index].strip() and not _parses(row[index]):
                    numeric[column] = False
    return [c for c in columns if numeric[c]]


def _parses(cell: str) -> bool:
    """Whether CsvExampleGen reads the cell as a number (`nan` and `inf` included)."""
    try:
        float(cell)
    except ValueError:
        return False
    return True
