"""The states of a Bidirectional LSTM in plain PyTorch: torch.nn.LSTM(bidirectional=True) holding
a Keras Bidirectional(LSTM)'s weights returns Keras's four states, stacked by direction.

Keras returns [outputs, forward h, forward c, backward h, backward c] (tests/test_states.py);
PyTorch returns outputs, (h_n, c_n), with h_n[0] and c_n[0] the forward direction's and h_n[1]
and c_n[1] the backward one's, and takes initial states the same way: Keras's initial_state
[hf, cf, hb, cb] is PyTorch's (stack([hf, hb]), stack([cf, cb])). The weights are mapped by
suite/pytorch_port.py's torch_state. docs/tutorial.md, "The states of a Bidirectional LSTM",
gives the recipe.

Skipped without PyTorch (`make test-torch` installs it); runs on Keras's default backend. Three
sequences of 6 steps and 2 features, 4 units, every weight random: a few seconds.
"""

import keras
import numpy as np
import pytest
from keras import layers

from suite import pytorch_port

torch = pytest.importorskip("torch", reason="PyTorch is optional: make test-torch installs it")

UNITS = 4
TOLERANCE = 1e-5
DIFFERENT = 1e-3  # outputs that differ by more than this somewhere are different outputs
X = np.random.default_rng(0).random((3, 6, 2)).astype("float32")


def keras_bilstm():
    """Bidirectional(LSTM(UNITS, return_sequences=True, return_state=True)), concat, built for X,
    every weight random (biases included)."""
    bilstm = layers.Bidirectional(
        layers.LSTM(UNITS, return_sequences=True, return_state=True))
    bilstm.build(X.shape)
    rng = np.random.default_rng(1)
    bilstm.set_weights([rng.normal(0, 0.5, w.shape).astype("float32")
                        for w in bilstm.get_weights()])
    return bilstm


def torch_bilstm(keras_weights):
    """torch.nn.LSTM(bidirectional=True, batch_first=True) holding the Keras Bidirectional's
    weights (forward kernel, recurrent kernel, bias, then the backward ones), mapped by
    `pytorch_port.torch_state` as the tutorial's BiLSTM's: its LSTM's parameters, without the
    Dense layer that model also has (placeholder weights here, dropped)."""
    placeholder_dense = [np.zeros((2 * UNITS, 1), "float32"), np.zeros(1, "float32")]
    state = pytorch_port.torch_state("bilstm_con", list(keras_weights) + placeholder_dense)
    lstm = torch.nn.LSTM(X.shape[-1], UNITS, batch_first=True, bidirectional=True)
    lstm.load_state_dict({key.removeprefix("lstm."): torch.from_numpy(value)
                          for key, value in state.items() if key.startswith("lstm.")})
    return lstm


def run_torch(lstm, initial=None):
    """output, h_n, c_n of `lstm` on X as arrays."""
    with torch.no_grad():
        output, (h_n, c_n) = lstm(torch.from_numpy(X), initial)
    return output.numpy(), h_n.numpy(), c_n.numpy()


def test_pytorchs_h_n_and_c_n_are_keras_forward_then_backward_states():
    bilstm = keras_bilstm()
    outputs, forward_h, forward_c, backward_h, backward_c = (
        keras.ops.convert_to_numpy(value) for value in bilstm(X))
    output, h_n, c_n = run_torch(torch_bilstm(bilstm.get_weights()))
    assert output.shape == (3, 6, 2 * UNITS) and h_n.shape == c_n.shape == (2, 3, UNITS)
    np.testing.assert_allclose(output, outputs, atol=TOLERANCE, rtol=0)
    # Index 0 of h_n and c_n is the forward direction, index 1 the backward one.
    np.testing.assert_allclose(h_n[0], forward_h, atol=TOLERANCE, rtol=0)
    np.testing.assert_allclose(c_n[0], forward_c, atol=TOLERANCE, rtol=0)
    np.testing.assert_allclose(h_n[1], backward_h, atol=TOLERANCE, rtol=0)
    np.testing.assert_allclose(c_n[1], backward_c, atol=TOLERANCE, rtol=0)
    # The forward direction ends on the last step, the backward one on the first; PyTorch also
    # puts the forward units first.
    np.testing.assert_allclose(output[:, -1, :UNITS], h_n[0], atol=TOLERANCE, rtol=0)
    np.testing.assert_allclose(output[:, 0, UNITS:], h_n[1], atol=TOLERANCE, rtol=0)
    # The two directions' states differ, and so do h and c: a swap would fail the checks above.
    assert not np.allclose(h_n[0], h_n[1], atol=DIFFERENT)
    assert not np.allclose(c_n[0], c_n[1], atol=DIFFERENT)
    assert not np.allclose(h_n, c_n, atol=DIFFERENT)


def test_keras_initial_state_is_pytorchs_h0_and_c0_stacked_by_direction():
    bilstm = keras_bilstm()
    rng = np.random.default_rng(2)
    forward_h, forward_c, backward_h, backward_c = states = [
        rng.normal(0, 1, (len(X), UNITS)).astype("float32") for _ in range(4)]
    outputs, *final_states = (keras.ops.convert_to_numpy(value)
                              for value in bilstm(X, initial_state=states))
    lstm = torch_bilstm(bilstm.get_weights())
    h0 = torch.from_numpy(np.stack([forward_h, backward_h]))
    c0 = torch.from_numpy(np.stack([forward_c, backward_c]))
    output, h_n, c_n = run_torch(lstm, (h0, c0))
    np.testing.assert_allclose(output, outputs, atol=TOLERANCE, rtol=0)
    np.testing.assert_allclose(np.stack([h_n[0], c_n[0], h_n[1], c_n[1]]), np.stack(final_states),
                               atol=TOLERANCE, rtol=0)
    # Stacked the other way, or with h and c swapped, the outputs differ.
    for wrong in ((h0.flip(0), c0.flip(0)), (c0, h0)):
        assert not np.allclose(run_torch(lstm, wrong)[0], outputs, atol=DIFFERENT)
