"""Configuration: validation of modes and outputs, and command-line options that fail fast."""

import dataclasses
import glob
import os
import re
import subprocess
import sys

import pytest
import yaml

from modules import modes
from modules.hparams import NetworkSpec, TrainerConfig
from modules.paths import OutputLayout
from pipeline import cli, config_file
from pipeline.config import DEFAULT_DATA, DEFAULT_SCHEMA, REPO_ROOT, PipelineConfig
from pipeline.resolution import resolve


def test_trainer_config_round_trips_through_a_json_dict():
    config = TrainerConfig(
        network_a=NetworkSpec(hidden_units=(8, 4), dropout=0.1), normalization="shared"
    )
    assert TrainerConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize(
    "mode, task, n_outputs",
    [
        ("range", "classification", 2),
        ("standardize", "classification", 2),
        ("shared", "regression", 1),
        ("range", "regression", 1),
        ("standardize", "regression", 3),
        ("population", "classification", 1),
    ],
)
def test_the_mode_table_refuses_what_cannot_learn_and_names_what_can(mode, task, n_outputs):
    with pytest.raises(ValueError) as error:
        modes.check(mode, task, n_outputs)
    if n_outputs > 1 or task == "regression":
        assert "population" in str(error.value) and "--normalization auto" in str(error.value)


@pytest.mark.parametrize(
    "task, n_outputs, expected",
    [
        ("classification", 2, ("shared", "population")),
        ("classification", 3, modes.NAMES),
        ("regression", 1, ("population",)),
        ("regression", 10, ("population",)),
    ],
)
def test_every_mode_the_table_allows_is_accepted_and_auto_picks_one_of_them(
    task, n_outputs, expected
):
    assert modes.modes_for(task, n_outputs) == expected
    for mode in expected:
        modes.check(mode, task, n_outputs)
    assert modes.choose(task, n_outputs) in expected
    mode, loss = modes.resolve("auto", "auto", task, n_outputs)
    assert loss == ("mse" if task == "regression" else modes.MODES[mode].loss)


def test_auto_sizes_grow_with_the_input_width_and_output_count():
    assert NetworkSpec().sized(12, 3).hidden_units == (32, 16)
    assert NetworkSpec().sized(64, 10).hidden_units == (256, 128)
    assert NetworkSpec(hidden_units=(8,)).sized(64, 10).hidden_units == (8,)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"normalization": "batch"}, "normalization must be one of"),
        ({"loss": "hinge"}, "loss must be one of"),
        ({"task": "regression", "loss": "cross_entropy"}, "needs task 'classification'"),
        ({"batch_size": 0}, "batch_size must be > 0"),
        ({"network_b": NetworkSpec(activation="magic")}, "network_b: activation"),
    ],
)
def test_invalid_trainer_settings_are_refused(change, message):
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(TrainerConfig(), **change).validate()


def test_features_default_to_every_column_but_the_label():
    config = resolve(PipelineConfig())
    assert config.features == (
        "island",
        "bill_length_mm",
        "bill_depth_mm",
        "flipper_length_mm",
        "body_mass_g",
        "sex",
        "year",
    )


def test_generic_csv_works_by_options_alone(tmp_path):
    path = tmp_path / "wine.csv"
    path.write_text("acid,sugar,colour,quality\n" + "1.0,2.0,red,good\n2.0,1.0,white,bad\n" * 5)
    parser = cli.add_pipeline_options(__import__("argparse").ArgumentParser())
    config = cli.config_from_args(
        parser.parse_args(["--data", str(path), "--label", "quality", "--features", "acid,colour"])
    )
    assert (config.label, config.features, config.data_dir) == (
        "quality",
        ("acid", "colour"),
        str(tmp_path),
    )
    assert config.inference_data == ""  # the embedded unlabelled penguins only go with the penguins


def test_several_label_columns_are_regression_targets_each_with_its_own_bar(tmp_path):
    from pipeline.evaluation import eval_config

    path = tmp_path / "targets.csv"
    path.write_text(
        "x,small,big\n" + "".join(f"{i},{i * 0.01},{i * 1000.0 + (i % 3)}\n" for i in range(30))
    )
    config = resolve(dataclasses.replace(PipelineConfig(), data=str(path), label="small,big"))
    assert (config.trainer.task, config.trainer.normalization, config.features) == (
        "regression",
        "population",
        ("x",),
    )
    assert config.label_columns == ("small", "big") and config.label_key == "targets"
    bars = {  # per target: R^2 on its own rows in its own units (skill over the mean, `mse`)
        spec.output_names[0]: (
            spec.metrics[0].config,
            spec.metrics[0].per_slice_thresholds[0].threshold.value_threshold.lower_bound.value,
        )
        for spec in eval_config(config).metrics_specs
        if spec.output_names
    }
    assert bars == {
        "network_a__small": ('{"measure": "mse"}', 0.2),
        "network_a__big": ('{"measure": "mse"}', 0.2),
    }
    with pytest.raises(
        ValueError, match="several label columns .small,big. are regression targets"
    ):
        resolve(
            dataclasses.replace(
                PipelineConfig(),
                data=str(path),
                label="small,big",
                trainer=TrainerConfig(task="classification"),
            )
        )


