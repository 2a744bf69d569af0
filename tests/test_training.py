"""The joint loop: the article's setting in every mode, one gradient call, seeds and resumption."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from modules import names
from modules.hparams import NetworkSpec, TrainerConfig
from modules.job import seed_everything
from modules.layout import FeatureLayout
from modules.losses import NonFiniteLossError
from modules.networks import TwinModel
from modules.training import JointTrainer

MODES = ("range", "standardize", "shared", "population")
ARTICLE_LAYOUT = FeatureLayout(
    numeric=("x",), categorical={}, n_outputs=10, numeric_widths={"x": (100,)}
)


def article_config(mode: str, **changes) -> TrainerConfig:
    """The article's setting: MSE against 10 regression targets, full batch of 100 examples."""
    base = TrainerConfig(
        network_a=NetworkSpec(hidden_units=(128, 64), learning_rate=1e-3),
        network_b=NetworkSpec(hidden_units=(128, 64), learning_rate=1e-3),
        normalization=mode,
        loss="mse",
        task="regression",
        batch_size=100,
        train_steps=60,
        log_every=20,
        checkpoint_every=20,
        seed=7,
    )
    return dataclasses.replace(base, **changes)


def article_data(seed: int = 0) -> tf.data.Dataset:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(100, 100)).astype(np.float32)
    y = rng.normal(size=(100, 10)).astype(np.float32)
    return tf.data.Dataset.from_tensor_slices(({"x": x}, y)).batch(100).repeat()


def make_trainer(config: TrainerConfig, layout: FeatureLayout = ARTICLE_LAYOUT) -> JointTrainer:
    seed_everything(config.seed)
    return JointTrainer(TwinModel(layout, config), config)


def mean_eval_loss(trainer: JointTrainer) -> dict:
    result = trainer.evaluate(article_data().take(1), 1)
    return {n: result[f"{n}_loss"] for n in names.NETWORKS}


@pytest.mark.parametrize("mode", MODES)
def test_article_setting_trains_in_every_mode_and_lowers_both_losses(mode):
    trainer = make_trainer(article_config(mode))
    before = mean_eval_loss(trainer)
    trainer.fit(article_data(), None)
    after = mean_eval_loss(trainer)
    for network in names.NETWORKS:
        assert np.isfinite(after[network])
        assert after[network] < 0.9 * before[network], (mode, network, before, after)


def test_one_gradient_call_per_step(monkeypatch):
    calls = []
    original = tf.GradientTape.gradient

    def counting(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(tf.GradientTape, "gradient", counting)
    trainer = make_trainer(article_config("shared", train_steps=3))
    trainer.fit(article_data(), None)
    assert len(calls) == 1  # traced once, one tape.gradient for both networks


@pytest.mark.parametrize("mode, couples", [("shared", True), ("range", False)])
def test_shared_mode_couples_the_networks_gradients(mode, couples):
    """In `shared` mode network B's loss reaches network A's weights; per-example modes do not."""
    config = article_config(mode)
    trainer = make_trainer(config)
    features, labels = next(iter(article_data()))
    with tf.GradientTape() as tape:
        outputs = trainer.model(features, training=True)
        loss_b = tf.reduce_mean(tf.square(outputs["network_b_scores"] - labels[:, tf.newaxis]))
    grads = tape.gradient(loss_b, trainer.model.network_a.trainable_variables)
    total = sum(float(tf.reduce_sum(tf.abs(g))) for g in grads if g is not None)
    assert (total > 0) == couples


def test_many_steps_per_call_equal_one_call_per_step():
    """fit() runs log_every steps per tf.function call; that must change nothing but speed.
    (`range` mode: bit-identical here. In `population` mode the raw layer's bias has an analytically
    zero gradient, so Adam amplifies rounding noise there and only the other weights agree.)"""
    config = article_config("range", train_steps=7)

    def data():  # one pipeline per loop: two iterators of one seeded shuffle differ
        return article_data().unbatch().shuffle(100, seed=3).batch(25).repeat()

    chunked, single = make_trainer(config), make_trainer(config)
    chunked.train_steps(iter(data()), tf.constant(7, tf.int64))
    iterator = iter(data())
    for _ in range(7):
        single.train_step(next(iterator))
    assert int(chunked.step) == int(single.step) == 7
    for a, b in zip(chunked.model.weights, single.model.weights, strict=False):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_fit_returns_to_python_at_every_log_and_checkpoint_step(monkeypatch):
    config = article_config("range", train_steps=23, log_every=10, checkpoint_every=4)
    trainer = make_trainer(config)
    chunks = []
    original = JointTrainer.train_steps

    def recording(self, iterator, steps):
        chunks.append(int(steps))
        return original(self, iterator, steps)

    monkeypatch.setattr(JointTrainer, "train_steps", recording)
    trainer.fit(article_data(), None)
    assert chunks == [4, 4, 2, 2, 4, 4, 3]  # stops at 4 8 10 12 16 20 23
    assert int(trainer.step) == 23


def test_same_seed_gives_identical_weights():
    weights = []
    for _ in range(2):
        trainer = make_trainer(article_config("population", train_steps=15))
        trainer.fit(article_data(), None)
        weights.append([w.numpy() for w in trainer.model.weights])
    for first, second in zip(*weights, strict=False):
        np.testing.assert_array_equal(first, second)


def test_interrupted_training_resumes_from_checkpoint_to_the_same_weights(tmp_path):
    config = article_config("range", train_steps=40, checkpoint_every=10)

    def data():  # a new pipeline each time, as a restarted Trainer process builds one
        return article_data().unbatch().shuffle(100, seed=1).batch(25)

    straight = make_trainer(dataclasses.replace(config, batch_size=25))
    straight.fit(data(), None)

    run_dir = str(tmp_path / "run")
    first = make_trainer(dataclasses.replace(config, batch_size=25, train_steps=20))
    first.fit(data(), None, run_dir)
    resumed = make_trainer(dataclasses.replace(config, batch_size=25))
    resumed.fit(data(), None, run_dir)
    assert int(resumed.step) == 40
    for a, b in zip(straight.model.weights, resumed.model.weights, strict=False):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)


