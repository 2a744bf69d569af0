"""The one pass over the user's data files before any component runs, and the copy CsvExampleGen
reads when it cannot read them as they are.

CsvExampleGen reads one form: uncompressed UTF-8, commas, a header it splits on commas. A file in
any other form (gzip, a byte-order mark, tabs or semicolons with decimal commas, a delimiter
closing every line, a quoted header), and data whose rows with an empty label are set aside, are
copied once into that form, into `OUTPUT/prepared/NAME/<digest>/data.csv`. The digest covers the
files' bytes and what the copy does, so an unchanged file is copied once and re-used by later
runs (and ExampleGen's cache sees the same file); the console and the run log say why a copy was
made. Plain files with every label present are read in place.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import os
from typing import List, Sequence, Tuple

from modules import paths
from pipeline import column_choice, csv_reading
from pipeline.labels import LabelCounter, LabelProfile

COPY_NAME = "data.csv"
FORMAT_VERSION = "1"  # part of the digest: a change to what the copy does makes a new copy


@dataclasses.dataclass(frozen=True)
class DataProfile:
    """What one pass over the data files found."""

    forms: Tuple[csv_reading.CsvForm, ...]
    labels: Tuple[LabelProfile, ...]
    samples: Tuple[column_choice.ColumnSample, ...]

    @property
    def header(self) -> Tuple[str, ...]:
        return self.forms[0].header

    @property
    def rows(self) -> int:
        return self.labels[0].rows if self.labels else 0

    @property
    def unlabelled(self) -> int:
        """Rows whose label (any of the label columns) is empty."""
        return max((label.missing_rows for label in self.labels), default=0)


def profile(forms: Sequence[csv_reading.CsvForm], label_columns: Sequence[str]) -> DataProfile:
    """Label profiles over every row, and column samples over the first rows, in one pass."""
    header = forms[0].header
    counters = [(header.index(c), LabelCounter(c)) for c in label_columns]
    samples = [column_choice.ColumnSample(name) for name in header]
    sampled = 0
    for form in forms:
        for line, row in csv_reading.rows(form):
            row = csv_reading.plain_numbers(row, form.delimiter)
            for index, counter in counters:
                counter.add(row[index], f"{form.path}:{line}")
            if sampled < column_choice.SAMPLE_ROWS:
                sampled += 1
                for sample, cell in zip(samples, row, strict=True):
                    sample.add(cell)
    return DataProfile(tuple(forms), tuple(c.profile() for _, c in counters), tuple(samples))


def copy_reasons(data: DataProfile, drop_unlabelled: bool, folder: bool) -> List[str]:
    """Why the files must be copied before CsvExampleGen reads them (empty: read in place).
    `folder`: the data is a folder, whose files ExampleGen reads as `*.csv`."""
    reasons = [
        f"{os.path.basename(form.path)}: not named *.csv"
        for form in data.forms
        if folder and not form.path.endswith(".csv")
    ]
    reasons += [
        f"{os.path.basename(form.path)}: {reason}"
        for form in data.forms
        for reason in form.copy_reasons()
    ]
    if drop_unlabelled and data.unlabelled:
        reasons.append(f"{data.unlabelled} row(s) with an empty label set aside")
    return reasons


def prepare(
    data: DataProfile,
    label_columns: Sequence[str],
    drop_unlabelled: bool,
    folder: str,
    row_key: str = "",
) -> str:
    """The path CsvExampleGen reads: the copy in `folder` (made once per digest), in plain form
    with the unlabelled rows left out when `drop_unlabelled`, and a first column `row_key`
    numbering the data rows from 1 when given."""
    digest = _digest(data.forms, [*label_columns, row_key], drop_unlabelled)
    if paths.is_uri(folder):
        raise ValueError(
            f"the data must be copied into plain CSV first, and {folder} is not a local folder: "
            "convert it to comma-separated UTF-8 with every label present beforehand"
        )
    target = os.path.join(folder, digest)
    if paths.exists(os.path.join(target, COPY_NAME)):
        return target
    labels = [data.header.index(c) for c in label_columns] if drop_unlabelled else []
    os.makedirs(target, exist_ok=True)
    partial = os.path.join(target, f".{COPY_NAME}.{os.getpid()}")
    with open(partial, "w", encoding="utf-8", newline="") as handle:
        handle.write(",".join([row_key, *data.header] if row_key else data.header) + "\n")
        writer = csv.writer(handle, lineterminator="\n")
        number = 0
        for form in data.forms:
            for _, row in csv_reading.rows(form):
                if any(not row[i].strip() for i in labels):
                    continue
                number += 1
                plain = csv_reading.plain_numbers(row, form.delimiter)
                writer.writerow([number, *plain] if row_key else plain)
    os.replace(partial, os.path.join(target, COPY_NAME))
    return target


def _digest(
    forms: Sequence[csv_reading.CsvForm], label_columns: Sequence[str], drop_unlabelled: bool
) -> str:
    """SHA-256 of the files' bytes and of what the copy does with them (first 16 hex digits)."""
    digest = hashlib.sha256(f"{FORMAT_VERSION}|{list(label_columns)}|{drop_unlabelled}".encode())
    for form in forms:
        with csv_reading.open_binary(form.path) as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()[:16]
