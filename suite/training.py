"""Per-sequence training and held-out prediction, shared by every script.

The tutorial trains with one `model.fit(X, y, epochs=1, batch_size=1)` call per sequence: one Adam
step per sequence, and the loss it records for that "epoch" is the loss on the sequence before the
step. `train_literal` is that loop, kept as the reference. `run_repeats` does the same maths for
several seeds at once, on the fastest path the Keras backend offers:

- jax: the whole run, held-out prediction included, is one compiled program.
  `model.stateless_call` and `optimizer.stateless_apply` inside `jax.lax.scan` over the sequences,
  and `jax.vmap` over seeds so the repeats train side by side.
- tensorflow: the loop over sequences runs inside one XLA-compiled `tf.function`, traced once per
  model shape and reused for every seed, in chunks of TF_CHUNK steps so that runs of different
  lengths share it.
- any other backend (torch): `model.train_on_batch` once per step, which is what `fit` does per
  batch without fit's start-up cost.
- method="literal" (a section script's --literal): the tutorial's own `model.fit` call per step,
  on any backend, to show that the paths above give its numbers.

Each repeat starts from `weights.initial_weights(model, seed)`: drawn in NumPy from the seed, the
same numbers on every backend, and loaded into one model built per architecture however many seeds
run. Every path starts from the same place, so the tests can check that they give the same numbers.
On JAX, compiled programs are also kept on disk (`compilation_cache_dir`), so a rerun skips
compiling them.
"""

import re
import threading
import time
from dataclasses import dataclass

import numpy as np

from suite import weights
from suite.environment import compilation_cache_dir, import_keras

keras = import_keras()

METHODS = ("auto", "compiled", "train_on_batch", "literal")

# JAX keeps every compiled program on disk (BILSTM_CACHE, `environment.compilation_cache_dir`).
if keras.backend.backend() == "jax" and compilation_cache_dir() is not None:
    import jax

    jax.config.update("jax_compilation_cache_dir", str(compilation_cache_dir() / "jax"))
    # Every program counts, even one that compiles in under JAX's default second.
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)

if keras.backend.backend() == "tensorflow":
    import tensorflow as tf

    # Deterministic kernels: the same command gives the same numbers on every run. With them on,
    # TensorFlow wants a seed for the weights Keras draws when it builds a model, which the
    # suite's own initial weights then replace.
    tf.config.experimental.enable_op_determinism()
    tf.random.set_seed(0)


def load_initial(model, seed):
    """Load `seed`'s initial weights into `model` and return it."""
    model.set_weights(weights.initial_weights(model, seed))
    return model


def build_seeded(build_model, seed):
    """A freshly built model holding `seed`'s initial weights."""
    return load_initial(build_model(), seed)


def train_literal(model, X, y):
    """The tutorial's loop, verbatim in spirit: one `fit` call per sequence, batch size 1."""
    losses = []
    for i in range(len(X)):
        history = model.fit(X[i : i + 1], y[i : i + 1], epochs=1, batch_size=1, verbose=0)
        losses.append(history.history["loss"][0])
    return np.array(losses, dtype=np.float32)


@dataclass
class Runs:
    """What `run_repeats` measured for one model over several seeds."""

    seeds: list
    losses: np.ndarray  # (repeats, steps): loss of each step's batch before its update
    # (repeats, steps): share of that batch's labels predicted right before the update, the
    # `acc` that fit reports for it
    accuracies: np.ndarray
    # (repeats, eval sequences, n_timesteps): held-out P(y_t = 1); a model with several heads
    # gives one per head, (..., n_timesteps, heads)
    probabilities: np.ndarray
    # (repeats,) wall time of training and held-out prediction, compilation included; on JAX,
    # where the repeats run together, each repeat's share of it
    train_seconds: np.ndarray
    params: int
    method: str  # the path that trained them
    # per repeat, the trained values of model.trainable_variables + model.non_trainable_variables
    weights: list = None
    # with `checkpoint_every`: the held-out probabilities after every checkpoint_every steps,
    # (checkpoints, repeats, eval sequences, n_timesteps[, heads]); the last one equals
    # `probabilities`
    checkpoints: np.ndarray = None
    checkpoint_steps: np.ndarray = None  # (checkpoints,) optimizer steps done at each checkpoint


