"""Every option is declared once (modules/options.py): its flag, its config field and its YAML key
are the same word, and `--print-config` round-trips through `--config` for every option."""

import dataclasses

import pytest
import yaml

from modules.options import PREFIXED, declared
from pipeline import cli, config_file
from pipeline.config import DEFAULT_DATA, DEFAULT_INFERENCE_DATA, PipelineConfig

# A value other than the default for every option, all valid together (exactly one per flag).
NON_DEFAULT = {
    "--name": ["other"],
    "--data": [DEFAULT_DATA],
    "--label": ["species"],
    "--features": ["island,bill_length_mm,bill_depth_mm,sex"],
    "--output": ["OUTPUT"],
    "--split": ["8:1:1"],
    "--inference-data": [DEFAULT_INFERENCE_DATA],
    "--key-columns": ["year"],
    "--explain": ["all"],
    "--schema": ["none"],
    "--reinfer-schema": [],
    "--on-anomaly": ["warn"],
    "--columns": ["sex=categorical,bill_depth_mm=numeric"],
    "--on-missing-label": ["fail"],
    "--drift": [],
    "--max-drift-jsd": ["0.2"],
    "--max-drift-linf": ["0.3"],
    "--transform-statistics": [],
    "--normalization": ["population"],
    "--population-shared": [],
    "--loss": ["cross_entropy"],
    "--task": ["classification"],
    "--members": ["2"],
    "--batch-size": ["16"],
    "--train-steps": ["50"],
    "--patience": ["3"],
    "--validation-steps": ["2"],
    "--seed": ["7"],
    "--train-workers": ["2"],
    "--warm-start": ["a"],
    "--tune": ["2"],
    "--min-skill": ["0.3"],
    "--max-p-value": ["0.05"],
    "--min-accuracy": ["0.5"],
    "--max-mse": ["1.5"],
    "--max-mae": ["0.5"],
    "--slice-by": ["island"],
    "--min-slice-accuracy": ["0.4"],
    "--serving-base": ["/models"],
    "--beam-profile": ["dataflow"],
    "--beam-workers": ["1"],
    "--beam-master": ["host:8081"],
    "--beam-project": ["project"],
    "--beam-region": ["europe-west4"],
    "--beam-temp-location": ["gs://bucket/tmp"],
    "--beam-sdk-container-image": ["registry/twinnorm:1"],
    "--beam-args": ["--max_num_workers=8"],
    "--cache": None,  # a boolean whose default is on: given as --no-cache below
}
# Given, but at their defaults: the embedded data, and one worker (dataflow takes no more).
SAME_AS_DEFAULT = ("--data", "--label", "--beam-workers")
# Bars of the other task: round-tripped in a second pass, on a regression label.
REGRESSION_BARS = ("--max-mse", "--max-mae")
REGRESSION_LABEL = ["--label", "body_mass_g", "--inference-data", "none"]


def flags_of(parser) -> set:
    return {s for action in parser._actions for s in action.option_strings if s.startswith("--")}


def test_each_flag_is_its_config_fields_name_and_its_yaml_key():
    yaml_keys = yaml.safe_load(config_file.to_yaml(PipelineConfig()))
    seen = set()
    for item in declared(PipelineConfig):
        section, field = item.path[:-1], item.path[-1]
        prefix = "-".join(s for s in section if s in PREFIXED)
        assert item.flag == "--" + (f"{prefix}-" if prefix else "") + field.replace("_", "-")
        node = yaml_keys
        for key in item.path:
            node = node[key]  # a KeyError: the YAML form lacks the option's key
        assert item.flag not in seen
        seen.add(item.flag)
    parser = cli.add_pipeline_options(cli.OneLineParser())
    booleans = {f"--no-{f[2:]}" for f in seen} & flags_of(parser)
    assert flags_of(parser) - booleans == seen | {"--config", "--print-config", "--help"}
    assert set(NON_DEFAULT) == seen  # a new option needs a round-trip value below


def printed(argv, capsys) -> str:
    parser = cli.add_pipeline_options(cli.OneLineParser())
    with pytest.raises(SystemExit) as stopped:
        cli.parse_args(parser, [*argv, "--print-config"])
    assert stopped.value.code == 0, capsys.readouterr().err
    return capsys.readouterr().out


def arguments(flags, tmp_path) -> list:
    argv = []
    for flag in flags:
        values = NON_DEFAULT[flag]
        if values is None:
            argv.append("--no-" + flag[2:])
        elif flag == "--beam-args":
            argv.append(f"{flag}={values[0]}")
        else:
            argv += [flag, *[str(tmp_path) if v == "OUTPUT" else v for v in values]]
    return argv


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_print_config_round_trips_through_config_for_every_option(task, tmp_path, capsys):
    """Every option but the regression bars on the penguins' species; those on body mass."""
    flags = [f for f in NON_DEFAULT if (f in REGRESSION_BARS) == (task == "regression")]
    argv = arguments(flags, tmp_path)
    if task == "regression":
        argv += ["--output", str(tmp_path), *REGRESSION_LABEL]
    first = printed(argv, capsys)
    path = tmp_path / "config.yaml"
    path.write_text(first)
    assert printed(["--config", str(path)], capsys) == first
    config = config_file.read(str(path))
    defaults = PipelineConfig()
    for item in declared(PipelineConfig):  # every option given took its non-default value
        value, default = config, defaults
        for name in item.path:
            value, default = getattr(value, name), getattr(default, name)
        if item.flag in flags and item.flag not in SAME_AS_DEFAULT:
            assert value != default, item.flag


def test_a_flag_beside_a_config_file_wins_and_a_boolean_has_a_no_form(tmp_path, capsys):
    path = tmp_path / "config.yaml"
    path.write_text(printed(["--drift", "--batch-size", "16", "--output", str(tmp_path)], capsys))
    again = yaml.safe_load(
        printed(["--config", str(path), "--no-drift", "--batch-size", "8"], capsys)
    )
    assert again["drift"] is False and again["trainer"]["batch_size"] == 8


def test_options_are_applied_to_nested_sections_without_touching_their_other_fields():
    base = dataclasses.replace(PipelineConfig(), name="kept")
    changed = cli.with_changes(base, {("trainer", "seed"): 3, ("beam", "workers"): 2})
    assert changed.trainer.seed == 3 and changed.beam.workers == 2 and changed.name == "kept"
    assert changed.trainer.batch_size == base.trainer.batch_size
