"""Stacked and two-headed BiLSTMs (experiments/stacked_and_unmerged.py): with a head on each
direction, each half trains as a one-direction model alone would; the wide BiLSTM has the
stacked one's weights, near enough; the training paths agree for the new models."""

import numpy as np
import pandas as pd
import pytest

import lstm_baseline
from cumsum_data import get_sequences
from experiments import stacked_and_unmerged
from suite import experiment, heads, training
from suite.model_size import matching_units


def test_matching_units_by_hand():
    def ten_per_unit(units):
        return 10 * units

    assert matching_units(ten_per_unit, 57, start=2) == 6  # 60 is 3 away, 50 is 7
    assert matching_units(ten_per_unit, 53, start=2) == 5
    assert matching_units(ten_per_unit, 55, start=2) == 5  # a tie: the smaller
    assert matching_units(ten_per_unit, 15, start=4) == 4  # already past the target


def test_the_wide_bilstm_has_the_stacked_ones_weights_nearest():
    """At the tutorial's 20 units: two BiLSTMs hold 13,321 weights; one BiLSTM of 40 units
    13,521, the nearest count (39 units: 12,871; 41: 14,187)."""
    import bilstm_classify

    stacked = stacked_and_unmerged.build_stacked(10, 20).count_params()
    units = stacked_and_unmerged.wide_units(10, 20)
    counts = {u: bilstm_classify.build_model(10, u).count_params() for u in (39, 40, 41)}
    assert (stacked, units, counts) == (13_321, 40, {39: 12_871, 40: 13_521, 41: 14_187})


def test_the_heads_are_read_by_hand():
    probabilities = np.array([[0.2, 0.6], [0.9, 0.7]])
    rows = heads.scored("bilstm_none", probabilities)
    assert list(rows) == ["bilstm_none_forw", "bilstm_none_back", "bilstm_none_ave"]
    np.testing.assert_allclose(rows["bilstm_none_forw"], [0.2, 0.9])
    np.testing.assert_allclose(rows["bilstm_none_back"], [0.6, 0.7])
    np.testing.assert_allclose(rows["bilstm_none_ave"], [0.4, 0.8])
    assert heads.scored("bilstm_con", probabilities)["bilstm_con"] is probabilities
    assert heads.row_names("lstm_forw") == ["lstm_forw"]


def trained_heads(optimizer):
    """The two-headed model and a lone forward LSTM from the same weights, trained with
    `optimizer` on the same 20 sequences: the forward head's held-out predictions, the lone
    LSTM's, an untrained one's, and the backward head's."""
    X, y = get_sequences(20, 10, rng=4)
    eval_X = get_sequences(20, 10, rng=5)[0]
    two_heads = training.build_seeded(lambda: stacked_and_unmerged.build_two_heads(10, 4), 0)
    two_heads.compile(loss=["binary_crossentropy"] * 2, optimizer=optimizer)
    bidirectional = next(layer for layer in two_heads.layers
                         if hasattr(layer, "forward_layer"))
    forward = bidirectional.forward_layer.weights  # kernel, recurrent kernel, bias
    initial = [np.asarray(v) for v in forward + two_heads.get_layer("forward_head").weights]
    alone, untrained = lstm_baseline.build_model(10, 4), lstm_baseline.build_model(10, 4)
    alone.set_weights(initial)
    untrained.set_weights(initial)
    for i in range(len(X)):
        two_heads.train_on_batch(X[i : i + 1], [y[i : i + 1], y[i : i + 1]])
        alone.train_on_batch(X[i : i + 1], y[i : i + 1])
    forward_head, backward_head = (np.asarray(p) for p in two_heads.predict_on_batch(eval_X))
    return (forward_head, np.asarray(alone.predict_on_batch(eval_X)),
            np.asarray(untrained.predict_on_batch(eval_X)), backward_head)


def test_the_forward_head_trains_as_a_forward_lstm_alone():
    """Keras adds the two heads' losses, so the forward LSTM's gradient comes from the forward
    head alone: started from the same weights and fed the same sequences, the two-headed model's
    forward head and the tutorial's forward LSTM give the same predictions after 20 Adam steps.
    Keras's maths, the same on every backend: run on the default one."""
    forward_head, alone, untrained, backward_head = trained_heads("adam")
    np.testing.assert_allclose(forward_head, alone, atol=1e-5)
    # They learnt on the way, and the backward head is another model.
    assert not np.allclose(forward_head, untrained, atol=1e-3)
    assert not np.allclose(forward_head, backward_head, atol=1e-3)


