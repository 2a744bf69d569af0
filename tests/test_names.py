"""The names that cross a boundary (modules/names.py): label keys and the serving names built
from them."""

from modules import names


def test_one_label_column_is_its_own_key_and_several_share_the_targets_key():
    assert names.label_columns("species") == ("species",)
    assert names.label_columns(" height, weight ,") == ("height", "weight")
    assert names.label_key(("species",)) == "species"
    assert names.label_key(("height", "weight")) == names.TARGETS


def test_serving_and_tensorboard_names():
    assert names.output_key(names.NETWORK_A, names.SCORES) == f"{names.NETWORK_A}_{names.SCORES}"
    assert names.served_model_name("wine", names.COMBINED) == f"wine_{names.COMBINED}"
    assert names.scalar_tag("loss", names.NETWORK_B) == f"loss/{names.NETWORK_B}"
    assert names.target_output(names.NETWORK_A, "height") == f"{names.NETWORK_A}__height"
    assert names.vocabulary_name("island") != names.label_statistics_name("island")


def test_every_served_model_and_network_name_is_distinct():
    assert len(set(names.SERVED_MODELS)) == len(names.SERVED_MODELS) == 3
    assert set(names.NETWORKS) < set(names.SERVED_MODELS)
