"""preprocessing_fn through tft_beam on a tiny table with missing values."""

import tempfile

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata, schema_utils

from modules import columns, names
from modules.columns import ColumnSpec
from modules.preprocessing import preprocessing_fn

RAW = [
    {"mass": [3.0], "island": ["Biscoe"], "species": ["Gentoo"]},
    {"mass": [], "island": ["Dream"], "species": ["Adelie"]},  # missing number
    {"mass": [5.0], "island": [], "species": ["Adelie"]},  # missing category
    {"mass": [7.0], "island": ["Biscoe"], "species": ["Adelie"]},
]
SPEC = {
    "mass": tf.io.VarLenFeature(tf.float32),
    "island": tf.io.VarLenFeature(tf.string),
    "species": tf.io.FixedLenFeature([], tf.string),
}
CONFIG = {
    names.CONFIG_FEATURES: [
        ColumnSpec("mass", columns.NUMERIC).to_dict(),
        ColumnSpec("island", columns.CATEGORICAL, encoding=columns.ONE_HOT).to_dict(),
    ],
    names.CONFIG_LABEL: "species",
    names.CONFIG_LABEL_COLUMNS: ["species"],
    names.CONFIG_TASK: "classification",
}


@pytest.fixture(scope="module")
def transformed():
    raw = [{k: (v[0] if k == "species" else v) for k, v in row.items()} for row in RAW]
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(SPEC))
    output_dir = tempfile.mkdtemp()
    with tft_beam.Context(temp_dir=tempfile.mkdtemp()):
        (rows, _), transform_fn = (raw, metadata) | tft_beam.AnalyzeAndTransformDataset(
            lambda inputs: preprocessing_fn(inputs, CONFIG)
        )
        _ = transform_fn | tft_beam.WriteTransformFn(output_dir)
    return rows, tft.TFTransformOutput(output_dir)


def test_numeric_is_z_scored_with_missing_values_imputed_by_the_mean(transformed):
    rows, _ = transformed
    present = np.array([3.0, 5.0, 7.0])
    expected = (np.array([3.0, present.mean(), 5.0, 7.0]) - present.mean()) / present.std()
    np.testing.assert_allclose([r["mass"] for r in rows], expected, rtol=1e-6)


def test_categories_get_vocabulary_ids_and_missing_is_its_own_category(transformed):
    rows, output = transformed
    vocabulary = [v.decode() for v in output.vocabulary_by_name(names.vocabulary_name("island"))]
    assert vocabulary[0] == "Biscoe"  # most frequent first
    assert set(vocabulary) == {"Biscoe", "Dream", names.MISSING_CATEGORY}
    ids = [vocabulary[r["island"]] for r in rows]
    assert ids == ["Biscoe", "Dream", names.MISSING_CATEGORY, "Biscoe"]
    assert output.num_buckets_for_transformed_feature("island") == len(vocabulary) + 1  # OOV bucket


def test_label_becomes_class_id_in_frequency_order(transformed):
    rows, output = transformed
    assert [v.decode() for v in output.vocabulary_by_name(names.vocabulary_name("species"))] == [
        "Adelie",
        "Gentoo",
    ]
    assert [r["species"] for r in rows] == [1, 0, 0, 0]


def test_serving_time_unseen_values_map_to_oov_and_unknown_label_to_minus_one(transformed):
    _, output = transformed
    layer = output.transform_features_layer()
    raw = {
        "mass": tf.sparse.from_dense(tf.constant([[1.0]])),
        "island": tf.sparse.from_dense(tf.constant([["Atlantis"]])),
        "species": tf.constant(["Emperor"]),
    }
    result = layer(raw)
    assert int(result["island"][0]) == 3  # vocabulary size: the OOV bucket
    assert int(result["species"][0]) == -1
    np.testing.assert_allclose(
        float(result["mass"][0]), (1.0 - 5.0) / np.std([3.0, 5.0, 7.0]), rtol=1e-6
    )


@pytest.mark.parametrize(
    "dtype, values",
    [
        (tf.int64, [3750, 3800, 3250, 4675, 6300]),
        (tf.int64, [10**12 + d for d in (3750, 3800, 3250, 4675, 6300)]),
        (tf.float32, [1.0e8 + d for d in (-96.0, 0.0, 32.0, 64.0, 128.0)]),
    ],
)
def test_regression_label_is_standardized_and_its_scaling_read_back_exactly(
    tmp_path, dtype, values
):
    """The label's float64 mean and std are stored beside the Transform graph and read back bit
    for bit, whatever the label's magnitude (a probe through float32 outputs lost them above
    ~1e7)."""
    from tensorflow_transform.tf_metadata import metadata_io

    from modules.layout import label_scaling

    spec = {"mass": tf.io.VarLenFeature(tf.float32), "grams": tf.io.FixedLenFeature([], dtype)}
    raw = [{"mass": [float(i)], "grams": g} for i, g in enumerate(values)]
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(spec))
    config = {
        names.CONFIG_FEATURES: [ColumnSpec("mass", columns.NUMERIC).to_dict()],
        names.CONFIG_LABEL: "grams",
        names.CONFIG_LABEL_COLUMNS: ["grams"],
        names.CONFIG_TASK: "regression",
    }
    with tft_beam.Context(temp_dir=str(tmp_path / "tmp")):
        (rows, _), transform_fn = (raw, metadata) | tft_beam.AnalyzeAndTransformDataset(
            lambda inputs: preprocessing_fn(inputs, config)
        )
        _ = transform_fn | tft_beam.WriteTransformFn(str(tmp_path))
    metadata_io.write_metadata(metadata, str(tmp_path / tft.TFTransformOutput.RAW_METADATA_DIR))
    exact = np.array(values, np.float64)
    np.testing.assert_allclose(
        [r["grams"] for r in rows], (exact - exact.mean()) / exact.std(), rtol=1e-6
    )
    mean, scale = label_scaling(tft.TFTransformOutput(str(tmp_path)), ["grams"])
    assert mean[0] == pytest.approx(exact.mean(), rel=1e-15)
    assert scale[0] == pytest.approx(exact.std(), rel=1e-9)


def test_a_column_empty_in_every_row_and_huge_values_stay_finite(tmp_path):
    spec = {
        "empty": tf.io.VarLenFeature(tf.float32),
        "huge": tf.io.VarLenFeature(tf.float32),
        "species": tf.io.FixedLenFeature([], tf.string),
    }
    raw = [
        {"empty": [], "huge": [v], "species": s}
        for v, s in ((3e38, "a"), (-3e38, "b"), (1e38, "a"))
    ]
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(spec))
    config = {
        names.CONFIG_FEATURES: [
            ColumnSpec("empty", columns.NUMERIC).to_dict(),
            ColumnSpec("huge", columns.NUMERIC).to_dict(),
        ],
        names.CONFIG_LABEL: "species",
        names.CONFIG_LABEL_COLUMNS: ["species"],
        names.CONFIG_TASK: "classification",
    }
    with tft_beam.Context(temp_dir=str(tmp_path)):
        (rows, _), _ = (raw, metadata) | tft_beam.AnalyzeAndTransformDataset(
            lambda inputs: preprocessing_fn(inputs, config)
        )
    assert [r["empty"] for r in rows] == [0.0, 0.0, 0.0]
    huge = np.array([r["huge"] for r in rows])
    assert np.isfinite(huge).all() and huge[0] > huge[2] > huge[1]