@pytest.mark.slow  # the test above can fail: make test-slow
def test_an_optimizer_that_clips_all_the_weights_together_couples_the_halves():
    """Clipping the gradient of all the weights together (global_clipnorm, small enough to clip)
    couples the two halves, and the forward head no longer trains as it would alone."""
    import keras

    forward_head, alone, _, _ = trained_heads(keras.optimizers.Adam(global_clipnorm=0.05))
    assert not np.allclose(forward_head, alone, atol=1e-4)


@pytest.mark.backend
def test_every_training_path_trains_two_heads_alike_and_their_loss_is_the_sum():
    """One label array serves both heads: the compiled path (where the backend has one), the
    tutorial's literal `fit` per sequence and train_on_batch give the same losses, accuracies
    and per-head probabilities; the first step's loss, taken before the update, is the two heads'
    binary cross-entropies added."""
    def build():
        return stacked_and_unmerged.build_two_heads(10, 3)

    seeds = [0, 1]
    train_X, train_y, eval_X, _ = experiment.draw_repeats(seeds, 6, 8, 10)
    generic = training.run_repeats(build, seeds, train_X, train_y, eval_X,
                                   method="train_on_batch")
    assert generic.probabilities.shape == (2, 8, 10, 2)  # seeds, sequences, steps, heads
    others = [training.run_repeats(build, seeds[:1], train_X[:1], train_y[:1], eval_X[:1],
                                   method="literal")]
    if training.resolve_method("auto") == "compiled":
        others.append(training.run_repeats(build, seeds, train_X, train_y, eval_X,
                                           method="compiled"))
    for other in others:
        n = len(other.seeds)
        np.testing.assert_allclose(other.losses, generic.losses[:n], atol=1e-5)
        np.testing.assert_allclose(other.accuracies, generic.accuracies[:n], atol=1e-6)
        np.testing.assert_allclose(other.probabilities, generic.probabilities[:n], atol=1e-5)
    heads = [np.clip(np.asarray(p)[0, :, 0], 1e-7, 1 - 1e-7)
             for p in training.build_seeded(build, 0).predict_on_batch(train_X[0, :1])]
    labels = train_y[0, 0, :, 0]
    by_hand = sum(-np.mean(labels * np.log(p) + (1 - labels) * np.log(1 - p)) for p in heads)
    assert generic.losses[0, 0] == pytest.approx(by_hand, abs=1e-5)


@pytest.mark.slow
def test_a_small_run_writes_its_tables(tmp_path):
    stacked_and_unmerged.main(["--repeats", "2", "--epochs", "20", "--heldout-every", "10",
                               "--eval-sequences", "20", "--quiet", "--output-dir",
                               str(tmp_path)])
    results = tmp_path / "results"
    heldout = pd.read_csv(results / "stacked_and_unmerged_heldout.csv")
    rows = ["lstm_forw", "bilstm_con", "bilstm_con_stacked", "bilstm_con_wide",
            "bilstm_none_forw", "bilstm_none_back", "bilstm_none_ave"]
    assert list(heldout["model"].unique()) == rows
    assert sorted(heldout["epoch"].unique()) == [10, 20]
    summary = pd.read_csv(results / "stacked_and_unmerged_summary.csv")
    last = heldout[heldout["epoch"] == 20].reset_index(drop=True)
    np.testing.assert_allclose(summary["step_accuracy"], last["step_accuracy"])
    np.testing.assert_allclose(summary["heldout_loss"], last["loss"])
    assert set(summary.loc[summary["model"].str.startswith("bilstm_none"), "params"]) == {
        4 * (20 * 21 + 20) * 2 + 2 * 21}
    comparison = pd.read_csv(results / "stacked_and_unmerged_comparison.csv")
    assert len(comparison) == len(stacked_and_unmerged.CLAIMS)
    assert (tmp_path / "plots" / "stacked_and_unmerged.png").is_file()
