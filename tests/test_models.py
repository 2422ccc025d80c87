"""The models: parameter counts, shapes, and what go_backwards really returns."""

import keras
import numpy as np
import pytest

import bilstm_classify
import compare_directions
import compare_merge_modes
import lstm_baseline

pytestmark = pytest.mark.backend


@pytest.mark.parametrize(
    "build, params",
    [
        (lambda: lstm_baseline.build_model(), 1781),
        (lambda: lstm_baseline.build_model(go_backwards=True), 1781),
        (lambda: compare_directions.build_backward_aligned(), 1781),
        (lambda: bilstm_classify.build_model(merge_mode="concat"), 3561),
        (lambda: bilstm_classify.build_model(merge_mode="sum"), 3541),
        (lambda: bilstm_classify.build_model(merge_mode="mul"), 3541),
        (lambda: bilstm_classify.build_model(merge_mode="ave"), 3541),
        (lambda: bilstm_classify.build_model(units=50), 20901),  # the book's model summary
    ],
)
def test_parameter_counts_and_output_shape(build, params):
    model = build()
    assert model.count_params() == params
    X = np.random.default_rng(0).random((3, 10, 1)).astype("float32")
    assert tuple(model.predict(X, verbose=0).shape) == (3, 10, 1)


def test_every_merge_mode_has_the_tutorial_name():
    models = compare_merge_modes.get_models(10, 2, ["sum", "mul", "ave", "concat"])
    assert list(models) == ["bilstm_sum", "bilstm_mul", "bilstm_ave", "bilstm_con"]


def _lstm_outputs(model, X):
    lstm = model.layers[0]
    return keras.ops.convert_to_numpy(keras.Model(model.inputs[0], lstm.output)(X))


def test_go_backwards_returns_outputs_in_reversed_time_order():
    keras.utils.set_random_seed(0)
    forward = lstm_baseline.build_model(go_backwards=False)
    backward = lstm_baseline.build_model(go_backwards=True)
    backward.set_weights(forward.get_weights())
    X = np.random.default_rng(1).random((4, 10, 1)).astype("float32")
    # The backward LSTM is the forward LSTM run on the reversed input, outputs left in that order.
    np.testing.assert_allclose(_lstm_outputs(backward, X), _lstm_outputs(forward, X[:, ::-1]),
                               atol=1e-5)
    # So its first output has read the whole sequence, unlike the forward LSTM's first output.
    assert not np.allclose(_lstm_outputs(backward, X)[:, 0], _lstm_outputs(forward, X)[:, 0],
                           atol=1e-3)


def test_aligned_backward_lstm_puts_outputs_back_in_time_order():
    keras.utils.set_random_seed(0)
    forward = lstm_baseline.build_model()
    aligned = compare_directions.build_backward_aligned()
    backward = lstm_baseline.build_model(go_backwards=True)
    aligned.set_weights(forward.get_weights())
    backward.set_weights(forward.get_weights())
    X = np.random.default_rng(2).random((4, 10, 1)).astype("float32")
    aligned_out = np.asarray(aligned.predict(X, verbose=0))
    backward_out = np.asarray(backward.predict(X, verbose=0))
    np.testing.assert_allclose(aligned_out, backward_out[:, ::-1], atol=1e-6)
    # Step t of the aligned model is the forward model run on x[T-1], ..., x[t]: it has read
    # exactly the values from t to the end of the sequence.
    lstm_on_reversed = _lstm_outputs(forward, X[:, ::-1])[:, ::-1]
    dense = forward.layers[-1]
    np.testing.assert_allclose(aligned_out, keras.ops.convert_to_numpy(dense(lstm_on_reversed)),
                               atol=1e-5)