def load_trained(build_model, runs, repeat=0, model=None):
    """A Keras model holding the weights repeat `repeat` trained to: `model`, or a new one built
    by `build_model()`. Reusing one model for every repeat lets Keras reuse its compiled predict
    and evaluate functions."""
    model = model or build_model()
    variables = model.trainable_variables + model.non_trainable_variables
    for variable, value in zip(variables, runs.weights[repeat], strict=True):
        variable.assign(value)
    return model


def _weights_of(model):
    variables = model.trainable_variables + model.non_trainable_variables
    return [np.asarray(v) for v in variables]


def resolve_method(method="auto"):
    """The training path `method` names on the current backend."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if method == "auto":
        compiled = keras.backend.backend() in ("jax", "tensorflow")
        return "compiled" if compiled else "train_on_batch"
    if method == "compiled" and keras.backend.backend() not in ("jax", "tensorflow"):
        raise ValueError(f"no compiled path on the {keras.backend.backend()} backend")
    return method


def _batches(X, batch_size):
    """(repeats, sequences, ...) -> (repeats, steps, batch_size, ...), in order."""
    repeats, n_sequences = X.shape[:2]
    if n_sequences % batch_size:
        raise ValueError(
            f"the number of sequences ({n_sequences}) must be a multiple of the batch size ({batch_size})"
        )
    return X.reshape(repeats, n_sequences // batch_size, batch_size, *X.shape[2:])


def _chunk_size(steps, progress):
    """Steps per compiled call: all of them, or about a tenth of them to update a progress bar.

    Every chunk has the same length, so the compiled program is built once.
    """
    if not progress:
        return steps
    divisors = [d for d in range(1, steps + 1) if steps % d == 0 and d <= max(1, steps // 10)]
    best = max(divisors)
    return best if best * 100 >= steps else steps


def run_repeats(
    build_model,
    seeds,
    train_X,
    train_y,
    eval_X,
    batch_size=1,
    method="auto",
    verbose=0,
    checkpoint_every=None,
):
    """Train one fresh model per seed on its own sequences, then predict held-out sequences.

    train_X, train_y: (repeats, n_sequences, n_timesteps, 1), the sequences of each repeat in the
    order they are seen. eval_X: (repeats, eval sequences, n_timesteps, 1). One optimizer step per
    `batch_size` sequences. With `checkpoint_every` (a number of steps that divides the steps),
    the held-out sequences are also predicted after every that many steps: since training is
    sequential, checkpoint k is what a run on only the first k * checkpoint_every batches gives.
    Returns `Runs`.
    """
    seeds = [int(seed) for seed in seeds]
    if len(seeds) != len(train_X) or len(seeds) != len(eval_X):
        raise ValueError("train_X, train_y and eval_X need one entry per seed")
    method = resolve_method(method)
    X = _batches(np.asarray(train_X, dtype=np.float32), batch_size)
    y = _batches(np.asarray(train_y, dtype=np.int32), batch_size)
    eval_X = np.asarray(eval_X, dtype=np.float32)
    steps = X.shape[1]
    if checkpoint_every is not None and (checkpoint_every < 1 or steps % checkpoint_every):
        raise ValueError(f"checkpoint_every ({checkpoint_every}) must divide the steps ({steps})")
    # Held-out predictions at every checkpoint, or only after the last step. The paths that train
    # one seed at a time predict just then; the JAX program predicts after every chunk it runs.
    predict_every = checkpoint_every or steps
    model = build_model()  # one model per architecture: each seed's weights are loaded into it
    if method in ("train_on_batch", "literal"):
        runs = _run_step_by_step(model, seeds, X, y, eval_X, verbose, predict_every, method)
    elif keras.backend.backend() == "jax":
        chunk = checkpoint_every or _chunk_size(steps, verbose)
        runs = _run_jax(model, seeds, X, y, eval_X, verbose, chunk)
    else:
        runs = _run_tensorflow(model, seeds, X, y, eval_X, verbose, predict_every)
    if checkpoint_every is None:
        runs.checkpoints = None
    else:
        runs.checkpoint_steps = np.arange(checkpoint_every, steps + 1, checkpoint_every)
    return runs


def _progbar(steps, verbose):
    return keras.utils.Progbar(steps, verbose=verbose) if verbose else None


def optimizer_state(model):
    """The optimizer's variables before its first step, to start every seed from."""
    model.optimizer.build(model.trainable_variables)
    return [np.asarray(v) for v in model.optimizer.variables]


