"""The statistics behind the verdicts, on hand-made data with known answers."""

import numpy as np
import pandas as pd
import pytest

from suite.claims import (Claim, bootstrap_ci, compare, epochs_to_reference,
                          errors_by_flip_offset, first_supported, flip_steps, loss_auc, verdict)


def test_bootstrap_of_a_constant_difference_is_that_constant():
    assert bootstrap_ci(np.full(30, 0.25)) == pytest.approx((0.25, 0.25, 0.25))


def test_bootstrap_interval_covers_the_known_mean_and_shrinks_with_more_seeds():
    rng = np.random.default_rng(0)
    small = rng.normal(0.5, 1.0, size=30)
    large = rng.normal(0.5, 1.0, size=3000)
    mean, low, high = bootstrap_ci(large)
    assert low < 0.5 < high
    assert high - low == pytest.approx(2 * 1.96 / np.sqrt(3000), rel=0.15)
    _, small_low, small_high = bootstrap_ci(small)
    assert small_high - small_low > high - low


def test_bootstrap_interval_of_mixed_signs_holds_zero():
    _, low, high = bootstrap_ci([-1.0, 1.0] * 15)
    assert low < 0 < high


def test_verdicts_follow_from_the_interval():
    assert verdict(-0.3, -0.1) == "supported"
    assert verdict(0.1, 0.3) == "not supported"
    assert verdict(-0.1, 0.1) == "inconclusive"
    assert verdict(0.01, 0.02, lower_is_better=False) == "supported"
    assert verdict(-0.01, 0.01, "similar") == "supported"
    assert verdict(0.03, 0.05, "similar") == "not supported"
    assert verdict(-0.01, 0.05, "similar") == "inconclusive"
    with pytest.raises(ValueError):
        verdict(0, 1, "bigger")


def test_learning_speed_on_a_synthetic_loss_curve():
    # A loss that falls linearly from 1.0 by 0.01 per epoch crosses 0.5 after about 50 epochs.
    losses = 1.0 - 0.01 * np.arange(200)
    crossing = epochs_to_reference(losses, 0.5, window=1)
    assert crossing == 52  # loss 0.49 at epoch 52, the first below 0.5
    # A rolling mean lags a falling curve by half its window.
    assert epochs_to_reference(losses, 0.5, window=25) == crossing + 12
    # A run that never gets below the reference counts as one epoch past the end.
    assert epochs_to_reference(np.ones(100), 0.5) == 101
    both = epochs_to_reference(np.stack([losses, np.ones(200)]), 0.5, window=1)
    np.testing.assert_array_equal(both, [52, 201])
    assert loss_auc([1.0, 0.0, 0.5]) == pytest.approx(0.5)


def test_flip_position_errors_on_a_hand_built_example():
    y = np.array([[0, 0, 1, 1, 1],
                  [0, 1, 1, 1, 1],
                  [0, 0, 0, 0, 0]])  # the last one never flips and is left out
    predicted = np.array([[0, 1, 1, 1, 1],  # one step early: wrong at offset -1
                          [0, 0, 1, 1, 1],  # one step late: wrong at offset 0
                          [1, 1, 1, 1, 1]])
    np.testing.assert_array_equal(flip_steps(y), [2, 1, 5])
    rates, counts = errors_by_flip_offset(predicted.astype(float), y, offsets=np.arange(-2, 3))
    # Offsets -2 .. 2: sequence 0 has steps at offsets -2..2, sequence 1 at -1..2.
    np.testing.assert_array_equal(counts, [1, 2, 2, 2, 2])
    np.testing.assert_allclose(rates, [0.0, 0.5, 0.5, 0.0, 0.0])
    rates, counts = errors_by_flip_offset(predicted.astype(float), y, offsets=np.array([-4]))
    assert counts[0] == 0 and np.isnan(rates[0])


