"""Every script end to end with a tiny budget, its command line, and its reproducibility."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bilstm_classify
import compare_directions
import compare_merge_modes
import lstm_baseline
from suite import training

REPOSITORY = Path(__file__).resolve().parent.parent
TINY = ["--epochs", "5", "--repeats", "2", "--eval-sequences", "20", "--units", "4", "--quiet"]
SUMMARY_COLUMNS = ["model", "seed", "params", "final_loss", "loss_auc", "epochs_to_reference",
                   "step_accuracy", "sequence_accuracy", "train_seconds"]
COMPARISON_COLUMNS = ["pair", "measure", "expected", "difference", "ci_low", "ci_high", "verdict"]
SCRIPTS = {
    "lstm_baseline": (lstm_baseline, ["lstm_forw"]),
    "bilstm_classify": (bilstm_classify, ["bilstm_con"]),
    "compare_directions": (compare_directions,
                           ["lstm_forw", "lstm_back", "lstm_back_aligned", "bilstm_con"]),
    "compare_merge_modes": (compare_merge_modes,
                            ["bilstm_sum", "bilstm_mul", "bilstm_ave", "bilstm_con"]),
}


def _check_outputs(output_dir, script, models, epochs=5, seeds=(0, 1)):
    assert (output_dir / "plots" / f"{script}.png").stat().st_size > 10_000
    losses = pd.read_csv(output_dir / "results" / f"{script}.csv")
    assert list(losses.columns) == ["model", "seed", "epoch", "loss"]
    assert len(losses) == len(models) * len(seeds) * epochs
    assert list(losses["model"].unique()) == models
    assert sorted(losses["seed"].unique()) == list(seeds)
    assert losses["epoch"].min() == 1 and losses["epoch"].max() == epochs
    summary = pd.read_csv(output_dir / "results" / f"{script}_summary.csv")
    assert list(summary.columns) == SUMMARY_COLUMNS
    assert len(summary) == len(models) * len(seeds)
    assert summary["step_accuracy"].between(0, 1).all()
    assert summary["sequence_accuracy"].between(0, 1).all()
    return losses, summary


@pytest.mark.parametrize("script", list(SCRIPTS))
def test_script_end_to_end_with_a_tiny_budget(script, tmp_path, capsys):
    module, models = SCRIPTS[script]
    module.main(TINY + ["--output-dir", str(tmp_path)])
    _check_outputs(tmp_path, script, models)
    if script.startswith("compare_"):
        comparison = pd.read_csv(tmp_path / "results" / f"{script}_comparison.csv")
        assert list(comparison.columns) == COMPARISON_COLUMNS
        assert len(comparison) == len(module.CLAIMS)
        assert set(comparison["verdict"]) == {"too few seeds"}  # 2 seeds: no verdict
        flips = pd.read_csv(tmp_path / "results" / f"{script}_flip_errors.csv")
        assert list(flips.columns) == ["model", "seed", "offset", "error_rate", "count"]
        assert len(flips) == len(models) * 2 * 11
        assert (tmp_path / "plots" / f"{script}_flip_errors.png").stat().st_size > 10_000
    printed = capsys.readouterr().out
    assert "position_only" in printed
    for name in models:
        assert name in printed


@pytest.mark.backend
def test_tiny_run_on_this_backend(tmp_path):
    results = lstm_baseline.main(TINY + ["--output-dir", str(tmp_path)])
    _check_outputs(tmp_path, "lstm_baseline", ["lstm_forw"])
    assert results.summary["params"].eq(lstm_baseline.build_model(units=4).count_params()).all()


def test_merge_modes_subset(tmp_path):
    compare_merge_modes.main(TINY + ["--merge-modes", "mul", "sum", "--output-dir", str(tmp_path)])
    _check_outputs(tmp_path, "compare_merge_modes", ["bilstm_mul", "bilstm_sum"])


def test_baseline_prints_expected_and_predicted(tmp_path, capsys):
    lstm_baseline.main(["--epochs", "3", "--eval-sequences", "5", "--output-dir", str(tmp_path)])
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Expected:")]
    assert len(lines) == 10
    assert all(" Predicted [" in line for line in lines)


def test_same_flags_write_identical_csvs(tmp_path):
    for name in ("first", "second"):
        compare_directions.main(TINY + ["--output-dir", str(tmp_path / name)])
    for csv in ("compare_directions.csv", "compare_directions_summary.csv"):
        first = pd.read_csv(tmp_path / "first" / "results" / csv)
        second = pd.read_csv(tmp_path / "second" / "results" / csv)
        columns = [c for c in first.columns if c != "train_seconds"]
        pd.testing.assert_frame_equal(first[columns], second[columns], check_exact=True)
    first = pd.read_csv(tmp_path / "first" / "results" / "compare_directions.csv")
    other_seed = tmp_path / "other"
    compare_directions.main(TINY + ["--seed", "7", "--output-dir", str(other_seed)])
    other = pd.read_csv(other_seed / "results" / "compare_directions.csv")
    assert not first["loss"].equals(other["loss"])


BAD_FLAGS = [
    (["--epochs", "0"], "--epochs"),
    (["--epochs", "ten"], "--epochs"),
    (["--repeats", "-1"], "--repeats"),
    (["--units", "2.5"], "--units"),
    (["--timesteps", "0"], "--timesteps"),
    (["--eval-sequences", "0"], "--eval-sequences"),
    (["--seed", "-1"], "--seed"),
    (["--no-such-flag"], "unrecognized"),
]


@pytest.mark.parametrize("module", [lstm_baseline, bilstm_classify, compare_directions,
                                    compare_merge_modes])
@pytest.mark.parametrize("flags, named", BAD_FLAGS)
def test_bad_flags_exit_2_with_one_line_and_write_nothing(module, flags, named,
                                                          assert_flag_error):
    assert_flag_error(module.main, flags, named)


def test_bad_merge_mode_and_repeated_mode(assert_flag_error):
    for flags in (["--merge-modes", "max"], ["--merge-modes", "sum", "sum"]):
        assert_flag_error(compare_merge_modes.main, flags, "--merge-modes")


def test_output_dir_that_is_a_file_or_read_only(tmp_path, capsys, monkeypatch):
    a_file = tmp_path / "a_file"
    a_file.write_text("keep me")
    has_results_file = tmp_path / "has_results_file"
    has_results_file.mkdir()
    (has_results_file / "results").write_text("not a folder")
    read_only = tmp_path / "read_only"
    read_only.mkdir()
    # A read-only folder, provoked for every user: root may write anywhere, so the probe's own
    # write is refused the way the kernel refuses it to anyone else.
    real = tempfile.NamedTemporaryFile

    def refused_in_read_only(*args, **kwargs):
        if str(kwargs.get("dir", "")).startswith(str(read_only)):
            raise PermissionError(13, "Permission denied", str(kwargs["dir"]))
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", refused_in_read_only)
    for output_dir, problem in [(a_file, "Not a directory"), (a_file / "below", "Not a directory"),
                                (has_results_file, "Not a directory"),
                                (read_only, "Permission denied")]:
        with pytest.raises(SystemExit) as exit_info:
            lstm_baseline.main(["--output-dir", str(output_dir)])
        assert exit_info.value.code == 2
        error = capsys.readouterr().err.strip()
        assert len(error.splitlines()) == 1, error
        assert "--output-dir" in error and problem in error, error
    assert a_file.read_text() == "keep me"
    assert list(read_only.iterdir()) == []


def test_command_line_error_is_one_line_without_traceback(tmp_path):
    completed = subprocess.run(
        [sys.executable, str(REPOSITORY / "compare_merge_modes.py"), "--merge-modes", "max",
         "--output-dir", str(tmp_path)],
        capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert completed.returncode == 2
    assert completed.stderr.strip().count("\n") == 0
    assert "Traceback" not in completed.stderr
    assert list(tmp_path.iterdir()) == []


def test_interrupted_run_keeps_previous_files(tmp_path, monkeypatch, capsys):
    lstm_baseline.main(TINY + ["--output-dir", str(tmp_path)])
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("suite.training.run_repeats", interrupt)
    with pytest.raises(SystemExit) as exit_info:
        lstm_baseline.main(TINY + ["--epochs", "9", "--output-dir", str(tmp_path)])
    assert exit_info.value.code == 130
    assert capsys.readouterr().err == (
        "\ninterrupted: the files from the previous run are unchanged\n")
    after = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before


def test_interrupt_while_writing_leaves_no_half_file(tmp_path, monkeypatch):
    lstm_baseline.main(TINY + ["--output-dir", str(tmp_path)])
    csv = tmp_path / "results" / "lstm_baseline.csv"
    before = csv.read_bytes()

    def half_then_interrupt(self, path, **kwargs):
        Path(path).write_text("model,seed\n")
        raise KeyboardInterrupt

    monkeypatch.setattr(pd.DataFrame, "to_csv", half_then_interrupt)
    with pytest.raises(SystemExit):
        lstm_baseline.main(TINY + ["--output-dir", str(tmp_path)])
    assert csv.read_bytes() == before
    assert not [p for p in csv.parent.iterdir() if p.name.endswith(".tmp")]


def test_non_finite_loss_stops_the_run(tmp_path, monkeypatch):
    real = training.run_repeats

    def poisoned(*args, **kwargs):
        runs = real(*args, **kwargs)
        runs.losses[0, 2] = np.nan
        return runs

    monkeypatch.setattr(training, "run_repeats", poisoned)
    with pytest.raises(SystemExit) as exit_info:
        lstm_baseline.main(TINY + ["--output-dir", str(tmp_path)])
    message = exit_info.value.code
    assert isinstance(message, str)  # a message, so the exit status is 1
    assert len(message.splitlines()) == 1
    assert "lstm_forw with seed 0 produced a non-finite loss" in message
    assert not [path for path in tmp_path.rglob("*") if path.is_file()]


@pytest.mark.slow  # whole script runs, compiling many models: make test-slow
def test_heldout_curves_equal_runs_stopped_at_each_checkpoint(tmp_path):
    flags = ["--repeats", "2", "--eval-sequences", "20", "--units", "4", "--quiet"]
    results = compare_directions.main(flags + ["--epochs", "20", "--heldout-every", "10",
                                               "--output-dir", str(tmp_path / "curves")])
    heldout = pd.read_csv(tmp_path / "curves" / "results" / "compare_directions_heldout.csv")
    assert list(heldout.columns) == ["model", "seed", "epoch", "step_accuracy",
                                     "sequence_accuracy", "loss"]
    assert sorted(heldout["epoch"].unique()) == [10, 20] and len(heldout) == 4 * 2 * 2
    assert (tmp_path / "curves" / "plots" / "compare_directions_heldout.png").exists()
    claims_table = pd.read_csv(tmp_path / "curves" / "results"
                               / "compare_directions_heldout_claims.csv")
    assert list(claims_table.columns) == ["pair", "measure", "first_supported_epoch",
                                          "supported_from_then_on", "verdict_at_end"]
    shorter = compare_directions.main(flags + ["--epochs", "10",
                                               "--output-dir", str(tmp_path / "short")])
    at_10 = heldout[heldout["epoch"] == 10].merge(shorter.summary, on=["model", "seed"],
                                                  suffixes=("", "_run"))
    np.testing.assert_allclose(at_10["step_accuracy"], at_10["step_accuracy_run"], atol=1e-9)
    at_20 = heldout[heldout["epoch"] == 20].merge(results.summary, on=["model", "seed"],
                                                  suffixes=("", "_run"))
    np.testing.assert_allclose(at_20["sequence_accuracy"], at_20["sequence_accuracy_run"],
                               atol=1e-9)


def test_heldout_every_must_divide_the_epochs(assert_flag_error):
    assert_flag_error(compare_merge_modes.main, ["--heldout-every", "7"], "--heldout-every")


@pytest.mark.slow
def test_the_demo_writes_what_the_four_scripts_write_one_by_one(tmp_path, monkeypatch):
    """One process for the four sections, sharing its compiled programs between them, against
    each section alone with none to share: every CSV the same, cell for cell, but the timings."""
    import demo

    demo.main(["--quiet", "--output-dir", str(tmp_path / "demo")], section_flags=TINY)
    for script, (module, _) in SCRIPTS.items():
        # What a process of its own would start with: no compiled program kept.
        monkeypatch.setattr(training, "_tf_programs", {})
        monkeypatch.setattr(training, "_jax_programs", {})
        module.main(TINY + ["--output-dir", str(tmp_path / "alone")])
    written = sorted(p.name for p in (tmp_path / "alone" / "results").iterdir())
    assert written == sorted(p.name for p in (tmp_path / "demo" / "results").iterdir())
    compared = 0
    for name in written:
        if name.endswith("_run.csv"):
            continue  # the run records: commands and wall times
        together = pd.read_csv(tmp_path / "demo" / "results" / name)
        alone = pd.read_csv(tmp_path / "alone" / "results" / name)
        together = together.drop(columns=["train_seconds"], errors="ignore")
        alone = alone.drop(columns=["train_seconds"], errors="ignore")
        pd.testing.assert_frame_equal(together, alone)
        compared += 1
    assert compared == 2 + 2 + 4 + 4  # losses and summaries; comparisons and flip errors


def test_literal_flag_trains_with_the_tutorials_fit_loop_and_the_same_losses(tmp_path,
                                                                             monkeypatch):
    """A section's --literal calls model.fit once per sequence, as the tutorial does, and its
    losses and held-out predictions are those of the default compiled path. (tests/test_training.py
    checks every backend's path against the fit loop; here the flag, on TensorFlow.)"""
    import keras

    flags = ["--epochs", "6", "--units", "3", "--eval-sequences", "4", "--quiet"]
    compiled = bilstm_classify.main(flags + ["--output-dir", str(tmp_path / "compiled")])
    fit_calls = []
    fit = keras.Model.fit

    def counted_fit(model, *args, **kwargs):
        fit_calls.append(kwargs.get("batch_size"))
        return fit(model, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", counted_fit)
    literal = bilstm_classify.main(flags + ["--literal", "--output-dir", str(tmp_path / "fit")])
    assert fit_calls == [1] * 6
    assert literal.runs["bilstm_con"].method == "literal"
    np.testing.assert_allclose(literal.losses["loss"], compiled.losses["loss"], atol=1e-5)
    np.testing.assert_allclose(literal.runs["bilstm_con"].probabilities,
                               compiled.runs["bilstm_con"].probabilities, atol=1e-5)