def reset(model, seed, optimizer_initial):
    """Start `model` afresh for `seed`: its initial weights drawn in NumPy from the seed, the
    optimizer's state as before its first step (`optimizer_state`), and the generator of each
    layer that draws random numbers (a dropout layer's) seeded by the seed. The compiled
    functions stay, so every seed after the first skips compiling."""
    load_initial(model, seed)
    for variable, value in zip(model.optimizer.variables, optimizer_initial, strict=True):
        variable.assign(value)
    for layer in model.layers:
        generator = getattr(layer, "seed_generator", None)
        if generator is not None:
            generator.state.assign(np.array([seed, 0]).astype(generator.state.dtype))


def _fit_once(model, X, y):
    """The tutorial's step: `model.fit` for one epoch on one batch; (loss, accuracy)."""
    history = model.fit(X, _targets(model.outputs, y), epochs=1, batch_size=len(X), verbose=0)
    return _loss_and_accuracy({name: values[0] for name, values in history.history.items()})


def _train_on_batch_once(model, X, y):
    """What `fit` does per batch, without its start-up cost; (loss, accuracy)."""
    return _loss_and_accuracy(model.train_on_batch(X, _targets(model.outputs, y),
                                                   return_dict=True))


def _loss_and_accuracy(logs):
    """The loss (summed over a model's heads, as Keras sums them) and the mean of its heads'
    accuracies, from the logs of `fit` or `train_on_batch`."""
    accuracies = [value for name, value in logs.items() if name.endswith(("acc", "accuracy"))]
    if not accuracies:
        raise ValueError(f"the model logs no accuracy ({', '.join(logs)}): compile it with "
                         "metrics=['acc'], one per head")
    return logs["loss"], float(np.mean(accuracies))


def _run_step_by_step(model, seeds, X, y, eval_X, verbose, predict_every, method):
    """One seed after another, one Keras call per step: `train_on_batch`, or `fit` (literal)."""
    step_once = _fit_once if method == "literal" else _train_on_batch_once
    metrics, probabilities, seconds, trained = [], [], [], []
    optimizer_initial = optimizer_state(model)
    for r, seed in enumerate(seeds):
        reset(model, seed, optimizer_initial)
        progbar = _progbar(X.shape[1], verbose)
        start = time.perf_counter()
        run_metrics, run_probabilities = [], []
        for step in range(X.shape[1]):
            # The models compile with metrics=["acc"]: each step gives its loss and accuracy.
            loss, acc = step_once(model, X[r, step], y[r, step])
            run_metrics.append((loss, acc))
            if progbar:
                progbar.update(step + 1, [("loss", loss)])
            if (step + 1) % predict_every == 0:
                run_probabilities.append(_predict(model, eval_X[r]))
        seconds.append(time.perf_counter() - start)
        metrics.append(run_metrics)
        probabilities.append(run_probabilities)
        trained.append(_weights_of(model))
    return _runs_of(seeds, metrics, probabilities, seconds, trained, model, method)


def _runs_of(seeds, metrics, probabilities, seconds, trained, model, method):
    """`Runs` from per-seed lists, for the paths that train one seed after another.

    metrics: per seed, (loss, accuracy) of every step.
    """
    checkpoints = np.stack(probabilities, axis=1)
    metrics = np.array(metrics, dtype=np.float32)
    return Runs(
        seeds, metrics[..., 0], metrics[..., 1], checkpoints[-1], np.array(seconds),
        model.count_params(), method, trained, checkpoints,
    )


def _targets(outputs, y):
    """The labels as a model's outputs (or its predictions) take them: one copy for each head of
    a model with several (a Bidirectional layer with merge_mode=None and a head on each
    direction's outputs)."""
    return [y] * len(outputs) if isinstance(outputs, (list, tuple)) and len(outputs) > 1 else y


def _probabilities(y_pred):
    """P(y_t = 1) from a model's output: (..., T) for one head, (..., T, heads) for several,
    the heads in the order of the model's outputs."""
    if isinstance(y_pred, (list, tuple)):
        if len(y_pred) > 1:
            return keras.ops.concatenate(list(y_pred), axis=-1)
        y_pred = y_pred[0]
    return y_pred[..., 0]


def _accuracy(y_true, y_pred):
    """Keras's binary accuracy: the share of labels that P > 0.5 gets right (for a model with
    several heads, the mean over its heads)."""
    if isinstance(y_pred, (list, tuple)):
        return keras.ops.mean(keras.ops.stack([_accuracy(y_true, head) for head in y_pred]))
    predicted = keras.ops.cast(y_pred > 0.5, "float32")
    return keras.ops.mean(keras.ops.cast(predicted == keras.ops.cast(y_true, "float32"),
                                         "float32"))


