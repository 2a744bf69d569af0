"""The files a config names, read before any component runs: the CSV files (a file, or a folder
of files with one header) and a curated schema, each checked so that a bad one fails in one line
naming it."""

from __future__ import annotations

import collections
import csv
import io
import os
from typing import List, Tuple

from modules import paths


def csv_files(path: str) -> List[str]:
    """The CSV file, or every *.csv file in the folder."""
    if not paths.exists(path):
        raise FileNotFoundError(f"data path {path} does not exist")
    files = paths.glob_files(os.path.join(path, "*.csv")) if paths.isdir(path) else [path]
    if not files:
        raise FileNotFoundError(f"no *.csv file in {path}")
    return files


def read_header(path: str) -> List[str]:
    """Column names of a CSV file, or of the first CSV file in a folder (all must agree)."""
    files = csv_files(path)
    headers = {}
    for file in files:
        with paths.open_text(file) as handle:
            first = handle.readline()
            if not first.strip():
                raise ValueError(f"{file} is empty: expected a header line")
            if not any(line.strip() for line in handle):
                raise ValueError(f"{file} has a header but no data rows")
        header = next(csv.reader(io.StringIO(first)))
        _check_header(file, header)
        headers[file] = header
    reference = headers[files[0]]
    for file, header in headers.items():
        if header != reference:
            raise ValueError(f"{file} has columns {header}, but {files[0]} has {reference}")
    return reference


def _check_header(file: str, header: List[str]) -> None:
    """Refuses what spreadsheets, R and pandas exports put in a header that CsvExampleGen would
    take silently: a byte-order mark (read into the first column's name), an unnamed column (a
    pandas index written by `to_csv`), a name given twice (one column would shadow the other)."""
    if header and header[0].startswith("\ufeff"):
        raise ValueError(
            f"{file} starts with a UTF-8 byte-order mark (what a spreadsheet's 'CSV UTF-8' export "
            f"writes); the first column would be named {header[0]!r}: save it as plain CSV or "
            "strip the first 3 bytes"
        )
    unnamed = [i + 1 for i, name in enumerate(header) if not name.strip()]
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