def test_three_splits_sized_by_the_row_count_unless_given(tmp_path):
    from pipeline.config import LARGE_DATA_SPLIT, SMALL_DATA_ROWS, SMALL_DATA_SPLIT

    assert resolve(PipelineConfig()).split == SMALL_DATA_SPLIT  # 344 penguins
    path = tmp_path / "large.csv"
    path.write_text("x,y\n" + "".join(f"{i},{i % 2}\n" for i in range(SMALL_DATA_ROWS)))
    large = dataclasses.replace(PipelineConfig(), data=str(path), label="y", schema="")
    assert resolve(large).split == LARGE_DATA_SPLIT
    given = dataclasses.replace(large, split=(6, 2, 2))
    assert resolve(given).split == (6, 2, 2)
    for wrong in ((2, 1), (4, 0, 1)):
        with pytest.raises(ValueError, match="three positive bucket counts"):
            resolve(dataclasses.replace(large, split=wrong))


def test_inference_data_must_carry_every_feature(tmp_path):
    path = tmp_path / "new.csv"
    path.write_text("island,sex\nDream,male\n")
    with pytest.raises(ValueError, match="lacks feature column"):
        resolve(dataclasses.replace(PipelineConfig(), inference_data=str(path)))


@pytest.mark.parametrize(
    "args, message",
    [
        (["--label", "beak"], "label column 'beak' is not in"),
        (["--features", "island,wings"], "feature column(s) wings not in"),
        (["--data", "/no/such/file.csv"], "data path /no/such/file.csv does not exist"),
        (["--normalization", "batch"], "invalid choice: 'batch'"),
        (["--train-steps", "-3"], "expected a positive integer"),
        (["--schema", "/no/such/schema.pbtxt"], "schema file /no/such/schema.pbtxt does not exist"),
        (["--on-anomaly", "ignore"], "invalid choice: 'ignore'"),
        (["--data", "tests/golden"], "no *.csv file in tests/golden"),
        (
            [
                "--data",
                "data/binary/breast_cancer.csv",
                "--label",
                "malignant",
                "--normalization",
                "range",
            ],
            "normalization 'range' cannot learn a binary label",
        ),
        (["--label", "sex"], "label 'sex' is empty in 11 row(s)"),
        (["--label", "body_mass_g"], "label 'body_mass_g' is empty in 2 row(s), first at "),
        (["--min-accuracy", "90"], "for 90 %, pass 0.9"),
        (
            ["--min-skill", "1"],
            "min_skill is a fraction in [0, 1) of the way from the best constant",
        ),
        (["--output", "/proc/twinnorm"], "--output /proc/twinnorm: cannot create or write"),
        (["--output", "setup.py"], "/setup.py is a file; give a folder"),
        (["--batch-size", "0"], "argument --batch-size: expected a positive integer, got 0"),
        (["--train-workers", "0"], "argument --train-workers: expected a positive integer"),
        (["--batch-size", "30", "--train-workers", "4"], "must be a multiple of train_workers 4"),
        (
            ["--beam-profile", "flink"],
            "Beam profile 'flink' needs --beam-master, --beam-sdk-container-image",
        ),
        (["--config", "/no/such.yaml"], "config file /no/such.yaml does not exist"),
        (["--serving-base", "models"], "serving_base must be an absolute path or a URI"),
        (["--verbose", "--quiet"], "argument --quiet: not allowed with argument --verbose"),
    ],
)
def test_local_runner_rejects_bad_options_in_one_line_before_any_component(args, message, tmp_path):
    result = subprocess.run(
        [sys.executable, "local_runner.py", "--output", str(tmp_path), *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr  # one line, no usage text
    assert result.stdout == ""
    assert not (tmp_path / "pipelines").exists()  # nothing ran


def print_config(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "local_runner.py", "--print-config", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_print_config_output_used_as_config_gives_the_same_effective_config(tmp_path):
    first = print_config("--train-steps", "7", "--normalization", "shared", "--loss", "mse")
    path = tmp_path / "run.yaml"
    path.write_text(first.stdout)
    again = print_config("--config", str(path))
    assert again.stdout == first.stdout
    parsed = yaml.safe_load(first.stdout)
    assert parsed["trainer"]["train_steps"] == 7 and parsed["trainer"]["normalization"] == "shared"
    assert config_file.read(str(path)) == config_file.read(str(path))  # a plain, stable read
    # flags beside the file win
    assert "train_steps: 9" in print_config("--config", str(path), "--train-steps", "9").stdout


def test_config_file_sets_each_network_and_refuses_unknown_keys_and_wrong_types(tmp_path):
    path = tmp_path / "nets.yaml"
    path.write_text(
        "trainer:\n"
        "  network_a: {hidden_units: [64, 32], activation: gelu, dropout: 0.2, learning_rate: 0.003}\n"
        "  network_b: {hidden_units: [16], learning_rate: 0.001}\n"
    )
    config = config_file.read(str(path))
    assert config.trainer.network_a == NetworkSpec((64, 32), "gelu", 0.2, 0.003)
    assert config.trainer.network_b == NetworkSpec((16,), "relu", 0.0, 0.001)
    for text, message in [
        (
            "trainer:\n  network_a: {hidden_unitz: [3]}\n",
            "unknown key(s) trainer.network_a.hidden_unitz",
        ),
        ("trainer:\n  batch_size: many\n", "trainer.batch_size must be an integer, got 'many'"),
        ("split: [2, x]\n", "split[1] must be an integer, got 'x'"),
        ("- a list\n", "the file must be a mapping"),
    ]:
        path.write_text(text)
        with pytest.raises(ValueError, match=re.escape(message)):
            config_file.read(str(path))


@pytest.mark.slow
def test_every_run_keeps_its_effective_config_and_log_in_the_output_folder(penguin_run):
    (folder,) = glob.glob(os.path.join(penguin_run.outputs.runs_dir, "*"))[:1]
    saved = config_file.read(os.path.join(folder, "config.yaml"))
    assert saved.output == penguin_run.output_dir and saved.trainer.normalization == "range"
    assert os.path.getsize(os.path.join(folder, "run.log")) > 0


def test_empty_csv_is_named_in_the_error(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="empty.csv is empty"):
        resolve(dataclasses.replace(PipelineConfig(), data=str(empty)))


def test_header_only_csv_is_named_in_the_error(tmp_path):
    header_only = tmp_path / "header.csv"
    header_only.write_text("island,species\n\n")
    with pytest.raises(ValueError, match="header.csv has a header but no data rows"):
        resolve(dataclasses.replace(PipelineConfig(), data=str(header_only), label="species"))


def test_curated_schema_goes_with_the_embedded_data_and_must_describe_every_column(tmp_path):
    assert resolve(PipelineConfig()).schema == DEFAULT_SCHEMA
    path = tmp_path / "wine.csv"
    path.write_text("acid,quality\n" + "1.0,good\n2.0,bad\n" * 5)
    assert (
        resolve(dataclasses.replace(PipelineConfig(), data=str(path), label="quality")).schema == ""
    )
    with pytest.raises(ValueError, match="does not describe column.s. quality, acid"):
        resolve(
            dataclasses.replace(
                PipelineConfig(), data=str(path), label="quality", schema=DEFAULT_SCHEMA
            )
        )
    broken = tmp_path / "broken.pbtxt"
    broken.write_text("feature { name: ")
    with pytest.raises(ValueError, match="is not a Schema text proto"):
        resolve(dataclasses.replace(PipelineConfig(), schema=str(broken)))


def test_embedded_data_is_the_raw_penguin_table():
    with open(DEFAULT_DATA) as handle:
        lines = handle.read().splitlines()
    assert len(lines) == 345  # header + 344 rows
    assert sum(",," in line or line.endswith(",") for line in lines) >= 11  # missing values kept


@pytest.mark.parametrize("argv, disabled", [([], 1), (["--transform-statistics"], 0)])
def test_transform_statistics_are_off_unless_asked_for(argv, disabled, tmp_path):
    from pipeline.pipeline import create_pipeline

    config = cli.parse([*argv, "--output", str(tmp_path)], "test")
    transform = next(c for c in create_pipeline(config).components if c.id == "Transform")
    assert transform.exec_properties["disable_statistics"] == disabled


def test_slices_bar_only_the_overall_slice_unless_a_slice_bar_is_given(tmp_path):
    from pipeline.evaluation import eval_config

    config = resolve(dataclasses.replace(PipelineConfig(), slice_by=("island",)))
    evaluation = eval_config(config)
    assert [list(s.feature_keys) for s in evaluation.slicing_specs] == [[], ["island"]]
    skill, accuracy = evaluation.metrics_specs[0].metrics
    assert not skill.HasField("threshold")  # a plain threshold would bar every slice
    assert [len(t.slicing_specs[0].feature_keys) for t in skill.per_slice_thresholds] == [0]
    assert not accuracy.per_slice_thresholds  # no absolute bar unless given
    barred = dataclasses.replace(config, min_slice_accuracy=0.8)
    _, accuracy = eval_config(barred).metrics_specs[0].metrics
    (island,) = accuracy.per_slice_thresholds
    assert list(island.slicing_specs[0].feature_keys) == ["island"]
    assert island.threshold.value_threshold.lower_bound.value == pytest.approx(0.8)
    for bad, message in (
        (dict(slice_by=("nope",)), "slice column.s. nope not in"),
        (dict(min_slice_accuracy=0.8), "min_slice_accuracy needs slice_by"),
        (dict(slice_by=("island",), min_slice_accuracy=80.0), "min_slice_accuracy is a fraction"),
    ):
        with pytest.raises(ValueError, match=message):
            resolve(dataclasses.replace(PipelineConfig(), **bad))


def test_the_first_run_infers_and_keeps_the_schema_and_later_runs_import_the_kept_one(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("a,b,y\n" + "1,x,0\n2,z,1\n" * 5)
    base = dataclasses.replace(PipelineConfig(), data=str(data), label="y", output=str(tmp_path))
    first = resolve(base)
    kept = OutputLayout(str(tmp_path)).kept_schema
    assert (first.schema, first.kept_schema) == ("", kept)  # infer, and keep it there
    os.makedirs(os.path.dirname(kept))
    schema = 'feature { name: "a" type: INT }\nfeature { name: "b" type: BYTES }\n'
    with open(kept, "w") as handle:
        handle.write(schema + 'feature { name: "y" type: INT }\n')
    later = resolve(base)
    assert (later.schema, later.kept_schema) == (kept, "")  # import the kept one
    again = resolve(dataclasses.replace(base, reinfer_schema=True))
    assert (again.schema, again.kept_schema) == ("", kept)
    every_run = resolve(dataclasses.replace(base, schema=""))  # --schema none
    assert (every_run.schema, every_run.kept_schema) == ("", "")
    with pytest.raises(ValueError, match="reinfer_schema infers a new schema"):
        resolve(dataclasses.replace(base, schema=kept, reinfer_schema=True))
    assert resolve(dataclasses.replace(first, schema=None)).schema == kept  # its file, re-read


def test_drift_reads_which_columns_are_numeric_from_the_csv(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("a,b,c,y\n" + "1,x,,0\n2.5,z,3,1\nnan,1,4,0\n" * 5)
    config = resolve(dataclasses.replace(PipelineConfig(), data=str(data), label="y", drift=True))
    assert config.drift_numeric == ("a", "c", "y")
    with pytest.raises(ValueError, match="max_drift_jsd must be > 0"):
        resolve(dataclasses.replace(config, max_drift_jsd=0.0))


def penguin_text() -> str:
    with open(os.path.join(REPO_ROOT, DEFAULT_DATA), newline="") as handle:
        return handle.read()


def one_row_class(text: str) -> str:
    """The first data row's species renamed to a class of its own."""
    lines = text.splitlines(keepends=True)
    lines[1] = lines[1].replace("Adelie", "Emperor", 1)
    return "".join(lines)


def repeated_column(text: str) -> str:
    """`bill_depth_mm` renamed to `bill_length_mm` in the header."""
    header, rest = text.split("\n", 1)
    return header.replace("bill_depth_mm", "bill_length_mm") + "\n" + rest


def pandas_index(text: str) -> str:
    """What pandas' to_csv writes by default: an unnamed index column first."""
    return "".join(
        f",{line}" if i == 0 else f"{i - 1},{line}"
        for i, line in enumerate(text.splitlines(keepends=True))
    )


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda t: "\ufeff" + t, "starts with a UTF-8 byte-order mark"),
        (repeated_column, "the header repeats column name(s) 'bill_length_mm' (2 times)"),
        (pandas_index, "column 1 of the header has no name (a pandas index written by to_csv?"),
        (one_row_class, "label 'species' has class(es) with fewer than 5 rows: 'Emperor' (1 row)"),
    ],
)
def test_awkward_csv_exports_are_refused_in_one_line_before_any_component(edit, message, tmp_path):
    data = tmp_path / "penguins.csv"
    data.write_text(edit(penguin_text()), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "local_runner.py", "--output", str(tmp_path), "--data", str(data)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert message in result.stderr, result.stderr
    if "header" in message or "byte-order" in message:
        assert str(data) in result.stderr  # names the file
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr  # one line, no traceback
    assert not (tmp_path / "pipelines").exists()  # nothing ran
