"""The feature layout (modules/layout.py) read from a tiny real Transform output: floats are
numeric, ids are categorical with their bucket counts, the label's classes in Transform's order."""

import tensorflow_transform as tft

from modules import names
from modules.layout import FeatureLayout, feature_layout


def test_kinds_and_sizes_come_from_transforms_output(tiny_penguins):
    output = tft.TFTransformOutput(tiny_penguins.transform_graph)
    config = tiny_penguins.config
    layout = feature_layout(output, config.feature_specs, config.label, "classification")
    assert layout.numeric == (
        "bill_length_mm",
        "bill_depth_mm",
        "flipper_length_mm",
        "body_mass_g",
        "year",
    )
    islands = output.vocabulary_by_name(names.vocabulary_name("island"))
    assert layout.categorical["island"] == len(islands) + 1  # the OOV bucket
    assert set(layout.categorical) == {"island", "sex"}
    assert layout.label_vocabulary == ("Adelie", "Gentoo", "Chinstrap")  # most frequent first
    assert layout.n_outputs == 3
    assert layout.width == 5 + sum(layout.categorical.values())


def test_a_wide_numeric_feature_counts_each_of_its_values():
    layout = FeatureLayout(("x", "pair"), {"c": 4}, 1, numeric_widths={"pair": (2,)})
    assert layout.width == 1 + 2 + 4
