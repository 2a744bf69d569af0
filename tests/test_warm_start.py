"""Warm start (modules/warm_start.py): one network starts from the blessed model's weights, its
id-read units matched to this run's ids by value."""

import dataclasses
import os
import re

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft

from modules import names, warm_start
from modules.data import in_order_dataset
from modules.hparams import NetworkSpec, TrainerConfig


def stored_network(model_dir: str, network: str) -> list:
    """A network's weights in a served SavedModel, in Keras order (kernel, bias per layer)."""
    prefix = os.path.join(model_dir, "variables", "variables")
    reader = tf.train.load_checkpoint(prefix)
    found = {}
    for key, _ in tf.train.list_variables(prefix):
        match = re.fullmatch(
            rf"model/{network}/mlp/layer_with_weights-(\d+)/(kernel|bias)/.ATTRIBUTES/VARIABLE_VALUE",
            key,
        )
        if match:
            found[(int(match[1]), match[2] == "bias")] = reader.get_tensor(key)
    return [found[k] for k in sorted(found)]


def test_a_warm_started_network_starts_equal_to_the_blessed_models_and_the_other_does_not(
    tiny_penguins, tiny_model
):
    blessed = tiny_model.serving_model_dir  # the blessed, pushed combined model
    trainer = tiny_penguins.twin(TrainerConfig(warm_start="a"))
    warm_start.restore(trainer.model, "a", blessed)
    for network, equal in ((names.NETWORK_A, True), (names.NETWORK_B, False)):
        stored = stored_network(blessed, network)
        mine = [v.numpy() for v in trainer.model.networks[network].trainable_variables]
        assert len(stored) == len(mine) == 6, network  # 3 dense layers
        same = [np.array_equal(a, b) for a, b in zip(mine, stored, strict=True)]
        assert same == [equal] * 6, (network, same)


def test_a_missing_or_misfit_base_model_fails_in_one_line(tiny_penguins, tiny_model):
    blessed = tiny_model.serving_model_dir
    trainer = tiny_penguins.twin(TrainerConfig())
    with pytest.raises(warm_start.WarmStartError, match="no blessed model yet"):
        warm_start.restore(trainer.model, "both", None)
    wider = dataclasses.replace(TrainerConfig(), network_b=NetworkSpec(hidden_units=(64, 32)))
    trainer = tiny_penguins.twin(wider)
    with pytest.raises(warm_start.WarmStartError) as error:
        warm_start.restore(trainer.model, "b", blessed)
    message = str(error.value)
    assert "\n" not in message and "cannot warm-start network_b from the blessed model" in message
    warm_start.restore(trainer.model, "a", blessed)  # network A still fits


def blessed_twin(tiny_penguins, blessed: str):
    """The blessed combined model as a TwinModel of this layout, every weight restored."""
    trainer = tiny_penguins.twin(TrainerConfig())
    prefix = os.path.join(blessed, "variables", "variables")
    tf.train.Checkpoint(model=trainer.model).read(prefix).expect_partial()
    return trainer.model


def reversed_layout(layout, recorded: dict):
    """This run's layout and vocabularies when a new data version made every class and every
    category rank in the other order (same values, other ids)."""
    swapped = {key: values[::-1] for key, values in recorded.items()}
    layout = dataclasses.replace(layout, label_vocabulary=tuple(swapped[warm_start.LABEL_ENTRY]))
    return layout, swapped


def test_ids_that_changed_order_are_matched_by_value_so_unchanged_rows_score_the_same(
    tiny_penguins, tiny_model
):
    from modules.networks import TwinModel

    blessed_dir = tiny_model.serving_model_dir
    recorded = warm_start.read_vocabularies(blessed_dir)
    assert recorded is not None and warm_start.LABEL_ENTRY in recorded
    blessed = blessed_twin(tiny_penguins, blessed_dir)
    layout, current = reversed_layout(blessed.layout, recorded)
    assert set(layout.categorical) <= set(current)  # every one-hot input is matched
    output = tft.TFTransformOutput(tiny_penguins.transform_graph)
    features, _ = next(iter(in_order_dataset(tiny_penguins.files("eval"), output, "species", 64)))
    renamed = dict(features)  # the same rows under the new ids (the OOV id stays last)
    for key, depth in layout.categorical.items():
        old = features[key]
        renamed[key] = tf.where(old == depth - 1, old, depth - 2 - old)
    network = names.NETWORK_A
    old_raw = blessed(features, training=False)[names.output_key(network, names.RAW)].numpy()
    config = TrainerConfig(warm_start="a")
    for remap, equal in ((current, True), (None, False)):  # by value, and by position
        model = TwinModel(layout, config)
        model(model.example_inputs())
        warm_start.restore(model, "a", blessed_dir, remap)
        new_raw = model(renamed, training=False)[names.output_key(network, names.RAW)].numpy()
        close = np.allclose(new_raw[:, ::-1], old_raw, rtol=0, atol=1e-5)
        assert close == equal, np.abs(new_raw[:, ::-1] - old_raw).max()