def test_the_tutorials_loop_runs_on_the_reshaped_sequence():
    """The tutorial's complete listing, copied: fit one epoch on each fresh reshaped sequence."""
    from cumsum_data import get_reshaped_sequence

    model = lstm_baseline.build_model(units=2)
    for epoch in range(3):
        X, y = get_reshaped_sequence(10, rng=epoch)
        history = model.fit(X, y, epochs=1, batch_size=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    yhat = (model.predict(X, verbose=0) > 0.5).astype(int)
    assert yhat.shape == y.shape


# One label per step (the tutorial's) or one per sequence: the shapes at every layer, as the
# table in docs/tutorial.md gives them for 10 timesteps and 20 units.
SHAPES = {
    ("per step", "LSTM"): [(None, 10, 1), (None, 10, 20), (None, 10, 1)],
    ("per step", "BiLSTM"): [(None, 10, 1), (None, 10, 40), (None, 10, 1)],
    ("per sequence", "LSTM"): [(None, 10, 1), (None, 20), (None, 1)],
    ("per sequence", "BiLSTM"): [(None, 10, 1), (None, 40), (None, 1)],
}


def _labelled(per_step, bidirectional, n_timesteps=10, units=20):
    from keras import layers

    lstm = layers.LSTM(units, return_sequences=per_step)
    reader = layers.Bidirectional(lstm) if bidirectional else lstm
    # Per step: the same Dense at every step (TimeDistributed); per sequence: one Dense on the
    # LSTM's last output (for the BiLSTM, the forward half's last step and the backward half's
    # first, concatenated).
    head = layers.Dense(1, activation="sigmoid")
    return keras.Sequential([keras.Input(shape=(n_timesteps, 1)), reader,
                             layers.TimeDistributed(head) if per_step else head])


@pytest.mark.parametrize("labels, model", list(SHAPES))
def test_the_shapes_of_one_label_per_step_and_one_per_sequence(labels, model):
    built = _labelled(labels == "per step", model == "BiLSTM")
    shapes = [tuple(built.inputs[0].shape)] + [tuple(layer.output.shape) for layer in built.layers]
    assert shapes == SHAPES[labels, model]


def test_a_dense_on_every_step_equals_time_distributed_dense():
    """Keras 3's Dense on a (batch, steps, features) tensor acts on the last axis, step by step:
    the same numbers as TimeDistributed(Dense) with the same weights, and the same parameters."""
    from keras import layers

    X = np.random.default_rng(1).standard_normal((4, 10, 20)).astype("float32")
    dense = layers.Dense(1, activation="sigmoid")
    plain = keras.Sequential([keras.Input(shape=(10, 20)), dense])
    wrapped = keras.Sequential([keras.Input(shape=(10, 20)),
                                layers.TimeDistributed(layers.Dense(1, activation="sigmoid"))])
    wrapped.set_weights(plain.get_weights())
    assert plain.count_params() == wrapped.count_params() == 21
    by_hand = 1 / (1 + np.exp(-(X @ plain.get_weights()[0] + plain.get_weights()[1])))
    np.testing.assert_allclose(plain.predict(X, verbose=0), wrapped.predict(X, verbose=0),
                               atol=1e-6)
    np.testing.assert_allclose(plain.predict(X, verbose=0), by_hand, atol=1e-6)


def test_a_bilstms_one_output_per_sequence_is_the_forward_last_and_the_backward_first():
    """With return_sequences=False, Bidirectional's output is the forward LSTM's output at the
    last step beside the backward LSTM's at the first step (in time order): what each has read
    once it has read the whole sequence."""
    from keras import layers, ops

    X = np.random.default_rng(2).random((3, 10, 1)).astype("float32")
    every_step = layers.Bidirectional(layers.LSTM(5, return_sequences=True))
    last_only = layers.Bidirectional(layers.LSTM(5))
    outputs = ops.convert_to_numpy(every_step(X))
    last_only(X)
    last_only.set_weights(every_step.get_weights())
    expected = np.concatenate([outputs[:, -1, :5], outputs[:, 0, 5:]], axis=-1)
    np.testing.assert_allclose(ops.convert_to_numpy(last_only(X)), expected, atol=1e-6)
