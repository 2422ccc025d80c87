"""The Keras models' initial weights in PyTorch's layout: the port starts where Keras starts.

NumPy only (no Keras, no PyTorch), so it is checked on its own:

- `keras_initial_weights(name, seed)` draws what `weights.initial_weights(keras_model, seed)`
  gives the Keras model of that name, in Keras's order and shapes, without building the model:
  per LSTM direction (forward first) its kernel (1, 4 units), recurrent kernel (units, 4 units)
  and bias (4 units), then the Dense kernel (features, 1) and bias (1,).
- `torch_state(name, keras_weights)` maps them onto the parameters of `bilstm_pytorch.py`'s
  models: PyTorch keeps each matrix as (outputs, inputs), so every kernel is transposed; both
  libraries stack the LSTM's gates in the same order (input, forget, cell, output), so no gate
  moves; and PyTorch's LSTM has a second bias, `bias_hh`, added to `bias_ih`: it takes zeros and
  the model keeps it out of training, so the one bias that trains is Keras's.
"""

import numpy as np

from suite import weights

# The tutorial's models: their LSTM's direction and, for the BiLSTMs, Keras's merge mode.
MODELS = {
    "lstm_forw": ("forward", None),
    "lstm_back": ("backward", None),  # go_backwards=True, outputs left in reversed time order
    "lstm_back_aligned": ("backward", None),  # the same with its outputs put back in time order
    "bilstm_con": ("both", "concat"),
    "bilstm_sum": ("both", "sum"),
    "bilstm_mul": ("both", "mul"),
    "bilstm_ave": ("both", "ave"),
}
N_FEATURES = 1  # one value per step: keras.Input(shape=(n_timesteps, 1))


def directions(name):
    """How many LSTMs the model has: 2 for a BiLSTM, else 1."""
    return 2 if MODELS[name][0] == "both" else 1


def dense_inputs(name, units):
    """The width of what the per-step Dense layer reads: both directions side by side for concat."""
    return 2 * units if MODELS[name][1] == "concat" else units


def forget_bias(units):
    """An LSTM bias with unit_forget_bias: zeros, the forget gate (second quarter) at one."""
    return np.repeat([0.0, 1.0, 0.0, 0.0], units)


def keras_initial_weights(name, seed, units=20):
    """`weights.initial_weights` of the Keras model `name` for `seed`, as float32 arrays in
    Keras's order, drawn without Keras (`tests/test_pytorch.py` checks them against it).

    The same stream of the seed, the same draws in the same order: glorot_uniform kernels,
    orthogonal recurrent kernels; the biases draw nothing.
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}: choose from {', '.join(MODELS)}")
    rng = np.random.default_rng(
        np.random.SeedSequence(int(seed)).spawn(weights.WEIGHTS_STREAM + 1)[-1])
    values = []
    for _ in range(directions(name)):
        values += [weights.glorot_uniform(rng, (N_FEATURES, 4 * units)),
                   weights.orthogonal(rng, (units, 4 * units)),
                   forget_bias(units)]
    values += [weights.glorot_uniform(rng, (dense_inputs(name, units), 1)), np.zeros(1)]
    return [value.astype(np.float32) for value in values]


def torch_state(name, keras_weights):
    """{PyTorch parameter name: array} for `bilstm_pytorch.TutorialModel(name)`, from the Keras
    model's weights in Keras's order (`model.get_weights()` or `keras_initial_weights`).

    | Keras weight                      | PyTorch parameter      | shapes (Keras -> PyTorch) |
    | LSTM kernel                       | lstm.weight_ih_l0      | (1, 4u) -> (4u, 1), transposed |
    | LSTM recurrent_kernel             | lstm.weight_hh_l0      | (u, 4u) -> (4u, u), transposed |
    | LSTM bias                         | lstm.bias_ih_l0        | (4u,), as is |
    | (none)                            | lstm.bias_hh_l0        | (4u,), zeros, not trained |
    | backward LSTM of a Bidirectional  | the same with _reverse |  |
    | TimeDistributed(Dense(1)) kernel  | dense.weight           | (f, 1) -> (1, f), transposed |
    | TimeDistributed(Dense(1)) bias    | dense.bias             | (1,), as is |
    """
    expected = 3 * directions(name) + 2
    if len(keras_weights) != expected:
        raise ValueError(f"{name} has {expected} Keras weights, got {len(keras_weights)}")
    state = {}
    for direction, suffix in enumerate(["", "_reverse"][: directions(name)]):
        kernel, recurrent_kernel, bias = keras_weights[3 * direction : 3 * direction + 3]
        state[f"lstm.weight_ih_l0{suffix}"] = kernel.T
        state[f"lstm.weight_hh_l0{suffix}"] = recurrent_kernel.T
        state[f"lstm.bias_ih_l0{suffix}"] = bias
        state[f"lstm.bias_hh_l0{suffix}"] = np.zeros_like(bias)
    dense_kernel, dense_bias = keras_weights[-2:]
    state["dense.weight"] = dense_kernel.T
    state["dense.bias"] = dense_bias
    return {key: np.ascontiguousarray(value, dtype=np.float32) for key, value in state.items()}
