"""The states of a Bidirectional LSTM: the order Keras returns them in and takes them back in,
the output step each final state equals, and why carrying the states from one chunk of a sequence
to the next reads the whole sequence for a forward LSTM and not for a BiLSTM. The recipe these
tests check is in docs/tutorial.md, "The states of a Bidirectional LSTM"; the same four tensors in
torch.nn.LSTM are checked by tests/test_states_pytorch.py.

Three sequences of 6 steps and 2 features, 4 units, every weight random (biases included) and
random initial states, so that the four state tensors differ from each other and a swap of any
two fails. Every LSTM here is unrolled (`unroll=True`: the same steps written out one by one),
which spares JAX compiling a new loop at every call (over a second each on a busy 2-core CPU);
the first test checks that the default loop returns the same five tensors.
"""

import itertools

import numpy as np
import pytest
from keras import layers, ops

pytestmark = pytest.mark.backend

UNITS = 4
TOLERANCE = 1e-5
DIFFERENT = 1e-3  # outputs that differ by more than this somewhere are different outputs
X = np.random.default_rng(0).random((3, 6, 2)).astype("float32")


def lstm(**options):
    """LSTM(UNITS, **options), unrolled."""
    return layers.LSTM(UNITS, unroll=True, **options)


def to_numpy(values):
    return [ops.convert_to_numpy(value) for value in values]


def with_random_weights(layer, seed):
    """`layer`, built for X, with every weight drawn from N(0, 0.5^2)."""
    layer.build(X.shape)
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.normal(0, 0.5, w.shape).astype("float32")
                       for w in layer.get_weights()])
    return layer


def bidirectional(**options):
    """Bidirectional(LSTM(UNITS, return_sequences=True, **options)), concat, random weights."""
    return with_random_weights(
        layers.Bidirectional(lstm(return_sequences=True, **options)), seed=1)


def alone(direction, **options):
    """A plain LSTM(UNITS, **options) holding the weights of one direction of a Bidirectional
    (its forward_layer or backward_layer)."""
    alone_lstm = lstm(**options)
    alone_lstm.build(X.shape)
    alone_lstm.set_weights(direction.get_weights())
    return alone_lstm


def random_states(seed):
    """Four random (3, UNITS) states: forward h, forward c, backward h, backward c."""
    rng = np.random.default_rng(seed)
    return [rng.normal(0, 1, (len(X), UNITS)).astype("float32") for _ in range(4)]


def test_return_state_gives_the_outputs_then_forward_h_c_then_backward_h_c():
    bilstm = bidirectional(return_state=True)
    returned = to_numpy(bilstm(X))
    assert len(returned) == 5
    outputs, forward_h, forward_c, backward_h, backward_c = returned
    assert outputs.shape == (3, 6, 2 * UNITS)
    # The forward LSTM ends on the last step; the backward one reads from the end, so it ends on
    # the first step (concat puts the forward units first).
    np.testing.assert_allclose(forward_h, outputs[:, -1, :UNITS], atol=TOLERANCE)
    np.testing.assert_allclose(backward_h, outputs[:, 0, UNITS:], atol=TOLERANCE)
    # Each direction run alone: a plain LSTM returns [last output, h, c], its last output being h.
    directions = [(forward_h, forward_c, bilstm.forward_layer, False),
                  (backward_h, backward_c, bilstm.backward_layer, True)]
    for h, c, direction, go_backwards in directions:
        last_output, alone_h, alone_c = to_numpy(
            alone(direction, return_state=True, go_backwards=go_backwards)(X))
        np.testing.assert_allclose(alone_h, last_output, atol=TOLERANCE)
        np.testing.assert_allclose(h, alone_h, atol=TOLERANCE)
        np.testing.assert_allclose(c, alone_c, atol=TOLERANCE)
    # The four states differ from each other, so the checks above fail for any other order.
    for first, second in itertools.combinations(returned[1:], 2):
        assert not np.allclose(first, second, atol=DIFFERENT)
    # The default loop (unroll=False), which the recipe uses, returns the same five tensors.
    looped = layers.Bidirectional(layers.LSTM(UNITS, return_sequences=True, return_state=True))
    looped.build(X.shape)
    looped.set_weights(bilstm.get_weights())
    for got, expected in zip(to_numpy(looped(X)), returned, strict=True):
        np.testing.assert_allclose(got, expected, atol=TOLERANCE)


