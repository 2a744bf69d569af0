"""preprocessing_fn through tft_beam on a tiny table with missing values."""
import tempfile

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata, schema_utils

from modules import names
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
CONFIG = {names.CONFIG_FEATURES: ["mass", "island"], names.CONFIG_LABEL: "species", "task": "classification"}


@pytest.fixture(scope="module")
def transformed():
    raw = [{k: (v[0] if k == "species" else v) for k, v in row.items()} for row in RAW]
    metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(SPEC))
    output_dir = tempfile.mkdtemp()
    with tft_beam.Context(temp_dir=tempfile.mkdtemp()):
        (rows, _), transform_fn = (raw, metadata) | tft_beam.AnalyzeAndTransformDataset(
            lambda inputs: preprocessing_fn(inputs, CONFIG))
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
    assert [v.decode() for v in output.vocabulary_by_name(names.vocabulary_name("species"))] == ["Adelie", "Gentoo"]
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
    np.testing.assert_allclose(float(result["mass"][0]), (1.0 - 5.0) / np.std([3.0, 5.0, 7.0]), rtol=1e-6)
