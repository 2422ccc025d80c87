"""The book's run and the claims atlas, committed from JAX, reproduced on the backend under test.

`make book` and `make atlas` write their committed files on JAX. Each test here reruns a slice of
one of them with the committed flags (seed 0's first 200 batches of the book's run; two models of
one cell of the atlas for seeds 0 and 1) and compares it with the committed numbers: on JAX
(`make test`'s second stage) that the committed files are what the committed code writes there,
on PyTorch (`make test-torch`) that the same seeds give the same numbers on another backend.
`make test`'s TensorFlow stage leaves them out for its time budget (TensorFlow's compiled book
model is the slowest to build); the four sections' tests check TensorFlow against the others.
"""

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from book import bilstm_book
from experiments import claims_atlas

pytestmark = [pytest.mark.backend,
              pytest.mark.skipif(os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow",
                                 reason="committed on JAX: checked on JAX and PyTorch")]
RESULTS = Path(__file__).resolve().parent.parent / "results"
TOLERANCE = 2e-6  # the README's figure for losses on every backend
BOOK_BATCHES = 200  # of the committed 5,000: training is sequential, so a prefix is a shorter run
# Held-out accuracies: a prediction within rounding of one half may fall either way on another
# backend, so a few steps of the cell's 10,000 held-out steps may differ.
ACCURACY_TOLERANCE = 5e-4


def test_the_books_first_batches_equal_the_committed_run(tmp_path):
    bilstm_book.main(["--sequences", str(BOOK_BATCHES * 10), "--quiet",
                      "--output-dir", str(tmp_path)])
    rerun = pd.read_csv(tmp_path / "results" / "bilstm_book.csv")
    committed = pd.read_csv(RESULTS / "bilstm_book.csv")
    committed = committed[(committed["seed"] == 0) & (committed["batch"] <= BOOK_BATCHES)]
    merged = committed.merge(rerun, on=["model", "seed", "batch"], suffixes=("_committed", ""),
                             validate="one_to_one")
    assert len(merged) == len(rerun) == len(committed) == BOOK_BATCHES
    difference = (merged["loss"] - merged["loss_committed"]).abs()
    print(f"book: {len(merged)} batch losses, max difference {difference.max():.2e}")
    assert difference.max() <= TOLERANCE, merged.loc[difference.idxmax()]


ATLAS_MODELS = ["lstm_back_aligned", "bilstm_sum"]  # of the seven: the aligned one and a merge


def test_one_cell_of_the_atlas_equals_the_committed_run(tmp_path, monkeypatch):
    cell = {"timesteps": 10, "units": 5, "epochs": 250}
    every_model = claims_atlas.get_models
    monkeypatch.setattr(claims_atlas, "get_models", lambda *shape: {
        name: build for name, build in every_model(*shape).items() if name in ATLAS_MODELS})
    _, rerun = claims_atlas.main(["--timesteps", "10", "--units", "5", "--epochs", "250",
                                  "--repeats", "2", "--quiet", "--output-dir", str(tmp_path)])
    committed = pd.read_csv(RESULTS / "claims_atlas_runs.csv")
    committed = committed[(committed[list(cell)] == pd.Series(cell)).all(axis=1)
                          & committed["seed"].isin([0, 1])
                          & committed["model"].isin(ATLAS_MODELS)]
    keys = ["timesteps", "units", "epochs", "model", "seed"]
    merged = committed.merge(rerun, on=keys, suffixes=("_committed", ""), validate="one_to_one")
    assert len(merged) == len(rerun) == len(committed) == 2 * 2
    for measure, tolerance in [("final_loss", TOLERANCE), ("heldout_loss", TOLERANCE),
                               ("step_accuracy", ACCURACY_TOLERANCE),
                               ("sequence_accuracy", ACCURACY_TOLERANCE * 10)]:
        difference = np.abs(merged[measure] - merged[f"{measure}_committed"])
        print(f"atlas cell {cell}: {measure} max difference {difference.max():.2e}")
        assert difference.max() <= tolerance, merged.loc[difference.idxmax(), keys]
