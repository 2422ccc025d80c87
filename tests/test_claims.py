"""The statistics behind the verdicts, on hand-made data with known answers."""

import numpy as np
import pandas as pd
import pytest

from suite.claims import (Claim, bootstrap_ci, compare, epochs_to_reference, errors_by_flip_offset,
                    flip_steps, loss_auc, verdict)


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
        "model": ["a"] * 3 + ["b"] * 3,
        "seed": [0, 1, 2, 2, 1, 0],  # b's rows in another order: pairing is by seed
        "final_loss": [0.1, 0.2, 0.3, 0.5, 0.4, 0.3],
    })
    table = compare(summary, [Claim("a", "b", "final_loss"), Claim("a", "missing", "final_loss")])
    assert list(table.columns) == ["pair", "measure", "expected", "difference", "ci_low",
                                   "ci_high", "verdict"]
    assert len(table) == 1
    row = table.iloc[0]
    assert row["pair"] == "a - b" and row["expected"] == "lower"
    assert row["difference"] == pytest.approx(-0.2)
    assert row["ci_low"] == pytest.approx(-0.2) and row["verdict"] == "supported"
