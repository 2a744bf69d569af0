"""TensorBoard summaries: each network's scalars in their run's folder, and the raw and normalized
output histograms of a real twin model on the tiny Transform output."""

import glob
import os

import tensorflow as tf
import tensorflow_transform as tft
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from modules import names
from modules.data import in_order_dataset
from modules.hparams import TrainerConfig
from modules.tensorboard_logs import Scalars, write_output_histograms


def events(folder: str) -> EventAccumulator:
    accumulator = EventAccumulator(folder, size_guidance={"tensors": 0})
    accumulator.Reload()
    return accumulator


def test_scalars_go_to_their_runs_folder_per_network_and_nowhere_without_a_run_dir(tmp_path):
    scalars = Scalars(str(tmp_path))
    result = {f"{n}_loss": 0.5 + i for i, n in enumerate(names.NETWORKS)}
    scalars.write("validation", 7, {**result, "ignored": 9.0})
    written = events(str(tmp_path / "validation"))
    tags = set(written.Tags()["tensors"])
    assert tags == {names.scalar_tag("loss", n) for n in names.NETWORKS}
    for i, n in enumerate(names.NETWORKS):
        (event,) = written.Tensors(names.scalar_tag("loss", n))
        assert event.step == 7 and tf.make_ndarray(event.tensor_proto) == 0.5 + i
    Scalars(None).write("train", 1, result)
    assert not os.path.exists(tmp_path / "train")


def test_output_histograms_hold_every_validation_row_raw_and_normalized(tiny_penguins, tmp_path):
    trainer = tiny_penguins.twin(TrainerConfig(normalization="range"))
    dataset = in_order_dataset(
        tiny_penguins.files("validation"),
        tft.TFTransformOutput(tiny_penguins.transform_graph),
        tiny_penguins.config.label,
        16,
    )
    write_output_histograms(trainer.model, dataset, str(tmp_path), 3)
    assert glob.glob(str(tmp_path / names.EXPORTED_RUN / "events.*"))
    written = events(str(tmp_path / names.EXPORTED_RUN))
    rows = len(tiny_penguins.splits["validation"])
    for n in names.NETWORKS:
        for tag in ("outputs_raw", "outputs_normalized"):
            (event,) = written.Tensors(names.scalar_tag(tag, n))
            buckets = tf.make_ndarray(event.tensor_proto)
            assert event.step == 3 and buckets[:, 2].sum() == rows * trainer.model.layout.n_outputs
