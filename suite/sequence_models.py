"""Forward, backward and bidirectional LSTMs on your own sequences: build, train, score, keep.

Every model reads the padded sequences through a Masking layer, so padding never changes what it
predicts on a real step, and labels a sequence once (`return_sequences=False`) or every step.
Training is minibatch Adam on the training part; after every epoch the validation part is scored
and the weights of the epoch with the least validation loss are the ones kept, as
`keras.callbacks.EarlyStopping(restore_best_weights=True)` would keep them. The test part is
scored once, with those weights.

`train_seeds` runs every seed of a model on the fastest path the backend offers:

- jax: one compiled program, `jax.lax.scan` over epochs and batches and `jax.vmap` over seeds, so
  the seeds train side by side;
- any other backend: `model.train_on_batch` batch by batch, one seed after another.

Both start each seed from `weights.initial_weights` and take the same batches in the same order
(`sequence_data.batch_orders`), so they give the same numbers (tests/test_sequences.py).
"""

import time
from dataclasses import dataclass

import numpy as np

from suite import sequence_data, weights
from suite.environment import import_keras

MODELS = ("lstm_forw", "lstm_back", "bilstm_con")
MAJORITY, POSITION = "majority", "position"
DTW, MINIROCKET = "dtw_1nn", "minirocket"


def build_model(name, n_timesteps, n_features, n_classes, units=20, per_step=False,
                clipnorm=None):
    """`name` (one of MODELS) for sequences of up to n_timesteps steps of n_features values."""
    keras = import_keras()
    from keras import layers

    from suite.saving import ReverseTime

    # lstm_back reads the sequence from its last real step to its first.
    recurrent = layers.LSTM(units, return_sequences=per_step, go_backwards=name == "lstm_back")
    body = [
        keras.Input(shape=(n_timesteps, n_features)),
        # Steps that hold PAD_VALUE in every feature are padding: the mask tells the LSTMs to
        # step over them, so a sequence's predictions do not depend on how much padding it has.
        layers.Masking(mask_value=sequence_data.PAD_VALUE),
        layers.Bidirectional(recurrent) if name == "bilstm_con" else recurrent,
    ]
    if name == "lstm_back" and per_step:
        # go_backwards returns its outputs last step first: put them back in time order, so
        # each one is scored against the label of the step it describes (lstm_back_aligned).
        body.append(ReverseTime(name="reverse_time"))
    # One probability per class, for the sequence or for each step.
    body.append(layers.Dense(n_classes, activation="softmax"))
    model = keras.Sequential(body, name=name)
    model.compile(loss="sparse_categorical_crossentropy",
                  optimizer=keras.optimizers.Adam(clipnorm=clipnorm))
    return model


def log_loss(probabilities, y, weights):
    """Mean cross-entropy over the labelled outputs (weights 1; padding has 0), with Keras's
    clipping of probabilities."""
    p = np.take_along_axis(np.asarray(probabilities, dtype=np.float64), y[..., None], -1)[..., 0]
    losses = -np.log(np.clip(p, 1e-7, 1.0))
    return float((losses * weights).sum() / weights.sum())


def accuracy(probabilities, y, weights):
    """Share of the labelled outputs whose most probable class is the label."""
    right = np.argmax(probabilities, axis=-1) == y
    return float((right * weights).sum() / weights.sum())


def sequence_accuracy(probabilities, y, weights):
    """With a label per step: share of sequences with every real step right."""
    right = (np.argmax(probabilities, axis=-1) == y) | (weights == 0)
    return float(right.all(axis=-1).mean())


def scores(probabilities, y, weights, prefix="test"):
    row = {f"{prefix}_loss": log_loss(probabilities, y, weights),
           f"{prefix}_accuracy": accuracy(probabilities, y, weights)}
    if y.ndim == 2:
        row[f"{prefix}_sequence_accuracy"] = sequence_accuracy(probabilities, y, weights)
    return row


# ---------------------------------------------------------------- training


@dataclass
class Split:
    """One seed's padded parts: {"train", "val", "test"} -> (X, y, weights)."""

    seed: int
    parts: dict
    order: np.ndarray  # (epochs, batches, batch_size) indices into the training part
    indices: dict = None  # {"train", "val", "test"} -> indices into the sequences
    scale: tuple = None  # (mean, std) of the training part's features


@dataclass
class Trained:
    """One model over its seeds: per-epoch losses, the kept weights and the test scores."""

    name: str
    seeds: list
    train_loss: np.ndarray  # (seeds, epochs): mean loss of the epoch's batches
    val_loss: np.ndarray  # (seeds, epochs)
    best_epoch: np.ndarray  # (seeds,), 1-based: the epoch whose weights are kept
    test_probabilities: list  # per seed
    kept_weights: list  # per seed: the weights of its best epoch
    seconds: np.ndarray  # (seeds,)
    params: int
    method: str


def train_seeds(build, name, splits, method="auto", keep="best"):
    """Train model `name` (build() makes it) once per seed on each `Split`; a `Trained`. keep:
    "best" keeps the weights of the epoch with the least validation loss, "last" those of the
    last epoch."""
    keras = import_keras()
    model = build()
    if method == "auto":
        method = "compiled" if keras.backend.backend() == "jax" else "train_on_batch"
    run = _run_jax if method == "compiled" else _run_step_by_step
    return run(model, name, splits, keep == "last")


