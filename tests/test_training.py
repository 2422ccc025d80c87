"""The fast training paths do the same maths as the tutorial's fit-per-sequence loop."""

import keras
import numpy as np
import pytest

import bilstm_classify
from suite import experiment
import lstm_baseline
from suite import training
from cumsum_data import get_sequences

pytestmark = pytest.mark.backend

N_TIMESTEPS = 10


def _data(seeds, n_sequences, n_eval=50):
    return experiment.draw_repeats(seeds, n_sequences, n_eval, N_TIMESTEPS)


def _build_bilstm():
    return bilstm_classify.build_model(N_TIMESTEPS, units=8)


def test_default_path_equals_the_literal_fit_loop():
    X, y = get_sequences(25, N_TIMESTEPS, rng=5)
    literal = training.train_literal(training.build_seeded(_build_bilstm, 5), X, y)
    eval_X = get_sequences(10, N_TIMESTEPS, rng=6)[0]
    runs = training.run_repeats(_build_bilstm, [5], X[None], y[None], eval_X[None])
    np.testing.assert_allclose(runs.losses[0], literal, atol=1e-5)
    # The loss of epoch k is the loss before the k-th update: the first is the untrained model's.
    untrained = training.build_seeded(_build_bilstm, 5)
    first = untrained.evaluate(X[:1], y[:1], verbose=0)[0]
    assert runs.losses[0, 0] == pytest.approx(first, abs=1e-5)


def test_default_path_equals_the_literal_loop_over_300_steps():
    """300 steps of a BiLSTM with 2 units, long enough for rounding differences to grow.

    The reference is `model.train_on_batch` called once per sequence on a model built here: what
    `fit` does per batch, without fit's start-up cost. The `fit` loop itself takes about 40 s for
    300 steps on TensorFlow, too slow for a test; measured once, `train_literal` and this loop
    gave identical losses over these 300 steps (difference 0.0), and
    `test_default_path_equals_the_literal_fit_loop` compares the default path with `fit` itself.
    Measured on TensorFlow: the default path agrees with the reference within 1.2e-7.
    """
    def build():
        return bilstm_classify.build_model(N_TIMESTEPS, units=2)

    X, y = get_sequences(300, N_TIMESTEPS, rng=21)
    model = training.build_seeded(build, 21)
    reference = np.array([model.train_on_batch(X[i : i + 1], y[i : i + 1])[0]
                          for i in range(len(X))], dtype=np.float32)
    runs = training.run_repeats(build, [21], X[None], y[None], X[None, :5])
    np.testing.assert_allclose(runs.losses[0], reference, atol=1e-5)
    # It learnt on the way: late losses are well below the untrained model's.
    assert reference[-50:].mean() < reference[:10].mean() - 0.1


def test_compiled_path_equals_train_on_batch_path():
    if training.resolve_method("auto") != "compiled":
        pytest.skip(f"no compiled path on {keras.backend.backend()}")
    train_X, train_y, eval_X, eval_y = _data([0, 1], 40)
    compiled = training.run_repeats(_build_bilstm, [0, 1], train_X, train_y, eval_X,
                                    method="compiled")
    generic = training.run_repeats(_build_bilstm, [0, 1], train_X, train_y, eval_X,
                                   method="train_on_batch")
    np.testing.assert_allclose(compiled.losses, generic.losses, atol=1e-4)
    np.testing.assert_allclose(compiled.probabilities, generic.probabilities, atol=1e-4)
    # The trained weights score the held-out sequences the same either way.
    for left, right in zip(experiment.score(compiled.probabilities, eval_y),
                           experiment.score(generic.probabilities, eval_y)):
        np.testing.assert_allclose(left, right, atol=0.01)


def test_repeats_side_by_side_equal_repeats_one_by_one():
    seeds = [3, 4, 5]
    train_X, train_y, eval_X, _ = _data(seeds, 30)
    together = training.run_repeats(_build_bilstm, seeds, train_X, train_y, eval_X)
    for r, seed in enumerate(seeds):
        alone = training.run_repeats(_build_bilstm, [seed], train_X[r:r + 1], train_y[r:r + 1],
                                     eval_X[r:r + 1])
        np.testing.assert_allclose(together.losses[r], alone.losses[0], atol=1e-5)
        np.testing.assert_allclose(together.probabilities[r], alone.probabilities[0], atol=1e-5)
    # Different seeds really are different runs.
    assert not np.allclose(together.losses[0], together.losses[1])


