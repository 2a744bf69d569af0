"""Warm start: a network begins training from the latest blessed model's weights, unit by unit
by meaning, not by position.

The pipeline hands the Trainer the latest blessed model as TFX's `base_model` (through the same
resolver the Evaluator's baseline comes from). Its combined SavedModel holds both networks under
`model/network_a` and `model/network_b` of its object graph, so a partial checkpoint read of that
path restores exactly the chosen network's layers; everything else (the other network, the
normalization statistics, the calibration) starts fresh.

Transform orders label and category vocabularies by frequency, so a new data version can give
the same values other ids. Every exported model records its vocabularies
(`assets.extra/twinnorm_vocabularies.json`); a warm start compares them with this run's and
permutes what reads an id (the first layer's one-hot rows, embedding rows, the head's classes)
so each unit keeps its value. Values added or removed are refused in one line naming them.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Dict, List, Mapping, Optional, Tuple

import numpy as np
import tensorflow as tf
from absl import logging as log

from modules import modes, names
from modules.hparams import WARM_START

VOCABULARIES_FILE = os.path.join("assets.extra", "twinnorm_vocabularies.json")
LABEL_ENTRY = "(label)"  # the classes' entry; never an internal key (modules/columns.py)


class WarmStartError(ValueError):
    """No base model, or one whose network does not fit this run's network (one-line message)."""


def networks_of(choice: str) -> Tuple[str, ...]:
    """`a` -> (network_a,), `both` -> both networks, `` -> none."""
    if choice not in WARM_START:
        raise ValueError(f"warm_start must be one of a, b, both; got {choice!r}")
    return {"": (), "a": (names.NETWORK_A,), "b": (names.NETWORK_B,), "both": names.NETWORKS}[
        choice
    ]


def with_blessed_widths(config, base_model: Optional[str]):
    """The config with each warm-started network whose hidden units are left to `auto` sized as
    the blessed model's (read from its checkpoint): a tuned or auto-sized blessed network stays
    loadable whatever this run's data or Tuner would pick. Explicit units are kept, and checked
    when the weights are read."""
    if not base_model:
        return config
    shapes = dict(tf.train.list_variables(os.path.join(base_model, "variables", "variables")))
    changes = {}
    for network in networks_of(config.warm_start):
        spec = getattr(config, network)
        widths = []  # each dense layer's, the head's last
        while kernel := shapes.get(
            f"model/{network}/mlp/layer_with_weights-{len(widths)}/kernel/.ATTRIBUTES/VARIABLE_VALUE"
        ):
            widths.append(int(kernel[-1]))
            if len(kernel) == 3 and kernel[0] != config.members:  # [members, inputs, units]
                raise WarmStartError(
                    f"cannot warm-start {network}: the blessed model has {kernel[0]} members per "
                    f"network, this run {config.members}; run with --members {kernel[0]} or "
                    "without --warm-start"
                )
        units = tuple(widths[:-1])
        if not spec.hidden_units and units:
            changes[network] = dataclasses.replace(spec, hidden_units=units)
            log.info("warm start: %s takes the blessed model's hidden units %s", network, units)
    return dataclasses.replace(config, **changes)


def vocabularies(layout, tf_transform_output) -> Dict[str, List[str]]:
    """Every id-read input's values by id (categories one-hot or embedded, text words) and the
    classes, as this run's Transform output orders them."""
    result = {}
    for key in sorted([*layout.categorical, *layout.embedded, *layout.text]):
        try:
            values = tf_transform_output.vocabulary_by_name(names.vocabulary_name(key))
        except ValueError:  # ids fixed by the graph (a date's month, hour): nothing to match
            continue
        result[key] = [v.decode("utf-8", "replace") for v in values]
    if layout.task == modes.CLASSIFICATION:
        result[LABEL_ENTRY] = list(layout.label_vocabulary)
    return result


def write_vocabularies(model_dir: str, values: Mapping[str, List[str]]) -> None:
    path = os.path.join(model_dir, VOCABULARIES_FILE)
    tf.io.gfile.makedirs(os.path.dirname(path))
    with tf.io.gfile.GFile(path, "w") as handle:
        json.dump(values, handle)


def read_vocabularies(model_dir: str) -> Optional[Dict[str, List[str]]]:
    path = os.path.join(model_dir, VOCABULARIES_FILE)
    if not tf.io.gfile.exists(path):
        return None
    with tf.io.gfile.GFile(path) as handle:
        return json.load(handle)