def test_compare_pairs_models_seed_by_seed():
    summary = pd.DataFrame({
        "model": ["a"] * 6 + ["b"] * 6,
        "seed": [0, 1, 2, 3, 4, 5, 5, 4, 3, 2, 1, 0],  # b's rows in another order: by seed
        "final_loss": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3],
    })
    table = compare(summary, [Claim("a", "b", "final_loss"), Claim("a", "missing", "final_loss")])
    assert list(table.columns) == ["pair", "measure", "expected", "difference", "ci_low",
                                   "ci_high", "verdict"]
    assert len(table) == 1
    row = table.iloc[0]
    assert row["pair"] == "a - b" and row["expected"] == "lower"
    assert row["difference"] == pytest.approx(-0.2)
    assert row["ci_low"] == pytest.approx(-0.2) and row["verdict"] == "supported"


def _paired(differences, measure, base=0.5):
    """Per-seed rows of models "a" and "b" whose paired difference a - b is `differences`."""
    differences = np.asarray(differences, dtype=float)
    seeds = np.arange(len(differences))
    return pd.DataFrame({"model": ["a"] * len(seeds) + ["b"] * len(seeds),
                         "seed": np.concatenate([seeds, seeds]),
                         measure: np.concatenate([base + differences, np.full(len(seeds), base)])})


# 30 seeds each: a shift plus a spread of +-0.01, whose 95% bootstrap interval is the shift
# +-0.004, or a spread of +-0.1, whose interval is about [-0.036, +0.036].
NARROW = np.tile([-0.01, 0.01], 15)
WIDE = np.tile([-0.1, 0.1], 15)


@pytest.mark.parametrize("measure, differences, want", [
    # final_loss: lower is better, so a - b below zero supports "a is better".
    ("final_loss", -0.1 + NARROW, "supported"),
    ("final_loss", +0.1 + NARROW, "not supported"),
    ("final_loss", WIDE, "inconclusive"),
    # step_accuracy: higher is better, so the same intervals give the opposite verdicts.
    ("step_accuracy", +0.1 + NARROW, "supported"),
    ("step_accuracy", -0.1 + NARROW, "not supported"),
    ("step_accuracy", WIDE, "inconclusive"),
], ids=[f"{side}-is-better-{verdict}" for side in ("lower", "higher")
        for verdict in ("supported", "not-supported", "inconclusive")])
def test_better_claims_get_every_verdict_on_either_side(measure, differences, want):
    row = compare(_paired(differences, measure), [Claim("a", "b", measure)]).iloc[0]
    assert row["expected"] == ("lower" if measure == "final_loss" else "higher")
    assert row["difference"] == pytest.approx(np.mean(differences))
    assert row["ci_low"] <= row["difference"] <= row["ci_high"]
    assert row["ci_high"] - row["ci_low"] < (0.01 if np.ptp(differences) < 0.1 else 0.1)
    assert row["verdict"] == want


@pytest.mark.parametrize("differences, want", [
    (NARROW / 2, "supported"),  # an interval around zero, well inside +-0.02
    (0.1 + NARROW, "not supported"),  # wholly outside the margin
    (-0.1 + NARROW, "not supported"),
    (WIDE, "inconclusive"),  # holds zero but reaches beyond the margin
    (0.02 + NARROW, "inconclusive"),  # excludes zero but straddles the margin's edge
], ids=["around_zero", "above_margin", "below_margin", "holds_zero_wide", "straddles_margin"])
def test_similar_claims_get_every_verdict(differences, want):
    row = compare(_paired(differences, "final_loss"),
                  [Claim("a", "b", "final_loss", "similar")]).iloc[0]
    assert row["expected"] == "similar" and row["verdict"] == want


def test_a_small_difference_inside_the_margin_is_similar_even_when_it_excludes_zero():
    """The rule is an equivalence test: the margin is the size of a difference that does not
    matter, so an interval inside +-margin is "similar" even when it excludes zero (many seeds
    can show a real difference smaller than the margin), and only an interval wholly beyond the
    margin refutes the claim; one that excludes zero but crosses the margin's edge is
    inconclusive."""
    row = compare(_paired(0.01 + NARROW / 2.5, "final_loss"),
                  [Claim("a", "b", "final_loss", "similar")]).iloc[0]
    assert 0 < row["ci_low"] and row["ci_high"] < 0.02
    assert row["verdict"] == "supported"
    assert verdict(0.001, 0.02, "similar") == "supported"  # the margin's edge counts as inside
    assert verdict(0.001, 0.0201, "similar") == "inconclusive"
    assert verdict(0.0201, 0.05, "similar") == "not supported"
    assert verdict(-0.05, -0.0201, "similar") == "not supported"
    assert verdict(-0.03, -0.001, "similar") == "inconclusive"


