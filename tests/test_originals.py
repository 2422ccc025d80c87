"""The originals' numbers: each quantity as Keras reports it, the count probabilities, the script."""

import math

import numpy as np
import pandas as pd
import pytest

import bilstm_classify
from experiments import originals
from cumsum_data import get_sequences
from suite import experiment, training

N_TIMESTEPS = 10


def _build():
    return bilstm_classify.build_model(N_TIMESTEPS, units=4)


@pytest.mark.backend
def test_per_epoch_loss_and_acc_are_what_fit_reports():
    """The tutorial's fit lines: the loss and acc of each epoch's sequence, before its update."""
    X, y = get_sequences(12, N_TIMESTEPS, rng=3)
    model = training.build_seeded(_build, 3)
    reported = [model.fit(X[i : i + 1], y[i : i + 1], epochs=1, batch_size=1, verbose=0).history
                for i in range(len(X))]
    eval_X = get_sequences(5, N_TIMESTEPS, rng=4)[0]
    runs = training.run_repeats(_build, [3], X[None], y[None], eval_X[None])
    np.testing.assert_allclose(runs.losses[0], [h["loss"][0] for h in reported], atol=1e-5)
    np.testing.assert_allclose(runs.accuracies[0], [h["acc"][0] for h in reported], atol=1e-6)


@pytest.mark.backend
def test_progress_bar_means_are_what_fit_reports_for_the_epoch():
    """The book's progress bar: loss and acc averaged over the epoch's batches of ten."""
    X, y = get_sequences(60, N_TIMESTEPS, rng=5)
    model = training.build_seeded(_build, 5)
    history = model.fit(X, y, epochs=1, batch_size=10, shuffle=False, verbose=0).history
    runs = training.run_repeats(_build, [5], X[None], y[None], X[None, :5], batch_size=10)
    assert runs.losses[0].mean() == pytest.approx(history["loss"][0], abs=1e-5)
    assert runs.accuracies[0].mean() == pytest.approx(history["acc"][0], abs=1e-6)


@pytest.mark.backend
def test_book_evaluation_is_keras_evaluate(tmp_path):
    from argparse import Namespace

    run_args = Namespace(seed=0, repeats=2, eval_sequences=100, timesteps=N_TIMESTEPS, quiet=True)
    results = experiment.train_models({"bilstm_book": _build}, run_args, n_sequences=20,
                                      batch_size=10, step_name="batch")
    evaluation = originals.book_evaluation(results, _build, run_args)
    from suite.book_chapter import book_sequences

    X, y = book_sequences(1, 110, N_TIMESTEPS)
    model = training.load_trained(_build, results.runs["bilstm_book"], 1)
    loss, acc = model.evaluate(X[:100], y[:100], verbose=0)
    assert evaluation.loc[1, "loss"] == pytest.approx(loss, abs=1e-6)
    assert evaluation.loc[1, "accuracy"] == pytest.approx(acc, abs=1e-6)
    right = ((model.predict(X[100:], verbose=0) > 0.5) == y[100:]).all(axis=(1, 2)).sum()
    assert evaluation.loc[1, "predictions_right"] == right


def test_count_probabilities_on_hand_made_accuracies():
    # Two seeds: one gets 90% of sequences right, the other 95%.
    accuracy = np.array([0.9, 0.95])
    assert originals.all_right_probability(accuracy, 100) == pytest.approx(
        (0.9**100 + 0.95**100) / 2)
    pmf = originals.binomial_pmf(10, accuracy)
    at_most_8 = [sum(math.comb(10, k) * a**k * (1 - a) ** (10 - k) for k in range(9))
                 for a in accuracy]
    np.testing.assert_allclose(pmf[:, :9].sum(axis=1), at_most_8)
    assert originals.tail_of_counts(pmf, 8) == pytest.approx(np.mean(at_most_8))
    # 10 of 10 is the top: its tail is the probability of 10 of 10 alone.
    assert originals.tail_of_counts(pmf, 10) == pytest.approx(np.mean(accuracy**10))
    together, most, at = originals.book_pair_probability(accuracy)
    assert together == pytest.approx(np.mean(accuracy**100 * np.array(at_most_8)))
    # s^100 P(at most 8 of 10) is largest where its derivative vanishes, near s = 0.981.
    assert at == pytest.approx(0.981, abs=0.002) and most < 0.003


def test_steps_right_distribution_by_hand():
    y = np.array([[[0, 0, 1, 1], [0, 1, 1, 1]]])
    probabilities = np.array([[[0.1, 0.2, 0.9, 0.9], [0.1, 0.1, 0.9, 0.9]]])  # 4 and 3 right
    distribution = originals.steps_right_distribution(probabilities, y)
    np.testing.assert_allclose(distribution, [[0, 0, 0, 0.5, 0.5]])


def test_placing_a_printed_number():
    values = np.linspace(0, 1, 41)
    row = originals.place("tutorial", "lstm", "x", 0.5, values)
    assert row["verdict"] == "typical" and row["percentile"] == pytest.approx(21 / 41)
    assert originals.place("tutorial", "lstm", "x", 1.5, values)["verdict"] == "unusual"
    assert originals.place("book", "b", "x", 0.5, values, probability=0.004)["verdict"] == "rare"
    # float32 accuracies equal to the printed 0.9
    assert originals.place("t", "s", "acc", 0.9, np.float32([0.9] * 5))["verdict"] == "typical"


@pytest.mark.slow  # a whole script run, compiling many models: make test-slow
def test_end_to_end_on_a_tiny_budget(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(originals, "time_book_fit", lambda backend, sequences: 1.0)
    table = originals.main(["--repeats", "2", "--epochs", "8", "--book-sequences", "20",
                            "--eval-sequences", "100", "--fit-backends", "tensorflow", "--quiet",
                            "--output-dir", str(tmp_path)])
    written = pd.read_csv(tmp_path / "results" / "originals.csv")
    assert list(written.columns) == ["source", "section", "quantity", "printed", "suite_mean",
                                     "suite_low", "suite_high", "percentile", "probability",
                                     "verdict"]
    assert len(written) == len(table) == 2 * 11 + 5
    assert set(written["verdict"]) <= {"typical", "unusual", "rare"}
    timing = pd.read_csv(tmp_path / "results" / "originals_book_timing.csv")
    assert timing["seconds"].iloc[0] == 97
    assert (tmp_path / "plots" / "originals.png").stat().st_size > 20_000
    assert "two outcomes together" in capsys.readouterr().out


@pytest.mark.parametrize("flags, named", [
    (["--book-sequences", "15"], "--book-sequences"),
    (["--eval-sequences", "50"], "--eval-sequences"),
    (["--fit-backends", "mxnet"], "--fit-backends"),
    (["--epochs", "4"], "--epochs"),
])
def test_bad_flags_exit_2_with_one_line(flags, named, assert_flag_error):
    assert_flag_error(originals.main, flags, named)