def _predict(model, X):
    return keras.ops.convert_to_numpy(_probabilities(model.predict(X, batch_size=len(X),
                                                                   verbose=0)))


# ---------------------------------------------------------------- JAX: scan over steps, vmap over seeds

_jax_programs = {}

# XLA's backend optimisation level for the compiled JAX programs. They are small, and compiling
# them costs more than running them: at level 1 the merge-mode comparison's program compiles in
# about three quarters of the time of XLA's default level and runs no slower
# (`python -m bench.bench` measures both). The operations are the same; the equivalence tests hold at either level.
JAX_COMPILER_OPTIONS = {"xla_backend_optimization_level": 1}


def _model_key(model, *shapes):
    """Models with the same layers and optimizer share a compiled program, whatever their names."""
    config = re.sub(r'"name": "[^"]*"', "", model.to_json())
    optimizer = repr({k: v for k, v in model.optimizer.get_config().items() if k != "name"})
    return config, optimizer, shapes


def _jax_program_for(model, X_shape, eval_shape):
    """The compiled run for this model shape, built once and reused.

    One program trains every seed through a chunk of steps and predicts the held-out sequences
    with the weights it ends with: one compilation per model shape. When a run is split into
    chunks (to update a progress bar or to score checkpoints), every chunk's predictions come
    back. Returns (the jitted program, initial optimizer variables).
    """
    import jax

    key = _model_key(model, X_shape, eval_shape) + (repr(JAX_COMPILER_OPTIONS),)
    if key in _jax_programs:
        return _jax_programs[key]
    optimizer_initial = optimizer_state(model)
    metrics_variables = [v.value for v in model.metrics_variables]

    def step(state, batch):
        trainable, non_trainable, optimizer_variables = state
        x, y = batch

        def loss_fn(trainable):
            y_pred, new_non_trainable = model.stateless_call(
                trainable, non_trainable, x, training=True
            )
            loss, _ = model.stateless_compute_loss(
                trainable, new_non_trainable, metrics_variables, x=x, y=_targets(y_pred, y),
                y_pred=y_pred
            )
            return loss, (new_non_trainable, _accuracy(y, y_pred))

        (loss, (non_trainable, acc)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            trainable)
        trainable, optimizer_variables = model.optimizer.stateless_apply(
            optimizer_variables, grads, trainable
        )
        return (trainable, non_trainable, optimizer_variables), jax.numpy.stack([loss, acc])

    def train_and_predict(state, X, y, eval_X):
        state, metrics = jax.lax.scan(step, state, (X, y))
        trainable, non_trainable, _ = state
        probabilities = _probabilities(model.stateless_call(trainable, non_trainable, eval_X)[0])
        return state, metrics, probabilities

    program = (
        jax.jit(jax.vmap(train_and_predict), compiler_options=JAX_COMPILER_OPTIONS),
        optimizer_initial,
    )
    _jax_programs[key] = program
    return program


def _run_jax(model, seeds, X, y, eval_X, verbose, chunk):
    train_and_predict, optimizer_initial = _jax_program_for(
        model, (len(seeds), chunk) + X.shape[2:], eval_X.shape
    )
    # Every seed's initial weights, stacked on the host (jnp.stack would compile a small program
    # for every weight shape), in the order of the model's trainable and non-trainable variables.
    # Variables that are not weights (the state of a layer's seed generator) keep their values.
    position = {id(variable): i for i, variable in enumerate(model.weights)}
    initial = [weights.initial_weights(model, seed) for seed in seeds]

    def stacked(variables):
        return [np.stack([values[position[id(v)]] for values in initial]) if id(v) in position
                else np.stack([np.asarray(v)] * len(seeds))
                for v in variables]

    state = (
        stacked(model.trainable_variables),
        stacked(model.non_trainable_variables),
        [np.stack([value] * len(seeds)) for value in optimizer_initial],
    )
    progbar = _progbar(X.shape[1], verbose)
    start = time.perf_counter()
    metrics, checkpoints = [], []
    for begin in range(0, X.shape[1], chunk):
        state, chunk_metrics, probabilities = train_and_predict(
            state, X[:, begin : begin + chunk], y[:, begin : begin + chunk], eval_X
        )
        metrics.append(np.asarray(chunk_metrics))  # (seeds, chunk, [loss, acc])
        checkpoints.append(probabilities)
        if progbar:
            progbar.update(begin + chunk, [("loss", float(metrics[-1][..., 0].mean()))])
    checkpoints = np.stack([np.asarray(p) for p in checkpoints])
    seconds = (time.perf_counter() - start) / len(seeds)
    final = [np.asarray(a) for a in state[0] + state[1]]
    trained = [[a[r] for a in final] for r in range(len(seeds))]
    metrics = np.concatenate(metrics, axis=1)
    return Runs(
        seeds, metrics[..., 0], metrics[..., 1], checkpoints[-1], np.full(len(seeds), seconds),
        model.count_params(), "compiled", trained, checkpoints,
    )


