"""Command-line options shared by every runner: they all build the same PipelineConfig."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import typing
from typing import Any, Callable, Optional, Sequence, Tuple

from modules.options import Declared, comma_list, declared
from pipeline import config_file
from pipeline.config import PipelineConfig
from pipeline.resolution import resolve


class OneLineParser(argparse.ArgumentParser):
    """An option error is one line and exit 2, not the whole usage text."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


GROUP_TITLES = {
    "data": "data",
    "model": "model",
    "run": "run",
    "beam": "Beam (ExampleGen, StatisticsGen, Transform, Evaluator, BulkInferrer)",
}
# A runner whose own `--output` means a file leaves the output folder out (kubeflow/runner.py).
OUTPUT = "output"


def add_pipeline_options(
    parser: argparse.ArgumentParser, output_folder: bool = True
) -> argparse.ArgumentParser:
    """Every declared option of PipelineConfig (modules/options.py), then --config and
    --print-config; `output_folder=False` for a runner whose `--output` means a file."""
    groups = {name: parser.add_argument_group(title) for name, title in GROUP_TITLES.items()}
    defaults = PipelineConfig()
    for item in declared(PipelineConfig):
        if item.path == (OUTPUT,) and not output_folder:
            continue
        groups[item.option.group].add_argument(
            item.flag, **_argument(item, _default_of(defaults, item.path))
        )
    groups["run"].add_argument(
        "--config",
        metavar="FILE",
        help="YAML file holding any option (as --print-config writes it, each network's layers, "
        "activation, dropout and learning rate included); flags given beside it win",
    )
    groups["run"].add_argument(
        "--print-config",
        action="store_true",
        help="print the effective configuration as YAML and exit (nothing runs)",
    )
    return parser


def _default_of(config: Any, path: Tuple[str, ...]) -> Any:
    for name in path:
        config = getattr(config, name)
    return config


def _argument(item: Declared, default: Any) -> dict:
    """argparse keywords of one declared option. Every default is None, so a flag not given never
    overrides the config file; the help shows the config's default."""
    option, kind = item.option, typing.get_type_hints(_owner(item))[item.path[-1]]
    shown = (
        ""
        if "default:" in option.help or default in (None, "", (), False)
        else f" (default: {default})"
    )
    keywords: dict = {"dest": item.dest, "default": None, "help": option.help + shown}
    if kind is bool:
        return {**keywords, "action": argparse.BooleanOptionalAction}
    parse = option.parse or _PARSERS.get(kind) or str
    if option.none_word:
        parse = _none_word(parse)
    keywords["type"] = _argparse_type(parse)
    if option.repeat:
        keywords["action"] = "append"
    if option.choices:
        keywords["choices"] = option.choices
    if not option.choices:
        keywords["metavar"] = option.metavar or item.path[-1].upper()
    return keywords


def _owner(item: Declared) -> type:
    """The dataclass that declares the option's field."""
    cls: type = PipelineConfig
    for name in item.path[:-1]:
        cls = typing.get_type_hints(cls)[name]
    return cls


_PARSERS = {
    int: int,
    float: float,
    str: str,
    Tuple[str, ...]: comma_list,
    Optional[float]: float,
    Optional[str]: str,
}


def _none_word(parse):
    return lambda text: "" if text == "none" else parse(text)


def _argparse_type(parse):
    """argparse reports an ArgumentTypeError's message; our parsers raise ValueError."""

    def wrapped(text: str):
        try:
            return parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return wrapped


def config_from_args(
    args: argparse.Namespace, base: Optional[PipelineConfig] = None
) -> PipelineConfig:
    """PipelineConfig from parsed options over the config file (or the defaults), resolved against
    the data (fails fast on bad options)."""
    return resolve(unresolved_config(args, base))


def unresolved_config(
    args: argparse.Namespace, base: Optional[PipelineConfig] = None
) -> PipelineConfig:
    """The options over the config file (or the defaults), nothing read from the data yet."""
    if base is None:
        base = config_file.read(args.config) if args.config else PipelineConfig()
    changes: dict = {}
    for item in declared(PipelineConfig):
        value = getattr(args, item.dest, None)
        if value is not None:
            changes[item.path] = tuple(value) if item.option.repeat else value
    return with_changes(base, changes)


def with_changes(config: Any, changes: dict) -> Any:
    """A copy of a config dataclass with `changes` ({field path: value}) applied, nested included."""
    direct = {path[0]: value for path, value in changes.items() if len(path) == 1}
    for section in {path[0] for path in changes if len(path) > 1}:
        inner = {
            path[1:]: value
            for path, value in changes.items()
            if len(path) > 1 and path[0] == section
        }
        direct[section] = with_changes(getattr(config, section), inner)
    return dataclasses.replace(config, **direct)


def parse_args(
    parser: argparse.ArgumentParser,
    argv: Optional[Sequence[str]],
    hold: Optional[Callable[[PipelineConfig], None]] = None,
) -> Tuple[argparse.Namespace, PipelineConfig]:
    """Parsed options and the resolved config; a bad option ends the process with a one-line error.
    `hold(config)` runs before the data is read (unless only printing the config): the local
    runner takes the output folder's lock there, so nothing is written into a folder in use."""
    args = parser.parse_args(argv)
    try:
        config = unresolved_config(args)
        if hold is not None and not args.print_config:
            hold(config)
        config = resolve(config)
    except (ValueError, OSError) as error:
        parser.exit(2, f"{parser.prog}: error: {_message(error)}\n")
    if args.print_config:
        sys.stdout.write(config_file.to_yaml(config))
        parser.exit(0)
    return args, config


def parse(argv: Optional[Sequence[str]], description: str) -> PipelineConfig:
    return parse_args(add_pipeline_options(OneLineParser(description=description)), argv)[1]


def _message(error: Exception) -> str:
    """ValueErrors carry our own sentence; an OSError gets the file and the system's reason."""
    if isinstance(error, OSError) and error.strerror and not isinstance(error, FileNotFoundError):
        return f"{error.filename or ''}: {error.strerror}".lstrip(": ")
    return str(error)
