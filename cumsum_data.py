"""The cumulative-sum sequence classification problem.

Each sequence holds `n_timesteps` values drawn uniformly from [0, 1). The label at step t is 0
while the running sum of the values is below n_timesteps / 4 and 1 from the step where it reaches
that limit, so every label sequence reads 0 ... 0 1 ... 1.

    python cumsum_data.py            # print one sequence and its labels, as the tutorial does

`get_sequence` is the tutorial's first listing (1-D arrays); `get_reshaped_sequence` is its updated
form, shaped (1, n_timesteps, 1) for an LSTM, which the complete examples train on; `get_sequences`
draws many at once.

`position_reference(n_timesteps)` gives the reference every model must beat: the best predictor
that ignores the values and uses the position alone.
"""

import math
import numbers
from dataclasses import dataclass
from fractions import Fraction

import numpy as np


def _check_size(name, value):
    """Sizes must be integers of at least 1; anything else is the caller's mistake."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return int(value)


def limit_for(n_timesteps):
    """The running sum at which the label flips from 0 to 1."""
    return n_timesteps / 4.0


def get_sequence(n_timesteps, rng=None):
    """One sequence: X, y as 1-D arrays of length n_timesteps (the tutorial's first listing).

    `rng` is a numpy Generator or an int seed; None draws fresh randomness. For `model.fit`, use
    `get_reshaped_sequence`, the form of the tutorial's complete examples.
    """
    n_timesteps = _check_size("n_timesteps", n_timesteps)
    rng = np.random.default_rng(rng)
    X = rng.random(n_timesteps)
    y = (np.cumsum(X) >= limit_for(n_timesteps)).astype(np.int32)
    return X, y


def get_reshaped_sequence(n_timesteps, rng=None):
    """One sequence shaped (1, n_timesteps, 1), [samples, timesteps, features]: the tutorial's
    updated get_sequence, which its complete examples pass to `model.fit` one epoch at a time.

        X, y = get_reshaped_sequence(10)
        model.fit(X, y, epochs=1, batch_size=1, verbose=2)

    The same draws as `get_sequence` with the same `rng`, reshaped as the tutorial does.
    """
    X, y = get_sequence(n_timesteps, rng)
    return X.reshape(1, len(X), 1), y.reshape(1, len(y), 1)


def get_sequences(n_sequences, n_timesteps, rng=None):
    """Many sequences at once, shaped [samples, timesteps, features] for an LSTM.

    Returns X float32 (n_sequences, n_timesteps, 1) and y int32 of the same shape. The values are
    drawn in the same order as `n_sequences` calls of `get_sequence` on one generator would draw
    them, and the labels are computed on the float64 draws, so both forms agree exactly.
    """
    n_sequences = _check_size("n_sequences", n_sequences)
    n_timesteps = _check_size("n_timesteps", n_timesteps)
    rng = np.random.default_rng(rng)
    X = rng.random((n_sequences, n_timesteps))
    y = (np.cumsum(X, axis=1) >= limit_for(n_timesteps)).astype(np.int32)
    return X.astype(np.float32)[..., None], y[..., None]


def _irwin_hall_cdf(x, n):
    """P(U_1 + ... + U_n <= x) for n independent uniforms on [0, 1), in exact arithmetic."""
    if x <= 0:
        return Fraction(0)
    if x >= n:
        return Fraction(1)
    total = sum(
        (-1) ** k * math.comb(n, k) * (x - k) ** n for k in range(math.floor(x) + 1)
    )
    return total / math.factorial(n)


@dataclass(frozen=True)
class PositionReference:
    """The best predictor that sees only the position t, never the values."""

    p_one: np.ndarray  # P(y_t = 1) for each position t
    step_accuracy: float  # per-timestep accuracy of predicting y_t = [p_one[t] >= 0.5]
    sequence_accuracy: float  # chance that every label of a sequence is predicted right
    log_loss: float  # mean binary cross-entropy of predicting p_one[t] at every step


def position_reference(n_timesteps):
    """Exact position-only reference for sequences of length n_timesteps.

    y_t = 1 exactly when the sum of the first t + 1 uniforms reaches n_timesteps / 4, so
    P(y_t = 1) = 1 - IrwinHall_{t+1}(n_timesteps / 4), computed with rational arithmetic.
    """
    n_timesteps = _check_size("n_timesteps", n_timesteps)
    limit = Fraction(n_timesteps, 4)
    p_one = np.array(
        [float(1 - _irwin_hall_cdf(limit, t + 1)) for t in range(n_timesteps)]
    )
    p_zero = 1.0 - p_one
    step_accuracy = float(np.mean(np.maximum(p_one, p_zero)))
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -(
            np.where(p_one > 0, p_one * np.log(p_one), 0.0)
            + np.where(p_zero > 0, p_zero * np.log(p_zero), 0.0)
        )
    # The position-only guess is a step 0...0 1...1 flipping at the first t with p_one >= 0.5; it
    # is right for the whole sequence exactly when the true flip happens at that step.
    guess = p_one >= 0.5
    flip = int(np.argmax(guess)) if guess.any() else n_timesteps
    p_before = p_one[flip - 1] if flip > 0 else 0.0
    p_at = p_one[flip] if flip < n_timesteps else 1.0
    return PositionReference(
        p_one=p_one,
        step_accuracy=step_accuracy,
        sequence_accuracy=float(p_at - p_before),
        log_loss=float(np.mean(entropy)),
    )


if __name__ == "__main__":
    X, y = get_sequence(10, rng=1)
    print(X)
    print(y)