def test_initial_state_takes_forward_h_c_then_backward_h_c():
    bilstm = bidirectional()
    forward_h, forward_c, backward_h, backward_c = states = random_states(2)
    outputs = ops.convert_to_numpy(bilstm(X, initial_state=states))
    forward = alone(bilstm.forward_layer, return_sequences=True)
    backward = alone(bilstm.backward_layer, return_sequences=True, go_backwards=True)
    # go_backwards returns its outputs in reversed time order; Bidirectional puts them back.
    expected = np.concatenate(
        [ops.convert_to_numpy(forward(X, initial_state=[forward_h, forward_c])),
         ops.convert_to_numpy(backward(X, initial_state=[backward_h, backward_c]))[:, ::-1]],
        axis=-1)
    np.testing.assert_allclose(outputs, expected, atol=TOLERANCE)
    # Any other order gives other outputs: the directions swapped, h and c swapped, or no states.
    for wrong in ([backward_h, backward_c, forward_h, forward_c],
                  [forward_c, forward_h, backward_c, backward_h]):
        assert not np.allclose(ops.convert_to_numpy(bilstm(X, initial_state=wrong)), outputs,
                               atol=DIFFERENT)
    assert not np.allclose(ops.convert_to_numpy(bilstm(X)), outputs, atol=DIFFERENT)


def test_carried_states_stream_a_forward_lstm_and_not_a_bilstm():
    half = X.shape[1] // 2
    # A forward LSTM: the second half started from the states the first half ended on is the
    # second half of the whole sequence, outputs and final states alike (streaming).
    forward = with_random_weights(lstm(return_sequences=True, return_state=True), seed=3)
    whole, whole_h, whole_c = to_numpy(forward(X))
    first, first_h, first_c = to_numpy(forward(X[:, :half]))
    second, second_h, second_c = to_numpy(forward(X[:, half:], initial_state=[first_h, first_c]))
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, atol=TOLERANCE)
    np.testing.assert_allclose(second_h, whole_h, atol=TOLERANCE)
    np.testing.assert_allclose(second_c, whole_c, atol=TOLERANCE)
    fresh, _, _ = to_numpy(forward(X[:, half:]))  # the carried states are what makes it so
    assert not np.allclose(fresh, whole[:, half:], atol=DIFFERENT)

    # A BiLSTM, the four states carried the same way: its forward half streams, its backward
    # half does not, because on the first chunk it has not read the second.
    bilstm = bidirectional(return_state=True)
    whole, *_ = to_numpy(bilstm(X))
    first, *first_states = to_numpy(bilstm(X[:, :half]))
    second, *_ = to_numpy(bilstm(X[:, half:], initial_state=first_states))
    chunked = np.concatenate([first, second], axis=1)
    np.testing.assert_allclose(chunked[..., :UNITS], whole[..., :UNITS], atol=TOLERANCE)
    assert not np.allclose(chunked[:, :half, UNITS:], whole[:, :half, UNITS:], atol=DIFFERENT)
    assert not np.allclose(chunked[:, half:, UNITS:], whole[:, half:, UNITS:], atol=DIFFERENT)
    # What the backward half needs is the future: the first chunk is right once its backward LSTM
    # starts from the states it ends on after reading the second chunk (from its end).
    _, _, _, later_h, later_c = to_numpy(bilstm(X[:, half:]))
    zeros = np.zeros_like(later_h)
    first_again, *_ = to_numpy(bilstm(X[:, :half], initial_state=[zeros, zeros, later_h, later_c]))
    np.testing.assert_allclose(first_again, whole[:, :half], atol=TOLERANCE)
