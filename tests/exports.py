"""The embedded penguins saved the way spreadsheets, R, pandas and databases export them: each
function writes one variant and returns its path and the label column, so tests try the front
door with the files users bring (headers with spaces, accents and leading digits, gzip, tabs,
semicolons with decimal commas, a byte-order mark, a delimiter closing every line, stray spaces
around labels, empty labels, a free-text and a date column)."""

from __future__ import annotations

import csv
import gzip
import io
import os
from typing import Callable, Dict, List, Tuple

from pipeline.config import DEFAULT_DATA

Table = Tuple[List[str], List[List[str]]]
# The penguins' columns under names a spreadsheet user writes.
SPREADSHEET_NAMES = {
    "species": "Species",
    "island": "Island name",
    "bill_length_mm": "Bill Length (mm)",
    "bill_depth_mm": "Bill Depth [mm]",
    "flipper_length_mm": "Flossenlänge",
    "body_mass_g": "Body.Mass/g",
    "sex": "sex",
    "year": "1st year",
}
WORDS = {"male": "large bird, loud call", "female": "smaller bird, quiet", "NA": "", "": ""}


def penguins() -> Table:
    with open(DEFAULT_DATA, newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def write(path: str, table: Table, delimiter: str = ",", prefix: str = "", suffix: str = "") -> str:
    """Writes `table` as text: `prefix` before the header (a byte-order mark), `suffix` closing
    every line (a trailing delimiter); gzip when the path ends in .gz."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=suffix + "\r\n")
    header, rows = table
    writer.writerow(header)
    writer.writerows(rows)
    text = prefix + buffer.getvalue()
    if path.endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
            handle.write(text)
    else:
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    return path


def renamed(table: Table, names: Dict[str, str]) -> Table:
    header, rows = table
    return [names.get(name, name) for name in header], rows


def with_case_twin(table: Table) -> Table:
    """A column `Sex` beside `sex`: names equal but for case (here, a note in words)."""
    header, rows = table
    sex = header.index("sex")
    return [*header, "Sex"], [[*row, WORDS[row[sex]]] for row in rows]


def decimal_commas(table: Table) -> Table:
    header, rows = table
    return header, [[cell.replace(".", ",") for cell in row] for row in rows]


def stray_label_spaces(table: Table, label: str) -> Table:
    header, rows = table
    index = header.index(label)
    return header, [
        [f"  {cell} " if j == index and i % 3 == 0 else cell for j, cell in enumerate(row)]
        for i, row in enumerate(rows)
    ]


def empty_labels(table: Table, label: str, every: int = 40) -> Table:
    header, rows = table
    index = header.index(label)
    return header, [
        ["" if j == index and i % every == 7 else cell for j, cell in enumerate(row)]
        for i, row in enumerate(rows)
    ]


def with_text_and_date(table: Table) -> Table:
    """A free-text `Field notes` column and an ISO `Observed on` date column."""
    header, rows = table
    sex, year = header.index("sex"), header.index("year")
    return [*header, "Field notes", "Observed on"], [
        [
            *row,
            f"{WORDS[row[sex]]} seen near nest {i % 97}",
            f"{row[year]}-{i % 12 + 1:02d}-{i % 28 + 1:02d}",
        ]
        for i, row in enumerate(rows)
    ]


def variants(folder: str) -> Dict[str, Tuple[str, str]]:
    """Variant name -> (path, label column), each written into `folder`."""
    os.makedirs(folder, exist_ok=True)
    base = penguins()
    spreadsheet = SPREADSHEET_NAMES["species"]

    def path(name: str) -> str:
        return os.path.join(folder, name)

    writers: Dict[str, Callable[[], Tuple[str, str]]] = {
        "spaces and brackets": lambda: (
            write(path("spaces.csv"), renamed(base, SPREADSHEET_NAMES)),
            spreadsheet,
        ),
        "equal but for case": lambda: (write(path("case.csv"), with_case_twin(base)), "species"),
        "gzip": lambda: (write(path("penguins.csv.gz"), base), "species"),
        "tab-separated": lambda: (write(path("penguins.tsv"), base, "\t"), "species"),
        "semicolons, decimal commas": lambda: (
            write(path("semicolon.csv"), decimal_commas(base), ";"),
            "species",
        ),
        "byte-order mark": lambda: (write(path("bom.csv"), base, prefix="\ufeff"), "species"),
        "trailing delimiter": lambda: (write(path("trailing.csv"), base, suffix=","), "species"),
        "stray label spaces": lambda: (
            write(path("stray.csv"), stray_label_spaces(base, "species")),
            "species",
        ),
        "empty labels": lambda: (
            write(path("empty.csv"), empty_labels(base, "species")),
            "species",
        ),
    }
    return {name: make() for name, make in writers.items()}


def all_at_once(folder: str) -> Tuple[str, str]:
    """Every trait in one file, for one pipeline run: spreadsheet headers, a case twin, free
    text and dates, semicolons with decimal commas, gzip, a byte-order mark, a trailing
    delimiter, stray spaces around labels and empty labels."""
    label = SPREADSHEET_NAMES["species"]
    table = renamed(with_case_twin(with_text_and_date(penguins())), SPREADSHEET_NAMES)
    table = empty_labels(stray_label_spaces(decimal_commas(table), label), label)
    path = os.path.join(folder, "penguins-export.csv.gz")
    return write(path, table, ";", prefix="\ufeff", suffix=";"), label
