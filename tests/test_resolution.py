"""Resolution of a config against its CSV (pipeline/resolution.py): defaults, splits, schema
source, labels and refusals, before any component runs."""

import dataclasses
import glob
import os

import pytest

from modules.hparams import TrainerConfig
from modules.paths import OutputLayout
from pipeline import cli
from pipeline.config import DEFAULT_SCHEMA, ROW_KEY, PipelineConfig
from pipeline.resolution import resolve


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
        "network_a__small": ('{"measure": "mse"}', 0.0),
        "network_a__big": ('{"measure": "mse"}', 0.0),
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
    path.write_text("x,y\n" + "".join(f"{i % 97},{i % 2}\n" for i in range(SMALL_DATA_ROWS)))
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


def test_key_columns_are_never_features_and_must_be_in_the_inference_data(tmp_path):
    data, new = tmp_path / "data.csv", tmp_path / "new.csv"
    data.write_text("id,a,y\n" + "1,2.0,x\n2,3.0,z\n" * 5)
    new.write_text("id,a\n7,2.5\n")
    base = dataclasses.replace(PipelineConfig(), data=str(data), label="y", schema="")
    keyed = resolve(dataclasses.replace(base, inference_data=str(new), key_columns=("id",)))
    assert keyed.features == ("a",) and keyed.key_columns == ("id",)
    for changes, message in (
        (dict(key_columns=("id",)), "key_columns name columns of the inference data"),
        (dict(inference_data=str(new), key_columns=("y",)), r"key column\(s\) y are the label"),
        (dict(inference_data=str(new), key_columns=("row",)), r"lacks key column\(s\) row"),
        (dict(explain="all"), "--explain all adds attributions .* give --inference-data"),
    ):
        with pytest.raises(ValueError, match=message):
            resolve(dataclasses.replace(base, **changes))


def test_inference_data_may_be_a_folder_and_its_rows_are_numbered_unless_keyed(tmp_path):
    data, folder = tmp_path / "data.csv", tmp_path / "new"
    data.write_text("a,y\n" + "2.0,x\n3.0,z\n" * 5)
    folder.mkdir()
    (folder / "part-1.csv").write_text("id,a\nk,2.5\n")
    (folder / "part-2.csv").write_text("id,a\nl,1.5\nm,0.5\n")
    base = dataclasses.replace(
        PipelineConfig(),
        data=str(data),
        label="y",
        schema="",
        inference_data=str(folder),
        output=str(tmp_path / "out"),
    )
    keyed = resolve(dataclasses.replace(base, key_columns=("id",)))  # read in place
    assert (keyed.inference_dir, keyed.inference_pattern) == (str(folder), "*.csv")
    assert keyed.prediction_keys == ("id",)
    numbered = resolve(base)  # no key given: a copy numbers the rows, across the folder's files
    assert numbered.inference_dir.startswith(numbered.outputs.prepared_dir)
    assert numbered.prediction_keys == (ROW_KEY,)
    (copy,) = glob.glob(os.path.join(numbered.inference_dir, numbered.inference_pattern))
    with open(copy) as handle:
        assert handle.read() == f"{ROW_KEY},id,a\n1,k,2.5\n2,l,1.5\n3,m,0.5\n"


def test_every_export_a_user_brings_resolves_before_any_component(tmp_path):
    """The matrix of exports: each is read with `--data` and `--label` alone, its columns get the
    penguins' kinds under the user's names, and a copy is made exactly where ExampleGen needs one
    (tests/e2e/test_real_exports.py runs every trait at once through the whole pipeline)."""
    from modules import columns
    from tests import exports

    copied = {"gzip", "tab-separated", "semicolons, decimal commas", "byte-order mark"}
    copied |= {"trailing delimiter", "empty labels"}
    for name, (path, label) in exports.variants(str(tmp_path / "in")).items():
        config = resolve(
            dataclasses.replace(
                PipelineConfig(), data=path, label=label, output=str(tmp_path / "out")
            )
        )
        kinds = {spec.name: spec.kind for spec in config.column_specs}
        island = exports.SPREADSHEET_NAMES["island"] if name == "spaces and brackets" else "island"
        assert kinds[island] == columns.CATEGORICAL, name
        assert list(kinds.values()).count(columns.NUMERIC) == 5, name
        assert bool(config.prepared_data) == (name in copied), (name, config.data_notes)
        assert config.unlabelled_rows == (9 if name == "empty labels" else 0), name
        assert config.label_classes == 3, name  # stray spaces do not make new classes


def test_empty_labels_are_refused_on_request_and_unusable_headers_in_one_line(tmp_path):
    from tests import exports

    path, label = exports.variants(str(tmp_path))["empty labels"]
    base = dataclasses.replace(PipelineConfig(), data=path, label=label, inference_data="")
    with pytest.raises(ValueError, match="label 'species' is empty in 9 row.s., first at"):
        resolve(dataclasses.replace(base, on_missing_label="fail"))
    comma = tmp_path / "comma.csv"
    comma.write_text('"Length, mm",species\n' + "1,a\n" * 10)
    with pytest.raises(ValueError, match="column name 'Length, mm' holds a comma"):
        resolve(dataclasses.replace(base, data=str(comma)))
    with pytest.raises(ValueError, match="sets the kind of 'species', which is not a feature"):
        resolve(dataclasses.replace(base, columns=(("species", "text"),)))


def test_data_whose_every_column_is_left_out_is_refused_saying_why(tmp_path):
    data = tmp_path / "ids.csv"
    data.write_text("user,y\n" + "".join(f"u{i},{i % 2}\n" for i in range(60)))
    config = dataclasses.replace(PipelineConfig(), data=str(data), label="y", inference_data="")
    with pytest.raises(ValueError, match=r"every one is left out: user \(a different value in"):
        resolve(config)
    kept = resolve(dataclasses.replace(config, columns=(("user", "categorical"),)))
    assert kept.features == ("user",)