def test_batches_of_ten_equal_fit_with_batch_size_ten():
    """20 steps of 10 sequences: the default path against one `fit(batch_size=10)` call per
    batch, the literal loop that gives each batch's own loss before its update. Measured on
    TensorFlow: the losses agree within 2.4e-7."""
    X, y = get_sequences(200, N_TIMESTEPS, rng=8)
    model = training.build_seeded(_build_bilstm, 8)
    literal = []
    for begin in range(0, 200, 10):
        history = model.fit(X[begin : begin + 10], y[begin : begin + 10], batch_size=10,
                            epochs=1, shuffle=False, verbose=0)
        literal.append(history.history["loss"][0])
    runs = training.run_repeats(_build_bilstm, [8], X[None], y[None], X[None, :5], batch_size=10)
    assert runs.losses.shape == (1, 20)
    np.testing.assert_allclose(runs.losses[0], literal, atol=1e-5)
    # The model learns over those steps, so an offset or a skipped update would show.
    assert np.abs(np.diff(literal)).max() > 1e-3


def test_same_seed_same_initial_weights_other_seed_other_weights():
    a = training.build_seeded(lstm_baseline.build_model, 11).get_weights()
    b = training.build_seeded(lstm_baseline.build_model, 11).get_weights()
    c = training.build_seeded(lstm_baseline.build_model, 12).get_weights()
    for left, right in zip(a, b):
        np.testing.assert_array_equal(left, right)
    assert not all(np.array_equal(left, right) for left, right in zip(a, c))


def test_sequences_must_fill_whole_batches():
    X, y = get_sequences(15, N_TIMESTEPS, rng=0)
    with pytest.raises(ValueError, match="multiple of the batch size"):
        training.run_repeats(_build_bilstm, [0], X[None], y[None], X[None], batch_size=10)


def test_trained_weights_reproduce_the_held_out_predictions():
    train_X, train_y, eval_X, _ = _data([2, 3], 20)
    runs = training.run_repeats(_build_bilstm, [2, 3], train_X, train_y, eval_X)
    for r in range(2):
        model = training.load_trained(_build_bilstm, runs, r)
        predicted = model.predict(eval_X[r], verbose=0)[..., 0]
        np.testing.assert_allclose(predicted, runs.probabilities[r], atol=1e-5)
    untrained = training.build_seeded(_build_bilstm, 2).predict(eval_X[0], verbose=0)[..., 0]
    assert not np.allclose(untrained, runs.probabilities[0], atol=1e-3)


@pytest.mark.parametrize("method", ["auto", "train_on_batch"])
def test_checkpoint_k_equals_a_run_on_the_first_k_batches(method):
    train_X, train_y, eval_X, _ = _data([4], 30)
    runs = training.run_repeats(_build_bilstm, [4], train_X, train_y, eval_X, batch_size=2,
                                method=method, checkpoint_every=5)
    np.testing.assert_array_equal(runs.checkpoint_steps, [5, 10, 15])
    assert runs.checkpoints.shape == (3,) + runs.probabilities.shape
    # The last checkpoint is what the trained weights predict, computed again by Keras.
    trained = training.load_trained(_build_bilstm, runs, 0).predict(eval_X[0], verbose=0)
    np.testing.assert_allclose(runs.checkpoints[-1, 0], trained[..., 0], atol=1e-5)
    shorter = training.run_repeats(_build_bilstm, [4], train_X[:, :20], train_y[:, :20], eval_X,
                                   batch_size=2, method=method)
    np.testing.assert_allclose(runs.checkpoints[1], shorter.probabilities, atol=1e-5)
    np.testing.assert_allclose(runs.losses[:, :10], shorter.losses, atol=1e-5)
    with pytest.raises(ValueError, match="must divide the steps"):
        training.run_repeats(_build_bilstm, [4], train_X, train_y, eval_X, batch_size=2,
                             checkpoint_every=4)


def test_models_trained_side_by_side_equal_models_trained_one_by_one():
    seeds = [0, 1]
    train_X, train_y, eval_X, _ = _data(seeds, 20)
    models = {"bilstm": _build_bilstm, "lstm": lambda: lstm_baseline.build_model(N_TIMESTEPS, 3)}

    def train(build_model):
        return training.run_repeats(build_model, seeds, train_X, train_y, eval_X)

    together = dict(experiment.trained_in_order(models, train, parallel=True))
    alone = dict(experiment.trained_in_order(models, train, parallel=False))
    assert list(together) == list(models)
    for name in models:
        np.testing.assert_array_equal(together[name].losses, alone[name].losses)
        np.testing.assert_array_equal(together[name].probabilities, alone[name].probabilities)
