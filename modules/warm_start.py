"""Warm start: a network begins training from the latest blessed model's weights.

The pipeline hands the Trainer the latest blessed model as TFX's `base_model` (through the same
resolver the Evaluator's baseline comes from). Its combined SavedModel holds both networks under
`model/network_a` and `model/network_b` of its object graph, so a partial checkpoint read of that
path restores exactly the chosen network's layers; everything else (the other network, the
normalization statistics, the calibration) starts fresh.
"""

from __future__ import annotations

import os
from typing import Optional, Tuple

import tensorflow as tf
from absl import logging as log

from modules import names
from modules.hparams import WARM_START


class WarmStartError(ValueError):
    """No base model, or one whose network does not fit this run's network (one-line message)."""


def networks_of(choice: str) -> Tuple[str, ...]:
    """`a` -> (network_a,), `both` -> both networks, `` -> none."""
    if choice not in WARM_START:
        raise ValueError(f"warm_start must be one of a, b, both; got {choice!r}")
    return {"": (), "a": (names.NETWORK_A,), "b": (names.NETWORK_B,), "both": names.NETWORKS}[
        choice
    ]


def restore(model, choice: str, base_model: Optional[str]) -> None:
    """Sets the chosen networks of `model` (built, variables created) to `base_model`'s weights.
    `base_model` is the blessed model's serving folder (TFX's fn_args.base_model)."""
    chosen = networks_of(choice)
    if not chosen:
        return
    if not base_model:
        raise WarmStartError(
            f"warm start of {', '.join(chosen)}: there is no blessed model yet to start from; "
            "run once without --warm-start"
        )
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
        log.info("warm start: %s initialized from the blessed model %s", network, base_model)
