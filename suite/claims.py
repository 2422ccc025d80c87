"""Measures, paired bootstrap intervals and verdicts for the tutorial's claims.

Every model of a comparison is trained once per seed on that seed's sequences, so two models are
compared seed by seed: the difference of a measure is taken within each seed and its mean gets a
percentile bootstrap 95% confidence interval over seeds. A verdict follows from the interval alone:

- "better" claims (e.g. lower final loss): supported if the whole interval lies on the claimed
  side of zero, not supported if it lies wholly on the other side, inconclusive if it holds zero;
- "similar" claims, an equivalence test with the margin as the size of a difference that does
  not matter: supported if the whole interval lies within +-margin, not supported if it lies
  wholly beyond it (the models surely differ by more than the margin), inconclusive otherwise.
  A real but small difference, an interval inside the margin that excludes zero, is "similar";
  an interval that excludes zero but reaches past the margin is inconclusive, not a refutation.
- with fewer than MIN_SEEDS seeds, no verdict: "too few seeds".

Why a minimum: a percentile bootstrap interval of n paired differences that all share a sign
lies wholly on that side of zero, whatever their size. With no real difference between two
models each sign is a coin toss, so n differences share one with probability 2 * 0.5**n: above
the 5% an interval of 95% allows for n <= 5 (6.25% for 5 seeds, 100% for one). From 6 seeds on
(3.1%), an interval that excludes zero means what it says.
"""

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

N_BOOTSTRAP = 10_000
CONFIDENCE = 0.95
# The fewest seeds whose differences all share a sign less often than the interval's error rate
# when the models do not differ (see the module docstring): 6.
MIN_SEEDS = next(n for n in itertools.count(1) if 2 * 0.5**n < 1 - CONFIDENCE)
TOO_FEW = "too few seeds"
ROLLING_WINDOW = 25  # epochs in the rolling mean of the per-sequence loss
SIMILAR_MARGIN = 0.02  # difference in log loss (or accuracy) small enough to call "similar"
FLIP_OFFSETS = np.arange(-5, 6)

# Measures and the direction in which each one is better; any other measure by the end of its
# name (`lower_is_better`): a loss or an error (the text scripts' test_loss, the forecasts'
# test_rmse, test_mae, test_mase) lower, an accuracy (unseen_accuracy, ...) higher.
LOWER_IS_BETTER = {"final_loss": True, "loss_auc": True, "epochs_to_reference": True,
                   "heldout_loss": True, "step_accuracy": False, "sequence_accuracy": False}
ERRORS = ("loss", "rmse", "mae", "mase")


def lower_is_better(measure):
    """Whether a lower value of `measure` is the better one."""
    if measure in LOWER_IS_BETTER:
        return LOWER_IS_BETTER[measure]
    if measure.endswith(ERRORS) or measure.endswith("accuracy"):
        return measure.endswith(ERRORS)
    raise KeyError(f"no direction known for the measure {measure!r}: name it *_loss, *_rmse, "
                   "*_mae, *_mase or *_accuracy, or add it to LOWER_IS_BETTER")


@dataclass(frozen=True)
class Claim:
    """`first` compared with `second` on `measure`: expected "better" or "similar"."""

    first: str
    second: str
    measure: str
    expected: str = "better"

    @property
    def pair(self):
        return f"{self.first} - {self.second}"


# ---------------------------------------------------------------- measures of one run


def rolling_mean(values, window=ROLLING_WINDOW):
    """Trailing rolling mean along the last axis (shorter windows at the start)."""
    frame = pd.DataFrame(np.atleast_2d(values).T)
    return frame.rolling(window, min_periods=1).mean().to_numpy().T


def loss_auc(losses):
    """Area under the per-epoch loss curve divided by the epochs: the mean loss over training."""
    return np.asarray(losses, dtype=float).mean(axis=-1)


def epochs_to_reference(losses, reference_loss, window=ROLLING_WINDOW):
    """First epoch (1-based) at which the rolling-mean loss falls below `reference_loss`.

    A run that never gets there counts as epochs + 1, so slower runs always compare as slower.
    """
    smoothed = rolling_mean(losses, window)
    below = smoothed < reference_loss
    first = np.where(below.any(axis=-1), below.argmax(axis=-1) + 1, smoothed.shape[-1] + 1)
    return first if np.ndim(losses) > 1 else int(first[0])


def heldout_log_loss(probabilities, y):
    """Mean binary cross-entropy of held-out probabilities over sequences and steps (last two axes)."""
    p = np.clip(probabilities, 1e-7, 1 - 1e-7)
    return -np.where(np.asarray(y).astype(bool), np.log(p), np.log(1 - p)).mean(axis=(-2, -1))