def test_a_class_or_category_added_or_removed_is_refused_naming_it(tiny_penguins, tiny_model):
    blessed_dir = tiny_model.serving_model_dir
    recorded = warm_start.read_vocabularies(blessed_dir)
    trainer = tiny_penguins.twin(TrainerConfig())
    key = sorted(trainer.model.layout.categorical)[0]
    added = {**recorded, warm_start.LABEL_ENTRY: [*recorded[warm_start.LABEL_ENTRY], "Emperor"]}
    with pytest.raises(warm_start.WarmStartError, match="the classes changed values .*'Emperor'"):
        warm_start.restore(trainer.model, "a", blessed_dir, added)
    removed = {**recorded, key: recorded[key][1:]}
    with pytest.raises(warm_start.WarmStartError, match=f"input '{key}' changed values"):
        warm_start.restore(trainer.model, "a", blessed_dir, removed)


def test_embedding_rows_move_with_their_values_and_oov_and_pad_stay():
    from modules.layout import FeatureLayout
    from modules.networks import TwinModel

    layout = FeatureLayout(
        numeric=("x",), categorical={}, n_outputs=2, embedded={"zip": 4}, text={"notes": (5, 3)}
    )
    model = TwinModel(layout, TrainerConfig(normalization="population"))
    model(model.example_inputs())
    network = model.networks[names.NETWORK_A]
    tables = {k: network.embedder.tables[k].embeddings for k in ("zip", "notes")}
    before = {k: t.numpy().copy() for k, t in tables.items()}
    orders = warm_start.id_orders(
        {"zip": ["a", "b", "c"], "notes": ["w", "x", "y"]},
        {"zip": ["c", "a", "b"], "notes": ["y", "x", "w"]},
    )
    warm_start.reorder(network, layout, orders)
    np.testing.assert_array_equal(tables["zip"].numpy(), before["zip"][[2, 0, 1, 3]])  # OOV last
    # PAD (0) and the OOV word (4) stay; the words 1..3 follow their values
    np.testing.assert_array_equal(tables["notes"].numpy(), before["notes"][[0, 3, 2, 1, 4]])


def test_an_auto_sized_warm_started_network_takes_the_blessed_widths_and_explicit_ones_stay(
    tiny_model,
):
    """Whatever a Tuner or this run's data would size it to, the network that warm-starts is
    built as the blessed one was, so its weights load."""
    blessed = tiny_model.serving_model_dir
    kernels = [w for w in stored_network(blessed, "network_a") if w.ndim == 3]
    widths = [w.shape[-1] for w in kernels]  # [members, inputs, units] per layer
    expected = tuple(widths[:-1])  # the hidden layers' (the last kernel is the head)
    config = warm_start.with_blessed_widths(TrainerConfig(warm_start="a"), blessed)
    assert config.network_a.hidden_units == expected and expected
    assert config.network_b.hidden_units == ()  # not warm-started: sized as usual
    explicit = TrainerConfig(warm_start="both", network_b=NetworkSpec(hidden_units=(64, 32)))
    kept = warm_start.with_blessed_widths(explicit, blessed)
    assert kept.network_b.hidden_units == (64, 32) and kept.network_a.hidden_units == expected
    members = kernels[0].shape[0]
    with pytest.raises(warm_start.WarmStartError, match=f"has {members} members .* --members"):
        warm_start.with_blessed_widths(TrainerConfig(warm_start="b", members=members + 1), blessed)
