"""The run's configuration as a YAML file: read with `--config`, written by `--print-config` and
beside every run, so a run can be repeated from the file alone.

The file mirrors `PipelineConfig` field for field (nested: `trainer`, its `network_a` and
`network_b`, and `beam`). Reading is strict: an unknown key or a value of the wrong type fails in
one line naming it, as a bad command-line option does.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, Mapping

import yaml

from modules import paths
from pipeline.config import PipelineConfig

HEADER = (
    "# twinnorm effective configuration: every option of the run, resolved against its data.\n"
    "# Re-run as is:  python local_runner.py --config THIS_FILE  (flags given beside it win)\n"
)


def to_yaml(config: PipelineConfig) -> str:
    return HEADER + yaml.safe_dump(_plain(dataclasses.asdict(config)), sort_keys=False)


def read(path: str) -> PipelineConfig:
    """The PipelineConfig a YAML file describes (fields it leaves out keep their defaults)."""
    if not paths.exists(path):
        raise FileNotFoundError(f"config file {path} does not exist")
    try:
        with paths.open_text(path) as handle:
            values = yaml.safe_load(handle) or {}
    except yaml.YAMLError as error:
        raise ValueError(
            f"config file {path} is not YAML: {' '.join(str(error).split())}"
        ) from None
    try:
        return build(PipelineConfig, values, "")
    except ValueError as error:
        raise ValueError(f"config file {path}: {error}") from None


def build(cls: type, values: Any, where: str) -> Any:
    """An instance of the dataclass `cls` from a mapping, checking every key and value type."""
    if not isinstance(values, Mapping):
        raise ValueError(f"{where or 'the file'} must be a mapping, got {values!r}")
    hints = typing.get_type_hints(cls)
    known = [field.name for field in dataclasses.fields(cls)]
    unknown = [key for key in values if key not in known]
    if unknown:
        raise ValueError(
            f"unknown key(s) {', '.join(f'{where}{k}' for k in unknown)} "
            f"(known{' in ' + where.rstrip('.') if where else ''}: {', '.join(known)})"
        )
    return cls(**{key: _value(hints[key], value, f"{where}{key}") for key, value in values.items()})


def _value(hint: Any, value: Any, where: str) -> Any:
    if dataclasses.is_dataclass(hint):
        return build(hint, value, where + ".")
    args = typing.get_args(hint)
    if typing.get_origin(hint) is typing.Union:  # Optional[X]
        if value is None:
            return None
        return _value(next(a for a in args if a is not type(None)), value, where)
    if typing.get_origin(hint) is tuple:
        if isinstance(value, Mapping) and typing.get_origin(args[0]) is tuple:
            value = [list(item) for item in value.items()]  # `columns: {title: text}`
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"{where} must be a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_value(args[0], item, f"{where}[{i}]") for i, item in enumerate(value))
        if len(value) != len(args):
            raise ValueError(f"{where} must have {len(args)} items, got {value!r}")
        return tuple(
            _value(a, item, f"{where}[{i}]")
            for i, (a, item) in enumerate(zip(args, value, strict=True))
        )
    if hint is bool and not isinstance(value, bool):
        raise ValueError(f"{where} must be true or false, got {value!r}")
    if hint is int and (not isinstance(value, int) or isinstance(value, bool)):
        raise ValueError(f"{where} must be an integer, got {value!r}")
    if hint is float:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise ValueError(f"{where} must be a number, got {value!r}")
        return float(value)
    if hint is str and not isinstance(value, str):
        raise ValueError(f"{where} must be a string, got {value!r}")
    return value


def _plain(value: Any) -> Any:
    """Tuples as lists, recursively: YAML's safe dumper writes plain types only."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value