def first_supported(per_epoch, claims_to_test, step_name="epoch",
                    measures=("step_accuracy", "sequence_accuracy")):
    """For each pair a "better" claim compares, on each held-out label measure: the first
    checkpoint at which the advantage is supported, and whether it stays supported at every
    later one. per_epoch: tidy rows (model, seed, epoch, step_accuracy, ...)."""
    pairs = dict.fromkeys((c.first, c.second) for c in claims_to_test if c.expected == "better")
    rows = []
    for claim in [Claim(first, second, measure) for first, second in pairs
                  for measure in measures]:
        verdicts = {}
        for epoch, table in per_epoch.groupby(step_name):
            comparison = compare(table, [claim])
            if len(comparison):
                verdicts[epoch] = comparison["verdict"].iloc[0]
        if not verdicts:
            continue
        epochs = sorted(verdicts)
        supported = [e for e in epochs if verdicts[e] == "supported"]
        first = supported[0] if supported else np.nan
        rows.append({"pair": claim.pair, "measure": claim.measure,
                     f"first_supported_{step_name}": first,
                     "supported_from_then_on": bool(supported) and all(
                         verdicts[e] == "supported" for e in epochs if e >= first),
                     "verdict_at_end": verdicts[epochs[-1]]})
    return pd.DataFrame(rows)


def flip_steps(y):
    """Index of the first label 1 in each sequence (n_timesteps when it never flips)."""
    y = np.asarray(y).astype(bool)
    return np.where(y.any(axis=-1), y.argmax(axis=-1), y.shape[-1])


def errors_by_flip_offset(probabilities, y, offsets=FLIP_OFFSETS):
    """Held-out error rate at each position relative to the sequence's true flip step.

    probabilities, y: (..., sequences, n_timesteps). Returns (error_rate, count), each shaped
    (..., len(offsets)); error_rate is NaN where no sequence has a step at that offset.
    """
    probabilities = np.asarray(probabilities)
    y = np.asarray(y).astype(bool)
    wrong = (probabilities > 0.5) != y
    n_timesteps = y.shape[-1]
    flips = flip_steps(y)[..., None]  # (..., sequences, 1)
    offset_of_step = np.arange(n_timesteps) - flips  # (..., sequences, n_timesteps)
    errors, counts = [], []
    for offset in offsets:
        at = (offset_of_step == offset) & (flips < n_timesteps)
        counts.append(at.sum(axis=(-2, -1)))
        errors.append((wrong & at).sum(axis=(-2, -1)))
    counts = np.stack(counts, axis=-1)
    errors = np.stack(errors, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, errors / np.maximum(counts, 1), np.nan), counts


# ---------------------------------------------------------------- intervals and verdicts


def bootstrap_ci(differences, confidence=CONFIDENCE, n_bootstrap=N_BOOTSTRAP, rng=0):
    """Mean of `differences` and its percentile bootstrap interval (resampling the values)."""
    differences = np.asarray(differences, dtype=float)
    rng = np.random.default_rng(rng)
    resampled = rng.choice(differences, size=(n_bootstrap, len(differences)), replace=True)
    means = resampled.mean(axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(differences.mean()), float(low), float(high)


def verdict(low, high, expected="better", lower_is_better=True, margin=SIMILAR_MARGIN):
    """What the interval [low, high] of (first - second) says about the claim."""
    if expected == "similar":
        if -margin <= low and high <= margin:
            return "supported"
        if low > margin or high < -margin:
            return "not supported"
        return "inconclusive"
    if expected != "better":
        raise ValueError(f"expected must be 'better' or 'similar', got {expected!r}")
    claimed_side = high < 0 if lower_is_better else low > 0
    other_side = low > 0 if lower_is_better else high < 0
    if claimed_side:
        return "supported"
    if other_side:
        return "not supported"
    return "inconclusive"


def compare(summary, claims):
    """One row per claim: pair, measure, expected, difference, ci_low, ci_high, verdict."""
    rows = []
    for claim in claims:
        first = summary[summary["model"] == claim.first].set_index("seed")[claim.measure]
        second = summary[summary["model"] == claim.second].set_index("seed")[claim.measure]
        if first.empty or second.empty:
            continue  # a model left out of this run (e.g. --merge-modes picked a subset)
        paired = (first - second.reindex(first.index)).dropna()
        difference, low, high = bootstrap_ci(paired.to_numpy())
        rows.append({
            "pair": claim.pair,
            "measure": claim.measure,
            "expected": "similar" if claim.expected == "similar" else
            ("lower" if lower_is_better(claim.measure) else "higher"),
            "difference": difference,
            "ci_low": low,
            "ci_high": high,
            "verdict": (verdict(low, high, claim.expected, lower_is_better(claim.measure))
                        if len(paired) >= MIN_SEEDS else TOO_FEW),
        })
    return pd.DataFrame(rows, columns=["pair", "measure", "expected", "difference", "ci_low",
                                       "ci_high", "verdict"])


def comparison_table(comparison):
    """The comparison as printed: differences with their intervals and verdicts."""
    shown = comparison.copy()
    for column in ("difference", "ci_low", "ci_high"):
        shown[column] = shown[column].map("{:+.3f}".format)
    note = ""
    if (comparison["verdict"] == TOO_FEW).any():
        note = (f"; {TOO_FEW}: no verdict from fewer than {MIN_SEEDS} seeds, whose "
                "differences share one sign too often by chance")
    return (shown.to_string(index=False) + "\n(difference = first - second, mean over seeds "
            "of the paired difference; ci = bootstrap 95% interval; expected = the claim's side"
            f"{note})")
