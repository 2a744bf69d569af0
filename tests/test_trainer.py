"""run_fn's pieces on the embedded penguins: Transform's real output read through tfxio."""
import dataclasses

import numpy as np
import pytest
import tensorflow_transform as tft
from tfx.components.trainer.fn_args_utils import DataAccessor
from tfx.components.util import tfxio_utils
from tfx.types import standard_artifacts

from modules import names
from modules.data import tf_example_dataset_factory, transformed_dataset
from modules.hparams import TrainerConfig
from modules.networks import TwinModel
from modules.trainer import feature_layout, seed_everything
from modules.training import JointTrainer
from pipeline.config import PipelineConfig

pytestmark = pytest.mark.slow


def short_run(penguin_run, steps: int):
    """Trains `steps` joint steps from the pipeline's Transform output; returns (before, after, weights)."""
    config = PipelineConfig().resolved()
    examples = standard_artifacts.Examples()
    examples.uri = penguin_run.artifact_dir("Transform", "transformed_examples")
    examples.split_names = '["train", "eval"]'
    accessor = DataAccessor(tf_dataset_factory=tfxio_utils.get_tf_dataset_factory_from_artifact([examples], []),
                            record_batch_factory=None, data_view_decode_fn=None)
    output = tft.TFTransformOutput(penguin_run.artifact_dir("Transform", "transform_graph"))
    trainer_config = dataclasses.replace(TrainerConfig(), train_steps=steps, log_every=steps)

    def dataset(split, training):
        return transformed_dataset([f"{examples.uri}/Split-{split}/*"], accessor.tf_dataset_factory, output,
                                   config.label, trainer_config.batch_size, trainer_config.seed, 1024, training)

    seed_everything(trainer_config.seed)
    trainer = JointTrainer(TwinModel(feature_layout(output, config.features, config.label, "classification"),
                                     trainer_config), trainer_config)
    before = trainer.evaluate(dataset("eval", False), 20)
    trainer.fit(dataset("train", True), None)
    after = trainer.evaluate(dataset("eval", False), 20)
    return before, after, [w.numpy() for w in trainer.model.weights]


def test_a_short_run_on_the_penguins_lowers_each_loss_and_is_reproducible(penguin_run):
    before, after, weights = short_run(penguin_run, 60)
    for network in names.NETWORKS:
        assert after[f"{network}_loss"] < 0.5 * before[f"{network}_loss"], (before, after)
        assert after[f"{network}_accuracy"] >= 0.9, after
    _, _, again = short_run(penguin_run, 60)
    for first, second in zip(weights, again):
        np.testing.assert_array_equal(first, second)


def test_the_worker_side_reader_gives_the_batches_tfx_data_accessor_gives(penguin_run):
    """Multi-worker processes have no DataAccessor; their reader must see the same data."""
    examples = standard_artifacts.Examples()
    examples.uri = penguin_run.artifact_dir("Transform", "transformed_examples")
    examples.split_names = '["train", "eval"]'
    tfx_factory = tfxio_utils.get_tf_dataset_factory_from_artifact([examples], [])
    output = tft.TFTransformOutput(penguin_run.artifact_dir("Transform", "transform_graph"))
    files = [f"{examples.uri}/Split-eval/*"]
    batches = [list(transformed_dataset(files, factory, output, "species", 16, 1, 64, False))
               for factory in (tfx_factory, tf_example_dataset_factory)]
    assert len(batches[0]) == len(batches[1]) > 1
    for (features_a, label_a), (features_b, label_b) in zip(*batches):
        np.testing.assert_array_equal(label_a.numpy(), label_b.numpy())
        assert set(features_a) == set(features_b)
        for key in features_a:
            np.testing.assert_array_equal(features_a[key].numpy(), features_b[key].numpy(), err_msg=key)
