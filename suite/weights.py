"""Initial weights drawn in NumPy from the seed: the same numbers on every Keras backend.

`keras.utils.set_random_seed` seeds each backend's own generator, so one seed gives different
initial weights on TensorFlow, JAX and PyTorch. Here every seed's initial weights come from a
NumPy generator instead, with the distributions of Keras's default initializers for the layers
these scripts use:

- kernels (input to the LSTM's gates, and the Dense layer): glorot_uniform, U(-limit, limit)
  with limit = sqrt(6 / (fan_in + fan_out));
- the LSTM's recurrent kernel: orthogonal, the Q of a QR decomposition of a standard normal
  matrix with the signs of R's diagonal, as Keras's Orthogonal initializer draws it;
- biases: zeros, except that an LSTM with unit_forget_bias (its default) starts its forget gate
  at one;
- an Embedding's table (the text scripts): random_uniform, U(minval, maxval), by default
  U(-0.05, 0.05), with the bounds read from the layer's initializer.

The weights are drawn in the order of `model.weights` from stream 3 of the seed (streams 0, 1 and
2 draw the training, held-out and book-evaluation sequences), so data and weights are independent.
"""

import numpy as np

WEIGHTS_STREAM = 3


def seed_stream(seed, number):
    """A NumPy generator on stream `number` of the seed: child `number` of
    numpy.random.SeedSequence(seed), independent of the seed's other streams. In use: 0 and 1
    the training and held-out sequences, 2 the book's evaluation sequences, 3 initial weights,
    4 the text scripts' splits, 5 their shuffling, 6 the PyTorch sentiment model's dropout."""
    return np.random.default_rng(np.random.SeedSequence(int(seed)).spawn(number + 1)[-1])


def glorot_uniform(rng, shape):
    fan_in, fan_out = shape[0], shape[-1]
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape)


def orthogonal(rng, shape):
    rows, columns = int(np.prod(shape[:-1])), shape[-1]
    normal = rng.standard_normal((max(rows, columns), min(rows, columns)))
    q, r = np.linalg.qr(normal)
    q *= np.sign(np.diag(r))
    if rows < columns:
        q = q.T
    return q.reshape(shape)


def random_uniform(rng, shape, minval=-0.05, maxval=0.05):
    return rng.uniform(minval, maxval, size=shape)


# Keras's default initializers for these layers, by class name, and the NumPy draw for each.
DRAWS = {"GlorotUniform": glorot_uniform, "Orthogonal": orthogonal,
         "Zeros": lambda rng, shape: np.zeros(shape), "RandomUniform": random_uniform}


# Where a Keras layer keeps the initializer of each of its weights.
INITIALIZER_ATTRIBUTES = {"kernel": "kernel_initializer", "recurrent_kernel": "recurrent_initializer",
                          "bias": "bias_initializer", "embeddings": "embeddings_initializer"}


def _owners(model):
    """{id(variable): (layer, role)} for every weight of the model's LSTM cells, Dense and Embedding layers."""
    owners = {}

    def visit(layer):
        cell = getattr(layer, "cell", None)
        if cell is not None:  # an LSTM: its weights live in its cell
            visit(cell)
        for inner in ("forward_layer", "backward_layer", "layer"):  # Bidirectional, TimeDistributed
            if getattr(layer, inner, None) is not None:
                visit(getattr(layer, inner))
        own = {id(weight) for weight in layer.weights}
        for role in ("kernel", "recurrent_kernel", "bias", "embeddings"):
            variable = getattr(layer, role, None)
            if id(variable) in own:
                owners.setdefault(id(variable), (layer, role))

    for layer in model.layers:
        visit(layer)
    return owners


def _draw(rng, layer, role, shape):
    initializer = getattr(layer, INITIALIZER_ATTRIBUTES[role])
    name = type(initializer).__name__
    if name not in DRAWS:
        raise ValueError(f"no NumPy draw for the {name} initializer of {layer.name}.{role}")
    if role == "bias" and getattr(layer, "unit_forget_bias", False):
        units = shape[0] // 4  # gates in Keras's order: input, forget, cell, output
        value = np.zeros(shape)
        value[units : 2 * units] = 1.0
        return value
    if name == "RandomUniform":
        return random_uniform(rng, shape, initializer.minval, initializer.maxval)
    return DRAWS[name](rng, shape)


def initial_weights(model, seed):
    """The initial values of `model.weights` for `seed`, as float32 NumPy arrays."""
    rng = seed_stream(seed, WEIGHTS_STREAM)
    owners = _owners(model)
    values = []
    for variable in model.weights:
        if id(variable) not in owners:
            raise ValueError(f"no NumPy draw for the weight {variable.path}")
        layer, role = owners[id(variable)]
        shape = tuple(variable.shape)
        values.append(_draw(rng, layer, role, shape).astype(np.float32))
    return values
