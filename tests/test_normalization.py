"""Every normalization against its NumPy reference, on ordinary and extreme inputs."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from modules import modes
from modules import normalization as norm
from tests import reference

EPS = 1e-6
RTOL = 1e-6


def extreme_batch(seed: int = 0, width: int = 10) -> np.ndarray:
    """Random rows plus the hard ones: constant, all-zero, near 1e30, near 1e-30, mixed scales."""
    rng = np.random.default_rng(seed)
    rows = [
        rng.normal(size=width),
        np.full(width, 3.25),
        np.zeros(width),
        1e30 * (1 + 0.1 * rng.normal(size=width)),
        -1e30 * rng.uniform(0.5, 1.5, size=width),
        1e-30 * rng.normal(size=width),
        np.full(width, 1e30),
        np.concatenate([[1e30], 1e-30 * rng.normal(size=width - 1)]),
        rng.normal(size=width) * 1e-4,
    ]
    return np.stack(rows)


def assert_close(actual, expected):
    np.testing.assert_allclose(np.asarray(actual, np.float64), expected, rtol=RTOL, atol=1e-300)


@pytest.mark.parametrize(
    "layer_cls, ref",
    [
        (norm.RangeNormalization, reference.range_reference),
        (norm.Standardization, reference.standardize_reference),
    ],
)
def test_per_example_modes_match_numpy(layer_cls, ref):
    x = extreme_batch()
    layer = layer_cls(epsilon=EPS, dtype="float64")
    assert_close(layer(tf.constant(x)), ref(x, EPS))
    assert_close(layer(tf.constant(x[:1])), ref(x[:1], EPS))  # batch size 1


def test_shared_mode_matches_numpy_and_statistics_are_over_both_networks():
    a, b = extreme_batch(1), extreme_batch(2)
    layer = norm.SharedStandardization(epsilon=EPS, dtype="float64")
    out_a, out_b = layer([tf.constant(a), tf.constant(b)])
    ref_a, ref_b = reference.shared_reference(a, b, EPS)
    assert_close(out_a, ref_a)
    assert_close(out_b, ref_b)
    mean, var = layer.statistics(tf.constant(a), tf.constant(b))
    ref_mean, ref_var = reference.moments_reference(np.concatenate([a, b], axis=-1))
    assert_close(mean[:, 0], ref_mean)
    assert_close(var[:, 0], ref_var)


def test_population_training_uses_batch_statistics_and_inference_uses_moving_ones():
    rng = np.random.default_rng(3)
    x = rng.normal(5.0, 2.0, size=(64, 4))
    layer = norm.PopulationNormalization(momentum=0.5, epsilon=EPS, dtype="float64")
    trained = layer(tf.constant(x), training=True)
    assert_close(trained, reference.standardize_reference(x, EPS, axis=0))
    expected_mean = 0.5 * 0.0 + 0.5 * x.mean(axis=0)
    expected_var = 0.5 * 1.0 + 0.5 * x.var(axis=0)
    assert_close(layer.moving_mean.numpy(), expected_mean)
    assert_close(layer.moving_variance.numpy(), expected_var)
    served = layer(tf.constant(x), training=False)
    assert_close(served, reference.population_reference(x, expected_mean, expected_var, EPS))


def test_population_moving_statistics_converge_to_the_data():
    rng = np.random.default_rng(4)
    mean, std = np.array([3.0, -1.0, 0.0]), np.array([0.5, 2.0, 10.0])
    layer = norm.PopulationNormalization(momentum=0.9, epsilon=EPS)
    for _ in range(300):
        layer(tf.constant(rng.normal(mean, std, size=(256, 3)), tf.float32), training=True)
    assert np.all(np.abs(layer.moving_mean.numpy() - mean) <= 0.1 * std), layer.moving_mean.numpy()
    np.testing.assert_allclose(layer.moving_variance.numpy(), std**2, rtol=0.1)


def test_population_inference_does_not_depend_on_the_rest_of_the_batch():
    rng = np.random.default_rng(5)
    layer = norm.PopulationNormalization()
    layer(tf.constant(rng.normal(size=(32, 3)), tf.float32), training=True)
    batch = tf.constant(rng.normal(size=(64, 3)), tf.float32)
    alone = layer(batch[7:8], training=False)
    inside = layer(batch, training=False)[7:8]
    np.testing.assert_array_equal(alone.numpy(), inside.numpy())


def test_shared_population_statistics_pool_both_networks():
    rng = np.random.default_rng(6)
    a, b = rng.normal(0, 1, size=(32, 3)), rng.normal(4, 3, size=(32, 3))
    layer = norm.PopulationNormalization(momentum=0.5, epsilon=EPS, dtype="float64")
    out_a, out_b = layer([tf.constant(a), tf.constant(b)], training=True)
    joint = np.concatenate([a, b], axis=0)
    ref = reference.standardize_reference(joint, EPS, axis=0)
    assert_close(out_a, ref[:32])
    assert_close(out_b, ref[32:])
    assert_close(layer.moving_mean.numpy(), 0.5 * joint.mean(axis=0))


@pytest.mark.parametrize("mode", ["range", "standardize", "shared", "population"])
@pytest.mark.parametrize("dtype", [tf.float32, tf.float64])
def test_every_mode_is_finite_on_extreme_inputs_with_finite_gradients(mode, dtype):
    layer, pair = norm.build_normalization(mode, EPS), modes.takes_pair(mode)
    x = tf.constant(np.concatenate([extreme_batch(7), [[np.finfo(np.float32).max] * 10]]), dtype)
    y = tf.constant(extreme_batch(8)[: x.shape[0] - 1].tolist() + [[-1e38] * 10], dtype)
    for training in (True, False):
        with tf.GradientTape() as tape:
            tape.watch([x, y])
            outputs = (
                layer([x, y], training=training)
                if pair
                else (layer(x, training=training), layer(y, training=training))
            )
            total = tf.add_n([tf.reduce_sum(tf.square(o)) for o in outputs])
        for out in outputs:
            assert np.isfinite(out.numpy()).all(), f"{mode}: non-finite output"
        for grad in tape.gradient(total, [x, y]):
            assert np.isfinite(grad.numpy()).all(), f"{mode}: non-finite gradient"


def test_range_output_is_in_unit_interval():
    out = norm.RangeNormalization()(tf.constant(extreme_batch(9), tf.float32)).numpy()
    assert out.min() >= 0.0 and out.max() <= 1.0


@pytest.mark.parametrize("mode", ["range", "standardize", "shared", "population"])
def test_layers_round_trip_through_config_and_saved_model(mode, tmp_path):
    layer, pair = norm.build_normalization(mode, 1e-5, momentum=0.8), modes.takes_pair(mode)
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()

    width = 4
    a_in, b_in = keras.Input((width,)), keras.Input((width,))
    outs = layer([a_in, b_in]) if pair else [layer(a_in), layer(b_in)]
    model = keras.Model([a_in, b_in], list(outs))
    rng = np.random.default_rng(10)
    a, b = (rng.normal(size=(8, width)).astype(np.float32) for _ in range(2))
    if mode == "population":  # give the moving statistics non-default values
        model([a * 3 + 1, b], training=True)
    before = model([a, b], training=False)
    model.save(tmp_path / "model")
    loaded = keras.models.load_model(tmp_path / "model")
    after = loaded([a, b], training=False)
    for x, y in zip(before, after, strict=False):
        np.testing.assert_array_equal(x.numpy(), y.numpy())


@pytest.mark.parametrize("magnitude", [1e19, 3e38])
def test_population_stays_finite_on_a_huge_column_constant_over_the_batch(magnitude):
    """m^2 * var overflowed to inf * 0 = NaN in the moving variance, so the served model gave NaN."""
    layer = norm.PopulationNormalization(momentum=0.5)
    x = tf.constant(np.stack([np.full(8, magnitude), np.linspace(-1, 1, 8)], axis=1), tf.float32)
    for _ in range(3):
        trained = layer(x, training=True)
    assert np.isfinite(trained.numpy()).all()
    assert (
        np.isfinite(layer.moving_variance.numpy()).all()
        and np.isfinite(layer.moving_mean.numpy()).all()
    )
    assert np.isfinite(layer(x, training=False).numpy()).all()
    mean, variance = norm.moments(x, axis=0)
    np.testing.assert_array_equal(variance.numpy()[0, 0], 0.0)
    np.testing.assert_allclose(mean.numpy()[0, 0], magnitude, rtol=1e-6)
