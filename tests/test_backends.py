"""One seed, one result on every backend: the committed runs of the four sections, reproduced.

The committed results/ of the four tutorial sections were written on TensorFlow (`make demo
OUT=.`). Run on JAX (`make test`) and on PyTorch (`make test-torch`) these tests say that the same
commands with the same seeds give the same per-epoch losses there, for every model and every seed
of every committed per-epoch CSV, within the README's 2e-6; run on TensorFlow, that the committed
files are what the committed code writes. Held-out accuracies are compared through the
probabilities behind them: a prediction within 2e-6 of one half may fall either way on another
backend or CPU, so the committed accuracy must lie inside the range those predictions allow.
Each backend is also checked against an independent path: the tutorial's literal loop, one `fit`
call per sequence, from the same data and initial weights.

On PyTorch, whose path is one `train_on_batch` call per step (about a hundred times slower than
the compiled ones), the two 30-seed comparisons are rerun for their first two seeds, so that
`make test-torch` stays within its time; the plain PyTorch port (tests/test_pytorch.py and
`pytorch/bilstm_pytorch.py --check-committed`) covers every seed from outside Keras.
"""

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bilstm_classify
import compare_directions
import compare_merge_modes
import lstm_baseline
from suite import experiment, training

pytestmark = [pytest.mark.backend, pytest.mark.slow]
RESULTS = Path(__file__).resolve().parent.parent / "results"
SECTIONS = {"lstm_baseline": lstm_baseline, "bilstm_classify": bilstm_classify,
            "compare_directions": compare_directions, "compare_merge_modes": compare_merge_modes}
TOLERANCE = 2e-6  # the README: "the same per-epoch losses within 2e-6"
LITERAL_EPOCHS = 50  # with 1,000 held-out sequences: the compiled programs of the rerun
BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")
# Seeds rerun per script: all of them, but the first two of the 30-seed comparisons on PyTorch.
SEEDS_RERUN = {script: (2 if BACKEND == "torch" and script.startswith("compare") else None)
               for script in SECTIONS}


def committed_rows(name, script):
    """A committed CSV's rows for the seeds this backend reruns."""
    committed = pd.read_csv(RESULTS / name)
    if SEEDS_RERUN[script] is None:
        return committed
    return committed[committed["seed"] < SEEDS_RERUN[script]]


@pytest.fixture(scope="module")
def rerun(tmp_path_factory):
    """The four sections with their defaults, as `make demo` runs them, on this backend."""
    folder = tmp_path_factory.mktemp("rerun")
    return {script: module.main(["--quiet", "--output-dir", str(folder)]
                                + (["--repeats", str(SEEDS_RERUN[script])]
                                   if SEEDS_RERUN[script] else []))
            for script, module in SECTIONS.items()}


def merged_one_to_one(committed, rerun_table, keys):
    """Join on `keys`, asserting every row of each table has exactly one partner."""
    merged = committed.merge(rerun_table, on=keys, how="outer", suffixes=("_committed", ""),
                             indicator=True, validate="one_to_one")
    unmatched = merged[merged["_merge"] != "both"]
    assert unmatched.empty, f"rows without a partner:\n{unmatched[keys + ['_merge']].head()}"
    assert len(merged) == len(committed) == len(rerun_table)
    return merged


@pytest.mark.parametrize("script", SECTIONS)
def test_every_per_epoch_loss_equals_the_committed_run(rerun, script):
    committed = committed_rows(f"{script}.csv", script)
    merged = merged_one_to_one(committed, rerun[script].losses, ["model", "seed", "epoch"])
    difference = (merged["loss"] - merged["loss_committed"]).abs()
    print(f"{script}: {len(merged):,} losses, max difference {difference.max():.2e}")
    assert difference.max() <= TOLERANCE, merged.loc[difference.idxmax()]


def accuracy_bounds(probabilities, y, margin=TOLERANCE):
    """The per-step and whole-sequence accuracies a run can have when each prediction within
    `margin` of one half may fall either way: (low, high) pairs, and how many such predictions."""
    certain = np.abs(probabilities - 0.5) > margin
    right = ((probabilities > 0.5) == y.astype(bool)) & certain
    could_be_right = right | ~certain
    steps = y.shape[-1] * y.shape[-2]
    step = (right.sum(axis=(-2, -1)) / steps, could_be_right.sum(axis=(-2, -1)) / steps)
    sequence = (right.all(axis=-1).mean(axis=-1), could_be_right.all(axis=-1).mean(axis=-1))
    return step, sequence, (~certain).sum()


@pytest.mark.parametrize("script", SECTIONS)
def test_heldout_accuracies_equal_the_committed_run_through_their_probabilities(rerun, script):
    results = rerun[script]
    committed = committed_rows(f"{script}_summary.csv", script)
    merged = merged_one_to_one(committed, results.summary, ["model", "seed"])
    near_half = 0
    for name, runs in results.runs.items():
        (step_low, step_high), (seq_low, seq_high), ambiguous = accuracy_bounds(
            runs.probabilities, results.eval_y)
        near_half += ambiguous
        rows = merged[merged["model"] == name].set_index("seed").loc[runs.seeds]
        eps = 1e-12
        assert (rows["step_accuracy_committed"].to_numpy() >= step_low - eps).all()
        assert (rows["step_accuracy_committed"].to_numpy() <= step_high + eps).all()
        assert (rows["sequence_accuracy_committed"].to_numpy() >= seq_low - eps).all()
        assert (rows["sequence_accuracy_committed"].to_numpy() <= seq_high + eps).all()
    print(f"{script}: {near_half} held-out predictions within {TOLERANCE} of one half")


@pytest.mark.parametrize("name, build", [
    *compare_directions.get_models(10, 20).items(),
    *compare_merge_modes.get_models(10, 20, ["sum", "mul", "ave"]).items(),
])
def test_this_backends_path_equals_the_tutorials_literal_loop(name, build, rerun):
    """Every tutorial model, seed 0's first epochs: the suite's training path against one `fit`
    call per sequence, from the same sequences and the same initial weights."""
    train_X, train_y, eval_X, _ = experiment.draw_repeats([0], LITERAL_EPOCHS, 1000, 10)
    runs = training.run_repeats(build, [0], train_X, train_y, eval_X)
    literal = training.train_literal(training.build_seeded(build, 0), train_X[0], train_y[0])
    difference = np.abs(runs.losses[0] - literal).max()
    print(f"{name}: max difference from the literal loop over {LITERAL_EPOCHS} epochs "
          f"{difference:.2e}")
    assert difference <= 1e-5
