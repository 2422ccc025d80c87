"""Facts about the data that can be checked by hand."""

import numpy as np
import pytest

from cumsum_data import (get_reshaped_sequence, get_sequence, get_sequences, limit_for,
                         position_reference)


def test_get_sequence_shapes_range_and_labels():
    X, y = get_sequence(10, rng=3)
    assert X.shape == y.shape == (10,)
    assert ((X >= 0) & (X < 1)).all()
    np.testing.assert_array_equal(y, (np.cumsum(X) >= 2.5).astype(int))


def test_get_sequences_shapes_and_dtypes():
    X, y = get_sequences(7, 12, rng=0)
    assert X.shape == y.shape == (7, 12, 1)
    assert X.dtype == np.float32
    assert np.issubdtype(y.dtype, np.integer)
    assert ((X >= 0) & (X < 1)).all()


def test_labels_flip_exactly_where_the_running_sum_reaches_the_limit():
    for n_timesteps in (1, 4, 10, 33):
        rng = np.random.default_rng(n_timesteps)
        draws = rng.random((500, n_timesteps))
        X, y = get_sequences(500, n_timesteps, np.random.default_rng(n_timesteps))
        np.testing.assert_allclose(X[..., 0], draws, rtol=1e-7)
        expected = np.cumsum(draws, axis=1) >= n_timesteps / 4
        np.testing.assert_array_equal(y[..., 0], expected)


def test_labels_never_fall_from_one_to_zero():
    _, y = get_sequences(2000, 20, rng=1)
    assert (np.diff(y[..., 0], axis=1) >= 0).all()
    assert set(np.unique(y)) <= {0, 1}


def test_limit_is_a_quarter_of_the_length():
    assert limit_for(10) == 2.5
    assert limit_for(7) == 1.75


def test_same_seed_same_sequences_and_generator_is_accepted():
    a = get_sequences(5, 10, rng=42)
    b = get_sequences(5, 10, rng=np.random.default_rng(42))
    for left, right in zip(a, b):
        np.testing.assert_array_equal(left, right)
    c = get_sequences(5, 10, rng=43)
    assert not np.array_equal(a[0], c[0])


def test_vectorised_form_equals_a_literal_loop_fed_the_same_draws():
    X, y = get_sequences(50, 10, rng=9)
    rng = np.random.default_rng(9)
    for i in range(50):
        X_one, y_one = get_sequence(10, rng)
        np.testing.assert_allclose(X[i, :, 0], X_one, rtol=1e-7)
        np.testing.assert_array_equal(y[i, :, 0], y_one)
        # The tutorial's own label rule, element by element.
        np.testing.assert_array_equal(y_one, [0 if s < 10 / 4.0 else 1 for s in np.cumsum(X_one)])


@pytest.mark.parametrize("bad", [0, -3, 2.5, "10", None, True])
def test_bad_sizes_raise_value_error_naming_the_argument(bad):
    with pytest.raises(ValueError, match="n_timesteps"):
        get_sequence(bad)
    with pytest.raises(ValueError, match="n_sequences"):
        get_sequences(bad, 10)
    with pytest.raises(ValueError, match="n_timesteps"):
        get_sequences(3, bad)


def test_position_reference_matches_a_large_sample():
    for n_timesteps in (1, 5, 10, 40):
        reference = position_reference(n_timesteps)
        _, y = get_sequences(100_000, n_timesteps, rng=0)
        y = y[..., 0]
        np.testing.assert_allclose(reference.p_one, y.mean(axis=0), atol=0.01)
        guess = reference.p_one >= 0.5
        assert abs(reference.step_accuracy - (y == guess).mean()) < 0.01
        assert abs(reference.sequence_accuracy - (y == guess).all(axis=1).mean()) < 0.01
        p = np.clip(reference.p_one, 1e-12, 1 - 1e-12)
        sample_loss = -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean()
        assert abs(reference.log_loss - sample_loss) < 0.01


def test_position_reference_by_hand_for_one_step():
    # One value, limit 0.25: P(y=1) = 0.75, so guessing 1 is right 75% of the time.
    reference = position_reference(1)
    np.testing.assert_allclose(reference.p_one, [0.75])
    assert reference.step_accuracy == pytest.approx(0.75)
    assert reference.sequence_accuracy == pytest.approx(0.75)
    assert reference.log_loss == pytest.approx(-(0.75 * np.log(0.75) + 0.25 * np.log(0.25)))


def test_reshaped_sequence_is_the_tutorials_fit_form_of_the_same_draws():
    X, y = get_sequence(10, rng=7)
    X3, y3 = get_reshaped_sequence(10, rng=7)
    assert X3.shape == (1, 10, 1) and y3.shape == (1, 10, 1)
    np.testing.assert_array_equal(X3[0, :, 0], X)
    np.testing.assert_array_equal(y3[0, :, 0], y)
