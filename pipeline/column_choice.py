"""Each feature column's kind, decided before any component runs from a bounded sample of its
cells, and said: numeric, boolean-like, date, free text, categorical (one-hot or, with many
values, a learned embedding), or left out (an id unique per row, or a column with no value).

The sample is the first SAMPLE_ROWS data rows, and no count kept here grows past it, so deciding
costs the same on a million rows as on ten thousand. A `--columns` override wins over the guess.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Dict, Iterable, List, Mapping, Sequence, Tuple

from modules import columns
from modules.columns import ColumnSpec

SAMPLE_ROWS = 20_000
# Cells that R, pandas and databases write for "no value".
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})
BOOLEAN_PAIRS = (("true", "false"), ("yes", "no"), ("y", "n"), ("t", "f"))
DATE_SHARE = 0.95  # of the present cells that must read as ISO dates
ID_MIN_ROWS = 50  # fewer sampled rows than this and "unique per row" proves nothing
TEXT_WORDS = 3.0  # mean words per cell from which a string column is free text
TEXT_UNIQUE_SHARE = 0.5  # distinct share from which a many-valued, spaced column is text
# In a table the sample holds whole, a text column keeps as words only those in at least this
# many rows: a word of one or two rows names those rows, and its embedding would learn their
# labels (a 300-row table of car names: "landau", "brougham") instead of anything that carries.
MIN_WORD_ROWS = 5
_NUMBER = re.compile(r"[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?")
_DATE = re.compile(columns.DATE_PATTERN)
_WORD = re.compile(r"[^\W_]+")


@dataclasses.dataclass
class ColumnSample:
    """What the sample says of one column."""

    name: str
    rows: int = 0
    present: int = 0
    numbers: int = 0
    integers: int = 0
    dates: int = 0
    timed: int = 0
    words: int = 0
    spaced: int = 0
    values: Dict[str, int] = dataclasses.field(default_factory=dict)  # distinct present cells

    def add(self, cell: str) -> None:
        self.rows += 1
        text = cell.strip()
        if text.lower() in MISSING_TOKENS:
            return
        self.present += 1
        self.values[text] = self.values.get(text, 0) + 1
        if _NUMBER.fullmatch(text):
            self.numbers += 1
            self.integers += text.lstrip("+-").isdigit()
            return
        if _DATE.fullmatch(text):
            self.dates += 1
            self.timed += len(text) > 10
        self.words += len(_WORD.findall(text))
        self.spaced += " " in text


def sample_columns(header: Sequence[str], rows: Iterable[Sequence[str]]) -> List[ColumnSample]:
    """Samples of every column from the first SAMPLE_ROWS of `rows` (cells in header order)."""
    samples = [ColumnSample(name) for name in header]
    for count, row in enumerate(rows):
        if count >= SAMPLE_ROWS:
            break
        for sample, cell in zip(samples, row, strict=True):
            sample.add(cell)
    return samples


def guess(sample: ColumnSample) -> ColumnSpec:
    """The kind a column's sample suggests, with the reason in words."""
    name, present, distinct = sample.name, sample.present, len(sample.values)
    if not present:
        return ColumnSpec(name, columns.IGNORE, reason=f"no value in the first {sample.rows} rows")
    if sample.numbers == present:
        if sample.integers == present and _row_number(sample):
            return ColumnSpec(name, columns.IGNORE, reason="consecutive integers: a row number")
        return ColumnSpec(name, columns.NUMERIC, reason="numbers")
    lowered = {value.lower() for value in sample.values}
    for true_value, false_value in BOOLEAN_PAIRS:
        if lowered <= {true_value, false_value} and len(lowered) == 2:
            return ColumnSpec(
                name, columns.BOOLEAN, true_value=true_value, reason=f"{true_value}/{false_value}"
            )
    if sample.dates >= DATE_SHARE * present:
        return ColumnSpec(
            name,
            columns.DATE,
            times=sample.timed > 0,
            reason="ISO dates" + " and times" * (sample.timed > 0),
        )
    if distinct == present >= ID_MIN_ROWS and not sample.spaced:
        return ColumnSpec(name, columns.IGNORE, reason="a different value in every row: an id")
    words = sample.words / max(present - sample.numbers, 1)
    spaced = sample.spaced and distinct >= TEXT_UNIQUE_SHARE * present
    if distinct > columns.ONE_HOT_MAX and (words >= TEXT_WORDS or spaced):
        spec = text(sample, f"{distinct:,}+ values of {words:.1f} words on average")
        if spec.vocabulary == 0 and sample.rows < SAMPLE_ROWS:
            return dataclasses.replace(
                spec, kind=columns.IGNORE, reason=f"{spec.reason}: no word in enough rows"
            )
        return spec
    return categorical(sample)


