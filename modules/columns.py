"""What each CSV column is to the model: its kind, and the key TF, TFT and SavedModel signatures use.

A user's column keeps its own name wherever a user touches it: the CSV header, the raw
tf.Examples ExampleGen writes, `--features`, `--slice-by`, the schema, the report, the prediction
files. Only names the TF stack constrains use `internal_key(name)`: Transform's outputs, the
Transform vocabularies, the `serving_raw` signature's inputs (a signature input name must be a
graph-safe identifier) and the Evaluator's label keys.

The kind of each column is decided before any component runs (pipeline/column_choice.py), and
travels to Transform and the Trainer as a `ColumnSpec`; modules/kinds/ holds what each kind
does there.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
import unicodedata
from typing import Any, Dict, Iterable, List, Mapping, Tuple

NUMERIC, CATEGORICAL, BOOLEAN, TEXT, DATE, IGNORE = (
    "numeric",
    "categorical",
    "boolean",
    "text",
    "date",
    "ignore",
)
KINDS = (NUMERIC, CATEGORICAL, BOOLEAN, TEXT, DATE, IGNORE)
FEATURE_KINDS = KINDS[:-1]  # what reaches Transform; `ignore` is left out before it
# A categorical column's encoding: one-hot up to ONE_HOT_MAX values, else a learned embedding.
ONE_HOT, EMBEDDING = "one_hot", "embedding"

# The caps that keep every stage's memory independent of the number of distinct values:
ONE_HOT_MAX = 50  # values of a category fed one-hot (its vocabulary is cut there too)
CATEGORY_VOCABULARY = 10_000  # most frequent values of an embedded category; the rest share OOV
TEXT_VOCABULARY = 20_000  # most frequent tokens of a text column; the rest share OOV
TEXT_TOKENS = 32  # the first tokens of a text cell that the model reads
MAX_EMBEDDING_DIM = 16
OOV_BUCKETS = 1

# An ISO date or timestamp as the front door recognizes it and Transform parses it (RE2 and
# Python's re read it alike): `YYYY-MM-DD`, `YYYY/MM/DD hh:mm`, `YYYY-MM-DDThh:mm:ss.s+hh:mm`.
DATE_PATTERN = (
    r"[0-9]{4}[-/](0[1-9]|1[0-2])[-/](0[1-9]|[12][0-9]|3[01])"
    r"([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]+)?)?(Z|[+-][0-9]{2}:?[0-9]{2})?)?"
)

_SLUG = re.compile(r"[^0-9a-z]+")


def internal_key(name: str) -> str:
    """The key of the column `name` inside the TF graphs: lower-case ASCII letters, digits and
    single underscores, starting with a letter. A name that already has that form is its own key
    (`bill_length_mm`); any other gets a readable slug and 6 hex digits of the name's SHA-1
    (`Bill Length (mm)` -> `bill_length_mm_` + digits), so the map is a function of the name
    alone (stable run after run) and two names never share a key, not even names equal but for
    case. No key holds a double underscore: `part_key` names derived features with one."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = _SLUG.sub("_", ascii_name.lower()).strip("_") or "column"
    if not slug[0].isalpha():
        slug = f"c_{slug}"
    if slug == name:
        return slug
    return f"{slug}_{hashlib.sha1(name.encode('utf-8')).hexdigest()[:6]}"


def part_key(key: str, part: str) -> str:
    """A feature Transform derives from one column (`released__month`)."""
    return f"{key}__{part}"


def embedding_dim(buckets: int) -> int:
    """Width of a learned embedding of `buckets` ids: the fourth root of the count (a common rule
    of thumb for categorical embeddings), within [4, MAX_EMBEDDING_DIM]."""
    return int(min(MAX_EMBEDDING_DIM, max(4, round(math.sqrt(math.sqrt(buckets))))))


@dataclasses.dataclass(frozen=True)
class ColumnSpec:
    """One feature column as Transform and the Trainer see it."""

    name: str  # the user's column name: the CSV header and the raw tf.Example key
    kind: str  # one of KINDS
    encoding: str = ""  # categorical: ONE_HOT or EMBEDDING
    true_value: str = ""  # boolean: the value read as 1 (compared lower-case, stripped)
    times: bool = False  # date: the cells carry a time of day, so the hour is a feature
    reason: str = ""  # why this kind, in words (console and report)
    vocabulary: int = 0  # text: words given their own id (0: TEXT_VOCABULARY, the most kept)

    @property
    def key(self) -> str:
        return internal_key(self.name)

    def to_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "ColumnSpec":
        return cls(**dict(values))


def specs_of(entries: Iterable[Any]) -> List[ColumnSpec]:
    """ColumnSpecs from what a custom_config carries (dicts) or from specs themselves."""
    return [e if isinstance(e, ColumnSpec) else ColumnSpec.from_dict(e) for e in entries]


def used(specs: Iterable[Any]) -> List[ColumnSpec]:
    """The specs of the columns that reach Transform: every kind but `ignore`."""
    return [spec for spec in specs_of(specs) if spec.kind != IGNORE]


def check_keys(names: Iterable[str]) -> None:
    """Refuses a table in which two column names would share a key (a SHA-1 prefix collision, or
    a name that equals another's derived key): never seen, but silent if it happened."""
    seen: Dict[str, str] = {}
    for name in names:
        key = internal_key(name)
        if key in seen:
            raise ValueError(
                f"columns {seen[key]!r} and {name!r} map to one internal key {key!r}: rename one"
            )
        seen[key] = name


def keys_to_names(names: Iterable[str]) -> Dict[str, str]:
    """internal key -> the user's column name, for the columns `names` (a CSV header)."""
    return {internal_key(name): name for name in names}


def parse_kinds(text: str) -> Tuple[Tuple[str, str], ...]:
    """`--columns "title=text,zip code=categorical"` -> ((title, text), (zip code, categorical))."""
    pairs = []
    for item in (part for part in text.split(",") if part.strip()):
        name, sign, kind = item.rpartition("=")
        if not sign or not name.strip():
            raise ValueError(f"expected COLUMN=KIND pairs, got {item.strip()!r}")
        pairs.append((name.strip(), kind.strip()))
    if not pairs:
        raise ValueError("expected COLUMN=KIND pairs such as title=text")
    check_kinds(pairs)
    return tuple(pairs)


def check_kinds(pairs: Iterable[Tuple[str, str]]) -> None:
    for name, kind in pairs:
        if kind not in KINDS:
            raise ValueError(f"column {name!r}: kind {kind!r} is not one of {', '.join(KINDS)}")