def _run_step_by_step(model, name, splits, keep_last):
    from suite import training

    optimizer_initial = training.optimizer_state(model)
    train_loss, val_loss, best_epoch, test, kept, seconds = [], [], [], [], [], []
    for split in splits:
        start = time.perf_counter()
        training.reset(model, split.seed, optimizer_initial)
        X, y, w = split.parts["train"]
        X_val, y_val, w_val = split.parts["val"]
        best, best_weights, losses, val_losses = np.inf, None, [], []
        for order in split.order:
            batch_losses = [float(model.train_on_batch(X[rows], y[rows], sample_weight=w[rows]))
                            for rows in order]
            losses.append(np.mean(batch_losses))
            val_losses.append(log_loss(_predict(model, X_val), y_val, w_val))
            if val_losses[-1] < best or keep_last:
                best, best_weights = val_losses[-1], model.get_weights()
        model.set_weights(best_weights)
        train_loss.append(losses)
        val_loss.append(val_losses)
        best_epoch.append(len(val_losses) if keep_last else int(np.argmin(val_losses)) + 1)
        test.append(_predict(model, split.parts["test"][0]))
        kept.append(best_weights)
        seconds.append(time.perf_counter() - start)
    return Trained(name, [s.seed for s in splits], np.array(train_loss), np.array(val_loss),
                   np.array(best_epoch), test, kept, np.array(seconds), model.count_params(),
                   "train_on_batch")


def _predict(model, X):
    return np.asarray(model.predict_on_batch(X))


def _run_jax(model, name, splits, keep_last):
    """Every seed side by side in one compiled program (see the module docstring)."""
    import jax
    import jax.numpy as jnp

    from suite import training

    optimizer_initial = training.optimizer_state(model)
    metrics_variables = [v.value for v in model.metrics_variables]

    def stateless_loss(trainable, non_trainable, x, y, w):
        y_pred, non_trainable = model.stateless_call(trainable, non_trainable, x, training=True)
        loss, _ = model.stateless_compute_loss(trainable, non_trainable, metrics_variables,
                                               x=x, y=y, y_pred=y_pred, sample_weight=w)
        return loss, non_trainable

    def held_out_loss(trainable, non_trainable, x, y, w):
        probabilities = model.stateless_call(trainable, non_trainable, x)[0]
        p = jnp.take_along_axis(probabilities, y[..., None], -1)[..., 0]
        return (-jnp.log(jnp.clip(p, 1e-7, 1.0)) * w).sum() / w.sum()

    def run(trainable, non_trainable, optimizer_variables, X, y, w, order, X_val, y_val, w_val,
            X_test):
        def step(state, rows):
            return adam_step(model, stateless_loss, state, X[rows], y[rows], w[rows])

        def epoch(carry, epoch_order):
            state, best = carry
            state, losses = jax.lax.scan(step, state, epoch_order)
            val = held_out_loss(state[0], state[1], X_val, y_val, w_val)
            return (state, kept_best(state, best, val, keep_last)), (losses.mean(), val)

        state = (trainable, non_trainable, optimizer_variables)
        best = (trainable, non_trainable, jnp.asarray(jnp.inf, dtype="float32"))
        (_, best), (losses, val_losses) = jax.lax.scan(epoch, (state, best), order)
        test = model.stateless_call(best[0], best[1], X_test)[0]
        return best[0], best[1], losses, val_losses, test

    inputs = (
        *initial_states(model, [split.seed for split in splits], optimizer_initial),
        *(np.stack([s.parts["train"][k] for s in splits]) for k in range(3)),
        np.stack([s.order for s in splits]),
        *(np.stack([s.parts["val"][k] for s in splits]) for k in range(3)),
        np.stack([s.parts["test"][0] for s in splits]),
    )
    start = time.perf_counter()
    program = jax.jit(jax.vmap(run), compiler_options=training.JAX_COMPILER_OPTIONS)
    trainable, non_trainable, losses, val_losses, test = program(*inputs)
    val_losses = np.asarray(val_losses)
    seconds = (time.perf_counter() - start) / len(splits)
    final = {id(v): np.asarray(a) for v, a in zip(
        [*model.trainable_variables, *model.non_trainable_variables], trainable + non_trainable)}
    kept = [[final[id(v)][r] for v in model.weights] for r in range(len(splits))]
    return Trained(name, [s.seed for s in splits], np.asarray(losses), val_losses,
                   np.full(len(splits), val_losses.shape[1]) if keep_last
                   else np.argmin(val_losses, axis=1) + 1, list(np.asarray(test)), kept,
                   np.full(len(splits), seconds), model.count_params(), "compiled")