# ---------------------------------------------------------------- TensorFlow: one XLA program per shape

_tf_programs = {}
_tf_programs_lock = threading.Lock()

# Steps per call of the TensorFlow program. XLA compiles one program per input shape, so a fixed
# chunk lets the 1,000-epoch and the 250-epoch runs of one model share a program (50 divides both,
# and the book's 5,000 steps); a progress bar moves once per chunk.
TF_CHUNK = 50


def _tf_programs_for(template, X_shape, eval_shape):
    """(model, train, predict, initial optimizer variables, lock) for this shape, built once.

    The compiled functions belong to the model object they were traced with, `template` the
    first time a shape is seen; later runs load their weights into that model, holding the lock.
    """
    key = _model_key(template, X_shape, eval_shape)
    with _tf_programs_lock:
        if key not in _tf_programs:
            _tf_programs[key] = _tf_programs_of(template)
        return _tf_programs[key]


def _tf_programs_of(template):
    import tensorflow as tf

    model = template
    optimizer_initial = optimizer_state(model)

    @tf.function(jit_compile=True)
    def train(X, y):
        metrics = tf.TensorArray(tf.float32, size=X.shape[0])
        for step in tf.range(X.shape[0]):
            x, y_true = X[step], y[step]
            with tf.GradientTape() as tape:
                y_pred = model(x, training=True)
                loss = model.compute_loss(x=x, y=_targets(y_pred, y_true), y_pred=y_pred,
                                          training=True)
            grads = tape.gradient(loss, model.trainable_variables)
            model.optimizer.apply(grads, model.trainable_variables)
            metrics = metrics.write(step, tf.stack([loss, _accuracy(y_true, y_pred)]))
        return metrics.stack()

    @tf.function(jit_compile=True)
    def predict(X):
        return _probabilities(model(X, training=False))

    # Runs of one shape share a model object: one at a time (models train in threads).
    return model, train, predict, optimizer_initial, threading.Lock()


def _run_tensorflow(model, seeds, X, y, eval_X, verbose, predict_every):
    import math

    chunk = math.gcd(predict_every, TF_CHUNK)
    model, train, predict, optimizer_initial, in_use = _tf_programs_for(
        model, (chunk,) + X.shape[2:], eval_X.shape[1:]
    )
    with in_use:
        return _run_tensorflow_seeds(model, train, predict, optimizer_initial, seeds, X, y,
                                     eval_X, verbose, chunk, predict_every)


def _run_tensorflow_seeds(model, train, predict, optimizer_initial, seeds, X, y, eval_X,
                          verbose, chunk, predict_every):
    metrics, probabilities, seconds, trained = [], [], [], []
    for r, seed in enumerate(seeds):
        reset(model, seed, optimizer_initial)
        progbar = _progbar(X.shape[1], verbose)
        start = time.perf_counter()
        run_metrics, run_probabilities = [], []
        for begin in range(0, X.shape[1], chunk):
            chunk_metrics = train(X[r, begin : begin + chunk], y[r, begin : begin + chunk])
            run_metrics.append(chunk_metrics.numpy())  # (chunk, [loss, acc])
            if progbar:
                progbar.update(begin + chunk, [("loss", float(run_metrics[-1][:, 0].mean()))])
            if (begin + chunk) % predict_every == 0:
                run_probabilities.append(predict(eval_X[r]).numpy())
        seconds.append(time.perf_counter() - start)
        metrics.append(np.concatenate(run_metrics))
        probabilities.append(run_probabilities)
        trained.append(_weights_of(model))
    return _runs_of(seeds, metrics, probabilities, seconds, trained, model, "compiled")