def _per_epoch(advantage):
    """Held-out rows of "a", "b" and "c" at epochs 10, 20, ..., 80 for 30 seeds each: a's
    step_accuracy minus b's is advantage[epoch] + NARROW (or WIDE where advantage is None); a's
    sequence_accuracy is 0.1 above b's from epoch 20 on. c equals b, plus WIDE."""
    rows = []
    for epoch in range(10, 90, 10):
        shift = advantage[epoch]
        step_a = 0.8 + (WIDE if shift is None else shift + NARROW)
        sequence_a = 0.3 + (0.1 + NARROW if epoch >= 20 else WIDE)
        for model, step, sequence in [("a", step_a, sequence_a), ("b", np.full(30, 0.8),
                                                                 np.full(30, 0.3)),
                                      ("c", 0.8 + WIDE, 0.3 + WIDE)]:
            rows += [{"model": model, "seed": seed, "epoch": epoch, "step_accuracy": step[seed],
                      "sequence_accuracy": sequence[seed]} for seed in range(30)]
    return pd.DataFrame(rows)


def test_first_supported_epoch_and_whether_it_lasts():
    # a better than b on step accuracy from epoch 30, except a dip below b at epoch 50.
    advantage = {10: None, 20: None, 30: 0.1, 40: 0.1, 50: -0.1, 60: 0.1, 70: 0.1, 80: 0.1}
    claims_to_test = [Claim("a", "b", "final_loss"), Claim("a", "b", "loss_auc"),  # one pair
                      Claim("c", "b", "final_loss"),
                      Claim("a", "c", "final_loss", "similar")]  # not a "better" claim: left out
    table = first_supported(_per_epoch(advantage), claims_to_test)
    assert list(table.columns) == ["pair", "measure", "first_supported_epoch",
                                   "supported_from_then_on", "verdict_at_end"]
    rows = {(row.pair, row.measure): row for row in table.itertuples(index=False)}
    assert list(rows) == [("a - b", "step_accuracy"), ("a - b", "sequence_accuracy"),
                          ("c - b", "step_accuracy"), ("c - b", "sequence_accuracy")]
    dip = rows["a - b", "step_accuracy"]
    assert dip.first_supported_epoch == 30 and not dip.supported_from_then_on
    assert dip.verdict_at_end == "supported"
    steady = rows["a - b", "sequence_accuracy"]
    assert steady.first_supported_epoch == 20 and steady.supported_from_then_on
    never = rows["c - b", "step_accuracy"]
    assert np.isnan(never.first_supported_epoch) and not never.supported_from_then_on
    assert never.verdict_at_end == "inconclusive"
    # Without the dip it lasts; with the advantage lost at the end, the verdict at the end says so.
    lasting = first_supported(_per_epoch({**advantage, 50: 0.1}), claims_to_test[:1])
    assert lasting.iloc[0]["supported_from_then_on"]
    lost = first_supported(_per_epoch({**advantage, 80: -0.1}), claims_to_test[:1])
    assert lost.iloc[0]["verdict_at_end"] == "not supported"
    assert lost.iloc[0]["first_supported_epoch"] == 30
    # The step column is named after what the rows count.
    by_checkpoint = first_supported(_per_epoch(advantage).rename(columns={"epoch": "checkpoint"}),
                                    claims_to_test[:1], step_name="checkpoint")
    assert by_checkpoint.iloc[0]["first_supported_checkpoint"] == 30


def test_a_measures_direction_is_read_from_its_name():
    from suite.claims import lower_is_better

    for measure in ("final_loss", "test_loss", "test_rmse", "test_mae", "test_mase"):
        assert lower_is_better(measure), measure
    for measure in ("step_accuracy", "unseen_accuracy", "wsj_accuracy"):
        assert not lower_is_better(measure), measure
    with pytest.raises(KeyError, match="train_seconds"):
        lower_is_better("train_seconds")