def initial_states(model, seeds, optimizer_initial):
    """(trainable, non-trainable, optimizer variables), each stacked over `seeds` for a program
    vmapped over seeds: every seed's initial weights (`weights.initial_weights`) and a fresh
    optimizer state. Variables that are not weights (a layer's seed generator state) keep their
    values."""
    position = {id(variable): i for i, variable in enumerate(model.weights)}
    initial = [weights.initial_weights(model, seed) for seed in seeds]

    def stacked(variables):
        return [np.stack([values[position[id(v)]] for values in initial]) if id(v) in position
                else np.stack([np.asarray(v)] * len(seeds)) for v in variables]

    return (stacked(model.trainable_variables), stacked(model.non_trainable_variables),
            [np.stack([value] * len(seeds)) for value in optimizer_initial])


def adam_step(model, stateless_loss, state, *batch):
    """Inside a compiled program: one optimizer step on `batch`. state is (trainable,
    non-trainable, optimizer variables); stateless_loss(trainable, non_trainable, *batch) returns
    (loss, new non-trainable). Returns (the new state, the batch's loss before the step)."""
    import jax

    trainable, non_trainable, optimizer_variables = state
    (loss, non_trainable), grads = jax.value_and_grad(stateless_loss, has_aux=True)(
        trainable, non_trainable, *batch)
    trainable, optimizer_variables = model.optimizer.stateless_apply(
        optimizer_variables, grads, trainable)
    return (trainable, non_trainable, optimizer_variables), loss


def kept_best(state, best, val, keep_last=False):
    """Inside a compiled epoch: (trainable, non-trainable, validation loss) of the epoch with the
    least validation loss so far, given this epoch's `state` and `val` (or this epoch's, always,
    with keep_last)."""
    import jax
    import jax.numpy as jnp

    better = (val < best[2]) | keep_last
    return (jax.tree.map(lambda new, old: jnp.where(better, new, old), state[0], best[0]),
            jax.tree.map(lambda new, old: jnp.where(better, new, old), state[1], best[1]),
            jnp.where(better, val, best[2]))


# ---------------------------------------------------------------- references a model must beat


def majority_probabilities(y_train, w_train, n_classes, shape):
    """The training part's class frequencies (over its labelled outputs) as every prediction."""
    counts = np.bincount(y_train[w_train > 0].ravel(), minlength=n_classes).astype(float)
    return np.broadcast_to(counts / counts.sum(), shape + (n_classes,))


def step_numbers(weights):
    """(n, n_timesteps) -> each labelled output's step number counted from the sequence's first
    real step (0, 1, 2, ...), however the sequence is padded; -1 on padding."""
    real = weights > 0
    return np.where(real, np.cumsum(real, axis=1) - 1, -1)


def position_probabilities(y_train, w_train, n_classes, y_test, w_test):
    """With a label per step: at each step number (counted from each sequence's first step,
    whether it is padded at the end or the start), the training part's class frequencies there:
    the analogue of the tutorial's position-only reference. A step number no training sequence
    reaches gets the overall frequencies."""
    overall = majority_probabilities(y_train, w_train, n_classes, ())
    train_steps, test_steps = step_numbers(w_train), step_numbers(w_test)
    frequencies = np.tile(overall, (y_train.shape[1], 1))
    for step in range(train_steps.max() + 1):
        counts = np.bincount(y_train[train_steps == step], minlength=n_classes).astype(float)
        frequencies[step] = counts / counts.sum()
    return np.where(test_steps[..., None] >= 0, frequencies[np.maximum(test_steps, 0)], overall)


def one_hot(labels, n_classes):
    return np.eye(n_classes)[labels]


def dtw_1nn_labels(sequences, train, test):
    """1-nearest-neighbour with dynamic time warping (sktime's KNeighborsTimeSeriesClassifier with
    dtaidistance's multivariate DTW), on the sequences as read, unpadded and unscaled."""
    from sktime.classification.distance_based import KNeighborsTimeSeriesClassifier
    from sktime.dists_kernels.dtw import DtwDtaidistMultiv

    classifier = KNeighborsTimeSeriesClassifier(n_neighbors=1,
                                                distance=DtwDtaidistMultiv(use_c=True))
    classifier.fit(_nested(sequences, train), np.asarray(sequences.labels)[train])
    return np.asarray(classifier.predict(_nested(sequences, test))).astype(int)


def minirocket_labels(sequences, train, test, seed):
    """MiniRocket's features of the variable-length sequences (sktime's
    MiniRocketMultivariateVariable, random_state=seed) and a ridge classifier on them."""
    from sklearn.linear_model import RidgeClassifierCV
    from sktime.transformations.panel.rocket import MiniRocketMultivariateVariable

    transform = MiniRocketMultivariateVariable(random_state=seed, pad_value_short_series=0.0)
    features = transform.fit_transform(_nested(sequences, train))
    ridge = RidgeClassifierCV(alphas=np.logspace(-3, 3, 10))
    ridge.fit(features, np.asarray(sequences.labels)[train])
    return np.asarray(ridge.predict(transform.transform(_nested(sequences, test)))).astype(int)


def _nested(sequences, indices):
    """sktime's nested DataFrame: one row per sequence, one pandas Series per feature."""
    import pandas as pd

    return pd.DataFrame([{name: pd.Series(sequences.features[i][:, j])
                          for j, name in enumerate(sequences.feature_names)}
                         for i in indices])