def text(sample: ColumnSample, reason: str) -> ColumnSpec:
    """A text column's spec. When the sample is the whole table, its vocabulary is the words in
    at least MIN_WORD_ROWS rows (0 when none is); a larger table keeps TEXT_VOCABULARY words."""
    if sample.rows >= SAMPLE_ROWS:
        return ColumnSpec(sample.name, columns.TEXT, reason=reason)
    rows: Dict[str, int] = {}
    for value, count in sample.values.items():
        for word in set(_WORD.findall(value.lower())[: columns.TEXT_TOKENS]):
            rows[word] = rows.get(word, 0) + count
    kept = sum(count >= MIN_WORD_ROWS for count in rows.values())
    return ColumnSpec(
        sample.name,
        columns.TEXT,
        vocabulary=kept,
        reason=f"{reason}; {kept:,} of its {len(rows):,} words in {MIN_WORD_ROWS}+ rows",
    )


def categorical(sample: ColumnSample) -> ColumnSpec:
    distinct = len(sample.values)
    if distinct > columns.ONE_HOT_MAX:
        return ColumnSpec(
            sample.name,
            columns.CATEGORICAL,
            encoding=columns.EMBEDDING,
            reason=f"{distinct:,}+ values: an embedding",
        )
    return ColumnSpec(
        sample.name,
        columns.CATEGORICAL,
        encoding=columns.ONE_HOT,
        reason=f"{distinct} value{'s' * (distinct != 1)}",
    )


def _row_number(sample: ColumnSample) -> bool:
    """Integers, each once, that fill their range: a row number or an auto-increment id."""
    if sample.present < ID_MIN_ROWS or len(sample.values) != sample.present:
        return False
    numbers = [int(v) for v in sample.values]
    return max(numbers) - min(numbers) + 1 == len(numbers)


def overridden(sample: ColumnSample, kind: str) -> ColumnSpec:
    """The spec of a column whose kind the user named (`--columns NAME=KIND`)."""
    reason = "set by --columns"
    if kind == columns.CATEGORICAL:
        return dataclasses.replace(categorical(sample), reason=reason)
    if kind == columns.BOOLEAN:
        lowered = sorted({value.lower() for value in sample.values})
        if len(lowered) != 2:
            raise ValueError(
                f"column {sample.name!r} cannot be boolean: it has {len(lowered)} distinct values"
                f" in the first {sample.rows} rows (a boolean column has two)"
            )
        true_value = next((t for t, f in BOOLEAN_PAIRS if t in lowered), lowered[-1])
        return ColumnSpec(sample.name, kind, true_value=true_value, reason=reason)
    if kind == columns.DATE:
        return ColumnSpec(sample.name, kind, times=sample.timed > 0, reason=reason)
    if kind == columns.TEXT:  # as asked, with at least one word of its own
        spec = text(sample, reason)
        return dataclasses.replace(spec, vocabulary=spec.vocabulary or int(sample.rows > 0))
    return ColumnSpec(sample.name, kind, reason=reason)


def choose(
    samples: Sequence[ColumnSample],
    features: Sequence[str],
    overrides: Mapping[str, str],
    explicit: bool,
) -> Tuple[ColumnSpec, ...]:
    """The spec of each feature column, in `features` order. `explicit`: the user listed the
    features, so none is left out by a guess (an id-like column the user asked for stays, read
    as a category or number)."""
    by_name = {sample.name: sample for sample in samples}
    unknown = [name for name in overrides if name not in by_name]
    if unknown:
        raise ValueError(
            f"--columns names column(s) {', '.join(map(repr, unknown))} that the data lacks "
            f"(columns: {', '.join(by_name)})"
        )
    specs = []
    for name in features:
        sample = by_name[name]
        spec = overridden(sample, overrides[name]) if name in overrides else guess(sample)
        if spec.kind == columns.IGNORE and explicit and name not in overrides:
            kept = columns.NUMERIC if sample.numbers == sample.present > 0 else columns.CATEGORICAL
            spec = dataclasses.replace(
                overridden(sample, kept), reason=f"{spec.reason}; kept: named by --features"
            )
        specs.append(spec)
    return tuple(specs)


def console_lines(config) -> List[str]:
    """What the console and the run log say of the data before any component runs: what each
    column became and why, which copy ExampleGen reads and why, the rows set aside."""
    from modules.kinds.describe import describe  # the kinds import TensorFlow: not at start-up

    lines = [
        f"twinnorm: columns (kinds from the first {SAMPLE_ROWS:,} rows; --columns NAME=KIND "
        "overrides):",
        *(f"  {describe(spec)}" for spec in config.column_specs),
    ]
    if config.data_notes:
        lines.append(
            f"twinnorm: data copied into plain CSV under {config.outputs.prepared_dir} ("
            + "; ".join(config.data_notes)
            + ")"
        )
    if config.unlabelled_rows:
        lines.append(
            f"twinnorm: {config.unlabelled_rows} row(s) with an empty label set aside: never "
            "trained or evaluated on (--on-missing-label fail refuses them instead)"
        )
    return lines