def id_orders(
    blessed: Mapping[str, List[str]], current: Mapping[str, List[str]]
) -> Dict[str, np.ndarray]:
    """Input key -> the blessed id of each current id, where the order changed; a value added or
    removed raises WarmStartError naming the input and the values."""
    orders = {}
    for key, values in current.items():
        before = blessed.get(key)
        if before is None or set(before) != set(values):
            added = sorted(set(values) - set(before or ()))[:3]
            removed = sorted(set(before or ()) - set(values))[:3]
            what = "the classes" if key == LABEL_ENTRY else f"input {key!r}"
            raise WarmStartError(
                f"cannot warm-start: {what} changed values since the blessed model (new: "
                f"{', '.join(map(repr, added)) or 'none'}; gone: "
                f"{', '.join(map(repr, removed)) or 'none'}); its units would mean other values, "
                "so run without --warm-start"
            )
        if list(before) != list(values):
            index = {value: i for i, value in enumerate(before)}
            orders[key] = np.array([index[v] for v in values])
    return orders


def restore(
    model,
    choice: str,
    base_model: Optional[str],
    current: Optional[Mapping[str, List[str]]] = None,
) -> None:
    """Sets the chosen networks of `model` (built, variables created) to `base_model`'s weights,
    each id-read unit moved to the id its value has now. `base_model` is the blessed model's
    serving folder (TFX's fn_args.base_model); `current`: this run's `vocabularies`."""
    chosen = networks_of(choice)
    if not chosen:
        return
    if not base_model:
        raise WarmStartError(
            f"warm start of {', '.join(chosen)}: there is no blessed model yet to start from; "
            "run once without --warm-start"
        )
    orders = {}
    if current is not None:
        blessed = read_vocabularies(base_model)
        if blessed is None:
            raise WarmStartError(
                f"cannot warm-start from {base_model}: it records no vocabularies "
                f"({VOCABULARIES_FILE}; models exported before warm start by meaning lack it), so "
                "its ids cannot be matched to this run's; run once without --warm-start"
            )
        orders = id_orders(blessed, current)
    prefix = os.path.join(base_model, "variables", "variables")
    for network in chosen:
        target = model.networks[network]
        reader = tf.train.Checkpoint(model=tf.train.Checkpoint(**{network: target}))
        try:
            status = reader.read(prefix)
            status.assert_existing_objects_matched().expect_partial()
        except (AssertionError, ValueError, tf.errors.OpError) as error:
            reason = " ".join(str(error).split())[:300]
            raise WarmStartError(
                f"cannot warm-start {network} from the blessed model {base_model}: its "
                f"{network} does not fit this run's ({reason}); same features and hidden_units "
                "are needed"
            ) from None
        reorder(target, model.layout, orders)
        log.info(
            "warm start: %s initialized from the blessed model %s (ids reordered: %s)",
            network,
            base_model,
            ", ".join(sorted(orders)) or "none",
        )


def reorder(network, layout, orders: Mapping[str, np.ndarray]) -> None:
    """Moves each id-read unit of `network` from its blessed id to its current one: rows of the
    first layer's one-hot blocks, rows of the embedding tables (the OOV bucket, and text's PAD,
    stay), and the head's columns (classes)."""
    first = network.mlp.layers[0].kernel  # [members, inputs, units]
    offset = sum(int(layout.numeric_widths.get(k, (1,))[0]) for k in layout.numeric)
    for key, depth in sorted(layout.categorical.items()):  # the encoder's one-hot order
        if key in orders:
            rows = offset + np.append(orders[key], depth - 1)
            block = tf.gather(first, rows, axis=1)
            first.assign(tf.concat([first[:, :offset], block, first[:, offset + depth :]], axis=1))
        offset += depth
    for key in layout.embedded:
        if key in orders:
            table = network.embedder.tables[key].embeddings
            table.assign(tf.gather(table, np.append(orders[key], len(orders[key]))))
    for key in layout.text:
        if key in orders:
            table = network.embedder.tables[key].embeddings
            words = len(orders[key])
            table.assign(tf.gather(table, np.concatenate([[0], orders[key] + 1, [words + 1]])))
    if LABEL_ENTRY in orders:
        head = network.mlp.layers[-1]
        head.kernel.assign(tf.gather(head.kernel, orders[LABEL_ENTRY], axis=2))
        head.bias.assign(tf.gather(head.bias, orders[LABEL_ENTRY], axis=1))
