"""The files a config names, read before any component runs: the CSV files (a file, or a folder
of files with one header) and a curated schema, each checked so that a bad one fails in one line
naming it."""

from __future__ import annotations

import collections
import os
from typing import List, Tuple

from modules import columns, paths
from pipeline import csv_reading

# What a folder's data files may be called: CSV, TSV or text, compressed or not.
DATA_PATTERNS = ("*.csv", "*.tsv", "*.txt", "*.csv.gz", "*.tsv.gz", "*.csv.bz2", "*.tsv.bz2")


def csv_files(path: str) -> List[str]:
    """The CSV file, or every data file in the folder (DATA_PATTERNS)."""
    if not paths.exists(path):
        raise FileNotFoundError(f"data path {path} does not exist")
    if not paths.isdir(path):
        return [path]
    files = sorted({f for p in DATA_PATTERNS for f in paths.glob_files(os.path.join(path, p))})
    if not files:
        raise FileNotFoundError(f"no data file ({', '.join(DATA_PATTERNS)}) in {path}")
    return files


def read_forms(path: str) -> List[csv_reading.CsvForm]:
    """How each data file of `path` is written; every header checked, and all equal."""
    forms = [csv_reading.sniff(file) for file in csv_files(path)]
    for form in forms:
        _check_header(form.path, list(form.header))
        if next(csv_reading.rows(form, limit=1), None) is None:
            raise ValueError(f"{form.path} has a header but no data rows")
    reference = forms[0]
    for form in forms[1:]:
        if form.header != reference.header:
            raise ValueError(
                f"{form.path} has columns {list(form.header)}, but {reference.path} has "
                f"{list(reference.header)}"
            )
    return forms


def read_header(path: str) -> List[str]:
    """Column names of a CSV file, or of the first data file in a folder (all must agree)."""
    return list(read_forms(path)[0].header)


def _check_header(file: str, header: List[str]) -> None:
    """Refuses what a header may hold that no run can take: an unnamed column (a pandas index
    written by `to_csv`), a name given twice (one column would shadow the other), a comma or a
    double quote in a name (CsvExampleGen splits its header line on commas without unquoting),
    two names that would share a key inside the TF graphs."""
    unnamed = [i + 1 for i, name in enumerate(header) if not name]
    if unnamed:
        raise ValueError(
            f"{file}: column {unnamed[0]} of the header has no name (a pandas index written by "
            "to_csv? write it with index=False, or name the column)"
        )
    counts = collections.Counter(header)
    repeated = [f"{name!r} ({n} times)" for name, n in counts.items() if n > 1]
    if repeated:
        raise ValueError(
            f"{file}: the header repeats column name(s) {', '.join(repeated)}; every column "
            "needs its own name"
        )
    quoted = [name for name in header if "," in name or '"' in name]
    if quoted:
        raise ValueError(
            f"{file}: column name {quoted[0]!r} holds a comma or a double quote, which "
            "CsvExampleGen's header reader cannot take: rename the column"
        )
    try:
        columns.check_keys(header)
    except ValueError as error:
        raise ValueError(f"{file}: {error}") from None


def check_schema(path: str, columns: Tuple[str, ...]) -> None:
    """The schema file parses and describes every column the pipeline uses."""
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import schema_pb2

    if not paths.exists(path):
        raise FileNotFoundError(f"schema file {path} does not exist")
    try:
        with paths.open_text(path) as handle:
            schema = text_format.Parse(handle.read(), schema_pb2.Schema())
    except text_format.ParseError as error:
        raise ValueError(f"schema file {path} is not a Schema text proto: {error}") from None
    absent = [c for c in columns if c not in {f.name for f in schema.feature}]
    if absent:
        raise ValueError(f"schema file {path} does not describe column(s) {', '.join(absent)}")
