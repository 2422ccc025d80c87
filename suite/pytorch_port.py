"""The Keras models' initial weights in PyTorch's layout: the port starts where Keras starts.

NumPy only (no Keras, no PyTorch), so it is checked on its own. The tutorial's models
(pytorch/bilstm_pytorch.py):

- `keras_initial_weights(name, seed)` draws what `weights.initial_weights(keras_model, seed)`
  gives the Keras model of that name, in Keras's order and shapes, without building the model:
  per LSTM direction (forward first) its kernel (1, 4 units), recurrent kernel (units, 4 units)
  and bias (4 units), then the Dense kernel (features, 1) and bias (1,).
- `torch_state(name, keras_weights)` maps them onto the parameters of `pytorch/bilstm_pytorch.py`'s
  models: PyTorch keeps each matrix as (outputs, inputs), so every kernel is transposed; both
  libraries stack the LSTM's gates in the same order (input, forget, cell, output), so no gate
  moves; and PyTorch's LSTM has a second bias, `bias_hh`, added to `bias_ih`: it takes zeros and
  the model keeps it out of training, so the one bias that trains is Keras's.

The text classifier (pytorch/text_classify_pytorch.py) the same way, its embedding table first:
`keras_text_initial_weights` and `torch_text_state`.
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
    rng = weights.seed_stream(seed, weights.WEIGHTS_STREAM)
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
    return _lstm_and_dense_state(directions(name), keras_weights)


def _lstm_and_dense_state(n_directions, keras_weights):
    """The mapping of `torch_state` for an LSTM's directions, then a Dense layer."""
    state = {}
    for direction, suffix in enumerate(["", "_reverse"][:n_directions]):
        kernel, recurrent_kernel, bias = keras_weights[3 * direction : 3 * direction + 3]
        state[f"lstm.weight_ih_l0{suffix}"] = kernel.T
        state[f"lstm.weight_hh_l0{suffix}"] = recurrent_kernel.T
        state[f"lstm.bias_ih_l0{suffix}"] = bias
        state[f"lstm.bias_hh_l0{suffix}"] = np.zeros_like(bias)
    dense_kernel, dense_bias = keras_weights[-2:]
    state["dense.weight"] = dense_kernel.T
    state["dense.bias"] = dense_bias
    return {key: np.ascontiguousarray(value, dtype=np.float32) for key, value in state.items()}


# ---------------------------------------------------------------- the text classifier

# text/text_classify.py's LSTMs and their directions: Embedding -> SpatialDropout1D -> LSTM (final
# state; Bidirectional concatenates the two) -> Dense(n_classes, softmax).
TEXT_MODELS = {"bilstm_con": 2, "lstm_forw": 1}


def keras_text_initial_weights(name, seed, max_words=5000, embedding_dim=16, units=16,
                               n_classes=2):
    """`weights.initial_weights` of text_classify.build_model(name, ...) for `seed`, drawn
    without Keras: the embedding table (max_words, embedding_dim) from random_uniform(-0.05,
    0.05), then per direction the LSTM's kernel (embedding_dim, 4 units), recurrent kernel and
    bias, then the Dense kernel (directions x units, n_classes) and bias."""
    if name not in TEXT_MODELS:
        raise ValueError(f"unknown model {name!r}: choose from {', '.join(TEXT_MODELS)}")
    rng = weights.seed_stream(seed, weights.WEIGHTS_STREAM)
    values = [weights.random_uniform(rng, (max_words, embedding_dim))]
    for _ in range(TEXT_MODELS[name]):
        values += [weights.glorot_uniform(rng, (embedding_dim, 4 * units)),
                   weights.orthogonal(rng, (units, 4 * units)),
                   forget_bias(units)]
    values += [weights.glorot_uniform(rng, (TEXT_MODELS[name] * units, n_classes)),
               np.zeros(n_classes)]
    return [value.astype(np.float32) for value in values]


def torch_text_state(name, keras_weights):
    """{PyTorch parameter name: array} for `text_classify_pytorch.SentimentModel(name)`: the
    embedding table as it is (`embedding.weight`, (max_words, embedding_dim) in both libraries),
    then the LSTM and Dense weights mapped as `torch_state` maps them."""
    expected = 1 + 3 * TEXT_MODELS[name] + 2
    if len(keras_weights) != expected:
        raise ValueError(f"{name} has {expected} Keras weights, got {len(keras_weights)}")
    return {"embedding.weight": np.ascontiguousarray(keras_weights[0], dtype=np.float32),
            **_lstm_and_dense_state(TEXT_MODELS[name], keras_weights[1:])}
