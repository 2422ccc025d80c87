"""One seed, one result on every backend: this backend reproduces the committed TensorFlow runs.

The committed results/ were written on TensorFlow (`make demo`). Run on JAX (`make test`) and on
PyTorch (`make test-torch`), these tests say that the same command with the same seed gives the
same per-epoch losses and the same held-out accuracies there; run on TensorFlow, that the
committed files are what the committed code writes.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bilstm_classify
import compare_directions

pytestmark = pytest.mark.backend
RESULTS = Path(__file__).resolve().parent.parent / "results"


def _committed(script, seeds):
    losses = pd.read_csv(RESULTS / f"{script}.csv")
    summary = pd.read_csv(RESULTS / f"{script}_summary.csv")
    return losses[losses["seed"].isin(seeds)], summary[summary["seed"].isin(seeds)]


def _assert_same(results, script, seeds, tolerance):
    committed_losses, committed_summary = _committed(script, seeds)
    merged = committed_losses.merge(results.losses, on=["model", "seed", "epoch"],
                                    suffixes=("_committed", ""))
    assert len(merged) == len(committed_losses) == len(results.losses)
    difference = (merged["loss"] - merged["loss_committed"]).abs()
    assert difference.max() <= tolerance, merged.loc[difference.idxmax()]
    summary = committed_summary.merge(results.summary, on=["model", "seed"],
                                      suffixes=("_committed", ""))
    for measure in ("step_accuracy", "sequence_accuracy"):
        np.testing.assert_array_equal(summary[measure], summary[f"{measure}_committed"])


def test_bilstm_classify_reproduces_the_committed_run(tmp_path):
    """The issue's own check: 1,000 epochs of `python bilstm_classify.py`, within 1e-4."""
    results = bilstm_classify.main(["--quiet", "--output-dir", str(tmp_path)])
    _assert_same(results, "bilstm_classify", [0], tolerance=1e-4)


def test_compare_directions_reproduces_the_committed_seed_0(tmp_path):
    """Every model of the comparison, 250 epochs of seed 0, within 1e-5 of the committed run."""
    results = compare_directions.main(["--repeats", "1", "--quiet", "--output-dir", str(tmp_path)])
    _assert_same(results, "compare_directions", [0], tolerance=1e-5)