def test_diverging_training_fails_instead_of_exporting():
    wild = NetworkSpec(hidden_units=(128, 64), learning_rate=1e30)
    trainer = make_trainer(
        article_config("population", network_a=wild, network_b=wild, train_steps=40, log_every=5)
    )
    with pytest.raises(NonFiniteLossError, match="refusing to export"):
        trainer.fit(article_data(), None)


def test_classification_with_cross_entropy_reaches_high_accuracy_on_separable_data():
    rng = np.random.default_rng(3)
    centers = rng.normal(scale=4.0, size=(3, 5))
    ids = rng.integers(0, 3, size=300)
    x = (centers[ids] + rng.normal(size=(300, 5))).astype(np.float32)
    data = (
        tf.data.Dataset.from_tensor_slices(({"x": x}, ids)).shuffle(300, seed=0).batch(32).repeat()
    )
    layout = FeatureLayout(numeric=("x",), categorical={}, n_outputs=3, numeric_widths={"x": (5,)})
    config = TrainerConfig(
        normalization="shared", loss="cross_entropy", train_steps=200, log_every=50
    )
    trainer = make_trainer(config, layout)
    trainer.fit(data, None)
    result = trainer.evaluate(tf.data.Dataset.from_tensor_slices(({"x": x}, ids)).batch(100), 3)
    assert result["network_a_accuracy"] > 0.95 and result["network_b_accuracy"] > 0.95, result


@pytest.mark.parametrize("shared", [False, True])
def test_population_statistics_are_per_network_unless_shared(shared):
    config = article_config("population", population_shared=shared)
    trainer = make_trainer(config)
    features, labels = next(iter(article_data()))
    trainer.train_step((features, labels))
    layers = [
        layer
        for layer in trainer.model.submodules
        if layer.__class__.__name__ == "PopulationNormalization"
    ]
    assert len(layers) == (1 if shared else 2)
    if not shared:
        means = [layer.moving_mean.numpy() for layer in layers]
        assert not np.allclose(means[0], means[1])  # each network's own outputs


def test_evaluate_counts_every_row_once_and_stops_at_steps():
    """The in-graph evaluation loop against the mean of the model's per-example losses: a short
    last batch counts, a dataset shorter than `steps` ends the loop, `steps` caps it."""
    rng = np.random.default_rng(4)
    ids = rng.integers(0, 3, size=250)
    x = rng.normal(size=(250, 5)).astype(np.float32)
    layout = FeatureLayout(numeric=("x",), categorical={}, n_outputs=3, numeric_widths={"x": (5,)})
    trainer = make_trainer(TrainerConfig(loss="cross_entropy"), layout)
    outputs = trainer.model({"x": x}, training=False)
    losses = trainer._losses(outputs, tf.constant(ids))
    dataset = tf.data.Dataset.from_tensor_slices(({"x": x}, ids)).batch(100)  # 100, 100, 50
    for steps, rows in ((0, 250), (7, 250), (2, 200), (1, 100)):
        result = trainer.evaluate(dataset, steps)
        for n in names.NETWORKS:
            expected = float(np.mean(losses[n].numpy()[:rows]))
            assert result[f"{n}_loss"] == pytest.approx(expected, rel=1e-5), (steps, n)
