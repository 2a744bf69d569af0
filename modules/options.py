"""An option is declared once, as the config field it sets: `option(default, help, group)` puts the
help text and how the command line reads it into the field's metadata.

The flag is the field's name with dashes (`--batch-size` sets `trainer.batch_size`); the fields of a
section named in `PREFIXED` carry the section's name (`--beam-workers` sets `beam.workers`); the
YAML key is the field's name in its section. pipeline/cli.py builds argparse from these
declarations, config_file.py the YAML form from the same dataclasses, so the three cannot drift.
A field declared without `option` is set in the config file only.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Iterator, Optional, Tuple

OPTION = "option"
# Sections whose fields' flags start with the section's name; the trainer's do not (`--loss`).
PREFIXED = ("beam",)
GROUPS = ("data", "model", "run", "beam")


@dataclasses.dataclass(frozen=True)
class Option:
    """How the command line reads one config field."""

    help: str
    group: str
    # str -> value; None: from the field's type (int, float, str, comma-separated names).
    parse: Optional[Callable[[str], Any]] = None
    metavar: Optional[str] = None
    choices: Optional[Tuple[str, ...]] = None
    repeat: bool = False  # the flag may be given many times; the values form a tuple
    none_word: bool = False  # `none` on the command line means "" (nothing)


def option(default: Any, help: str, group: str, **settings: Any) -> Any:
    """A dataclass field that is also a command-line option."""
    if group not in GROUPS:
        raise ValueError(f"option group must be one of {GROUPS}, got {group!r}")
    return dataclasses.field(default=default, metadata={OPTION: Option(help, group, **settings)})


@dataclasses.dataclass(frozen=True)
class Declared:
    """One declared option: where its field sits (`("trainer", "batch_size")`) and its flag."""

    path: Tuple[str, ...]
    field: dataclasses.Field
    option: Option

    @property
    def flag(self) -> str:
        return flag_of(self.path)

    @property
    def dest(self) -> str:
        return "__".join(self.path)


def flag_of(path: Tuple[str, ...]) -> str:
    """The flag of the field at `path` (`("beam", "workers")` -> `--beam-workers`)."""
    words = (*[s for s in path[:-1] if s in PREFIXED], path[-1])
    return "--" + "-".join(words).replace("_", "-")


def declared(cls: type, section: Tuple[str, ...] = ()) -> Iterator[Declared]:
    """Every option of the dataclass `cls` and of the dataclasses nested in it, in field order."""
    for field in dataclasses.fields(cls):
        path = (*section, field.name)
        if OPTION in field.metadata:
            yield Declared(path, field, field.metadata[OPTION])
        elif dataclasses.is_dataclass(field.default):
            yield from declared(type(field.default), path)


def positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError(f"expected a positive integer, got {text}")
    return value


def non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(f"expected an integer >= 0, got {text}")
    return value


def comma_list(text: str) -> Tuple[str, ...]:
    """Comma-separated column names."""
    values = tuple(v.strip() for v in text.split(",") if v.strip())
    if not values:
        raise ValueError("expected comma-separated column names")
    return values
