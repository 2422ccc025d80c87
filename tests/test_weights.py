"""Initial weights from the seed: Keras's distributions, drawn in NumPy, the same on every backend."""

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import bilstm_classify
import compare_directions
import lstm_baseline
from suite import training, weights

pytestmark = pytest.mark.backend
REPOSITORY = Path(__file__).resolve().parent.parent
UNITS = 20


def _expected(seed, spec):
    """The draws a seed must give, from the layer shapes written out by hand and NumPy's own
    primitives: no Keras and nothing from suite.weights, so equality on every backend means the
    same numbers on every backend.

    As the module promises: stream 3 of the seed; one draw per weight in the model's order;
    glorot_uniform is U(-limit, limit) with limit = sqrt(6 / (fan_in + fan_out)); orthogonal is
    Keras's recipe, the QR decomposition of a (4 units, units) standard normal matrix, Q's columns
    multiplied by the signs of R's diagonal, transposed to (units, 4 units); biases draw nothing.
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(4)[3])
    values = []
    for kind, shape in spec:
        if kind == "glorot":
            fan_in, fan_out = shape
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            values.append(rng.uniform(-limit, limit, size=shape))
        elif kind == "orthogonal":
            units, columns = shape
            q, r = np.linalg.qr(rng.standard_normal((columns, units)))
            values.append((q * np.sign(np.diag(r))).T)
        elif kind == "lstm_bias":
            values.append(np.where(np.arange(4 * UNITS) // UNITS == 1, 1.0, 0.0))
        else:
            values.append(np.zeros(shape))
    return [value.astype(np.float32) for value in values]


LSTM_SPEC = [("glorot", (1, 4 * UNITS)), ("orthogonal", (UNITS, 4 * UNITS)),
             ("lstm_bias", (4 * UNITS,))]
SPECS = {
    "lstm_forw": (lambda: lstm_baseline.build_model(10, UNITS),
                  LSTM_SPEC + [("glorot", (UNITS, 1)), ("zeros", (1,))]),
    "lstm_back_aligned": (lambda: compare_directions.build_backward_aligned(10, UNITS),
                          LSTM_SPEC + [("glorot", (UNITS, 1)), ("zeros", (1,))]),
    "bilstm_con": (lambda: bilstm_classify.build_model(10, UNITS),
                   LSTM_SPEC * 2 + [("glorot", (2 * UNITS, 1)), ("zeros", (1,))]),
    "bilstm_sum": (lambda: bilstm_classify.build_model(10, UNITS, "sum"),
                   LSTM_SPEC * 2 + [("glorot", (UNITS, 1)), ("zeros", (1,))]),
}


@pytest.mark.parametrize("name", list(SPECS))
def test_the_seed_alone_fixes_the_initial_weights(name):
    build, spec = SPECS[name]
    for seed in (0, 7):
        model = training.build_seeded(build, seed)
        loaded = [keras.ops.convert_to_numpy(w) for w in model.get_weights()]
        for got, want in zip(loaded, _expected(seed, spec), strict=True):
            np.testing.assert_array_equal(got, want)


def test_the_draws_have_the_properties_of_keras_initializers():
    model = bilstm_classify.build_model(10, UNITS)
    kernel, recurrent, bias, *_, dense_kernel, dense_bias = weights.initial_weights(model, 3)
    # glorot_uniform: inside +-sqrt(6 / (fan_in + fan_out)), and filling that range.
    limit = np.sqrt(6 / (1 + 4 * UNITS))
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.9 * limit
    dense_limit = np.sqrt(6 / (2 * UNITS + 1))
    assert np.abs(dense_kernel).max() <= dense_limit
    # orthogonal: the rows of the (units, 4 units) recurrent kernel are orthonormal, as Keras's
    # Orthogonal initializer makes them.
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(UNITS), atol=1e-5)
    keras_recurrent = keras.ops.convert_to_numpy(
        keras.initializers.Orthogonal(seed=0)((UNITS, 4 * UNITS)))
    np.testing.assert_allclose(keras_recurrent @ keras_recurrent.T, np.eye(UNITS), atol=1e-5)
    # unit_forget_bias: the forget gate (the second quarter) starts at one, the rest at zero.
    np.testing.assert_array_equal(bias[UNITS : 2 * UNITS], 1.0)
    assert not bias[:UNITS].any() and not bias[2 * UNITS :].any()
    assert not dense_bias.any()


def test_the_draws_have_keras_distributions_over_a_large_layer():
    """Facts of the distributions that hold whatever the draw order: on an LSTM of 200 units,
    kernels inside the hand-computed Glorot limit with the variance of U(-limit, limit),
    limit^2 / 3; the recurrent kernel's rows orthonormal; and its 4 x 200 x 200 gate blocks not
    each orthogonal, as Keras's Orthogonal, which draws the whole (units, 4 units) matrix at
    once, makes them."""
    units = 200
    model = lstm_baseline.build_model(10, units)
    kernel, recurrent, bias, dense_kernel, dense_bias = weights.initial_weights(model, 9)
    limit = np.sqrt(6 / (1 + 4 * units))
    # Compared in float32, the weights' type: rounding keeps a value inside the rounded limit.
    assert kernel.shape == (1, 4 * units) and np.abs(kernel).max() <= np.float32(limit)
    # 800 uniform values: one standard error of the sample variance is 3% of limit^2 / 3.
    assert kernel.var() == pytest.approx(limit**2 / 3, rel=0.12)
    assert abs(kernel.mean()) < 0.1 * limit
    dense_limit = np.sqrt(6 / (units + 1))
    assert np.abs(dense_kernel).max() <= np.float32(dense_limit)
    assert dense_kernel.var() == pytest.approx(dense_limit**2 / 3, rel=0.3)  # 200 values
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(units), atol=1e-4)
    for gate in range(4):
        block = recurrent[:, gate * units : (gate + 1) * units]
        assert not np.allclose(block @ block.T, np.eye(units), atol=0.1)
    np.testing.assert_array_equal(bias, np.repeat([0.0, 1.0, 0.0, 0.0], units))
    assert not dense_bias.any()


def test_seeds_draw_independent_weights_and_the_same_seed_the_same():
    model = bilstm_classify.build_model(10, UNITS)
    first, again, other = (weights.initial_weights(model, s) for s in (5, 5, 6))
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])
    # The backward LSTM is not a copy of the forward one.
    assert not np.array_equal(first[0], first[3])


def test_an_initializer_without_a_numpy_draw_is_refused():
    from keras import layers

    model = keras.Sequential([keras.Input(shape=(10, 1)),
                              layers.LSTM(3, kernel_initializer="he_normal")])
    with pytest.raises(ValueError, match="HeNormal"):
        weights.initial_weights(model, 0)


def test_the_compilation_cache_is_kept_used_and_can_be_turned_off(tmp_path):
    """A second process loads what the first compiled; BILSTM_CACHE=off keeps nothing."""
    if keras.backend.backend() != "jax":
        pytest.skip("the persistent compilation cache is JAX's")
    program = (
        "import json, jax.monitoring\n"
        "from suite import training, experiment\n"
        "import lstm_baseline\n"
        "events = []\n"
        "jax.monitoring.register_event_listener(lambda name, **kw: events.append(name))\n"
        "data = experiment.draw_repeats([0, 1], 20, 5, 10)\n"
        "training.run_repeats(lambda: lstm_baseline.build_model(10, 3), [0, 1], *data[:3])\n"
        "print(json.dumps({'hits': events.count('/jax/compilation_cache/cache_hits'),\n"
        "                  'misses': events.count('/jax/compilation_cache/cache_misses')}))\n"
    )

    def run(cache):
        env = {**os.environ, "KERAS_BACKEND": "jax", "BILSTM_CACHE": str(cache),
               "PYTHONPATH": str(REPOSITORY)}
        completed = subprocess.run([sys.executable, "-c", program], capture_output=True,
                                   text=True, env=env, cwd=tmp_path)
        assert completed.returncode == 0, completed.stderr
        return json.loads(completed.stdout.strip().splitlines()[-1])

    cold = run(tmp_path / "cache")
    assert cold["misses"] > 0 and cold["hits"] == 0
    assert list((tmp_path / "cache" / "jax").iterdir())
    warm = run(tmp_path / "cache")
    assert warm["hits"] >= cold["misses"] and warm["misses"] == 0
    off = run("off")
    assert off["hits"] == 0 and off["misses"] == 0
    assert not (tmp_path / "off").exists()
