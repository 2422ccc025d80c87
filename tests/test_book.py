"""The book chapter's script and the exercise scripts, each end to end on a tiny budget."""

import numpy as np
import pandas as pd
import pytest

from book import bilstm_book
from book import smallest_model
from book import sweep_sequence_length
from suite import book_chapter
from bilstm_classify import build_model
from suite import training

BOOK_TINY = ["--sequences", "40", "--batch-size", "10", "--repeats", "2", "--eval-sequences", "20",
             "--units", "4", "--quiet"]
SWEEP_TINY = ["--units", "1", "3", "--timesteps", "4", "6", "--sequences", "20", "--repeats", "2",
              "--eval-sequences", "10", "--quiet"]
SMALLEST_TINY = ["--units", "1", "3", "--batch-sizes", "1", "2", "--max-sequences", "8",
                 "--every", "4", "--repeats", "2", "--required", "1", "--eval-sequences", "100",
                 "--quiet"]


def test_the_book_model_has_20901_parameters():
    assert build_model(n_timesteps=10, units=50).count_params() == 20_901


def test_book_script_end_to_end(tmp_path, capsys):
    bilstm_book.main(BOOK_TINY + ["--output-dir", str(tmp_path)])
    losses = pd.read_csv(tmp_path / "results" / "bilstm_book.csv")
    assert list(losses.columns) == ["model", "seed", "batch", "loss"]
    assert len(losses) == 2 * 4 and losses["batch"].max() == 4
    summary = pd.read_csv(tmp_path / "results" / "bilstm_book_summary.csv")
    assert len(summary) == 2 and summary["params"].eq(build_model(10, 4).count_params()).all()
    evaluation = pd.read_csv(tmp_path / "results" / "bilstm_book_evaluation.csv")
    assert list(evaluation.columns) == ["model", "seed", "sequences", "loss", "accuracy",
                                        "sequences_correct"]
    assert evaluation["seed"].tolist() == [0, 1]
    assert evaluation["accuracy"].between(0, 1).all() and evaluation["sequences"].eq(100).all()
    assert (tmp_path / "plots" / "bilstm_book.png").stat().st_size > 10_000
    assert "position_only" in capsys.readouterr().out


def test_book_script_prints_what_the_book_prints(tmp_path, capsys):
    bilstm_book.main(["--sequences", "20", "--units", "4", "--eval-sequences", "10",
                      "--output-dir", str(tmp_path)])
    printed = capsys.readouterr().out
    assert "Total params" in printed
    assert sum(line.startswith("Loss: ") and ", Accuracy: " in line
               for line in printed.splitlines()) == 1
    predictions = [line for line in printed.splitlines() if line.startswith("y=[")]
    assert len(predictions) == 10
    for line in predictions:
        y, yhat = (part.split("=")[1] for part in line.split(", ")[:2])
        assert line.endswith(f"correct={y == yhat}")


def test_book_evaluation_matches_keras_evaluate(tmp_path):
    results = bilstm_book.main(BOOK_TINY + ["--output-dir", str(tmp_path)])
    evaluation = pd.read_csv(tmp_path / "results" / "bilstm_book_evaluation.csv")
    X, y = book_chapter.book_sequences(1, book_chapter.BOOK_EVALUATION, 10)
    model = training.load_trained(lambda: build_model(10, 4),
                                              results.runs["bilstm_book"], 1)
    yhat = model.predict(X, verbose=0) > 0.5
    assert evaluation.loc[1, "accuracy"] == pytest.approx((yhat == y).mean(), abs=1e-6)
    assert evaluation.loc[1, "sequences_correct"] == (yhat == y).all(axis=(1, 2)).sum()


@pytest.mark.slow  # a whole script run, compiling many models: make test-slow
def test_sweep_end_to_end(tmp_path, capsys):
    table = sweep_sequence_length.main(SWEEP_TINY + ["--output-dir", str(tmp_path)])
    written = pd.read_csv(tmp_path / "results" / "sweep_sequence_length.csv")
    assert list(written.columns) == [
        "units", "timesteps", "seed", "params", "final_loss", "step_accuracy",
        "sequence_accuracy", "train_seconds", "reference_step_accuracy",
        "reference_sequence_accuracy"]
    assert len(written) == 2 * 2 * 2
    assert sorted(set(zip(written["units"], written["timesteps"]))) == [(1, 4), (1, 6), (3, 4),
                                                                        (3, 6)]
    assert written["sequence_accuracy"].between(0, 1).all()
    # The reference falls as sequences get longer: every step must be right.
    references = written.groupby("timesteps")["reference_sequence_accuracy"].first()
    assert references[4] > references[6]
    assert len(table) == len(written)
    assert (tmp_path / "plots" / "sweep_sequence_length.png").stat().st_size > 10_000
    assert "position only" in capsys.readouterr().out


@pytest.mark.slow  # a whole script run, compiling many models: make test-slow
def test_smallest_model_end_to_end(tmp_path, capsys):
    table = smallest_model.main(SMALLEST_TINY + ["--output-dir", str(tmp_path)])
    checkpoints = pd.read_csv(tmp_path / "results" / "smallest_model.csv")
    assert list(checkpoints.columns) == [
        "units", "params", "batch_size", "sequences", "steps", "seed", "book_accuracy",
        "step_accuracy", "sequence_accuracy", "train_seconds"]
    # 2 units x 2 batch sizes x 2 budgets (4 and 8 sequences) x 2 seeds
    assert len(checkpoints) == 16
    assert sorted(checkpoints["sequences"].unique()) == [4, 8]
    assert (checkpoints["steps"] * checkpoints["batch_size"] == checkpoints["sequences"]).all()
    summary = pd.read_csv(tmp_path / "results" / "smallest_model_summary.csv")
    assert list(summary.columns) == [
        "units", "params", "batch_size", "target", "seeds", "max_sequences", "sequences", "steps",
        "seeds_reaching", "sequence_accuracy", "step_accuracy"]
    assert len(summary) == len(table) == 2 * 2 * len(smallest_model.TARGETS)
    assert (tmp_path / "plots" / "smallest_model.png").stat().st_size > 10_000
    _assert_printed_rows_match(capsys.readouterr().out, summary)


def _assert_printed_rows_match(printed, summary):
    """Each row of the printed table shows its summary row: "not reached" in the sequences and
    steps columns where the summary has NaN, the numbers (with thousands separators) elsewhere.
    The footnote says "when not reached" whatever the rows hold, so only the rows are read."""
    lines = printed.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:3] == ["units", "params",
                                                                           "batch_size"])
    assert lines[header].split() == [
        "units", "params", "batch_size", "target", "seeds", "max_sequences", "sequences", "steps",
        "seeds_reaching", "sequence_accuracy", "step_accuracy"]
    rows = lines[header + 1 : header + 1 + len(summary)]
    assert len(rows) == len(summary)
    for line, (_, expected) in zip(rows, summary.iterrows()):
        cells = line.replace("not reached", "not_reached").split()
        assert cells[0] == str(int(expected["units"])) and cells[3] == f"{expected['target']:.0%}"
        for column, cell in (("sequences", cells[6]), ("steps", cells[7])):
            if pd.isna(expected[column]):
                assert cell == "not_reached", line
            else:
                assert cell == f"{int(expected[column]):,}", line
    assert not lines[header + 1 + len(summary)].lstrip()[:1].isdigit()  # no row left unchecked


def test_smallest_picks_the_fewest_sequences_where_enough_seeds_reach_the_target():
    rows = []
    for sequences, perfect_seeds in [(100, 1), (200, 2), (300, 3), (400, 2)]:
        for seed in range(3):
            rows.append({"units": 5, "params": 10, "batch_size": 10, "sequences": sequences,
                         "steps": sequences // 10, "seed": seed,
                         "book_accuracy": 1.0 if seed < perfect_seeds else 0.99,
                         "step_accuracy": 0.9, "sequence_accuracy": sequences / 1000,
                         "train_seconds": 1.0})
    checkpoints = pd.DataFrame(rows)
    table = smallest_model.smallest(checkpoints, required=2, targets=(1.0, 0.99))
    perfect, high = table.iloc[0], table.iloc[1]
    assert perfect["sequences"] == 200 and perfect["steps"] == 20
    assert perfect["seeds_reaching"] == 2
    assert perfect["sequence_accuracy"] == pytest.approx(0.2)
    assert high["sequences"] == 100 and high["seeds_reaching"] == 3
    never = smallest_model.smallest(checkpoints, required=4, targets=(1.0,)).iloc[0]
    assert np.isnan(never["sequences"]) and never["seeds_reaching"] == 3
    assert never["sequence_accuracy"] == pytest.approx(0.4)  # at the largest budget
    # Printed, the reached rows show their budgets and the one never reached says so.
    shown = pd.concat([table, smallest_model.smallest(checkpoints, required=4, targets=(1.0,))],
                      ignore_index=True)
    shown.loc[0, ["sequences", "steps"]] = [2000, 200]  # thousands get their separator
    printed = smallest_model.printed_table(shown)
    _assert_printed_rows_match(printed, shown)
    rows = printed.splitlines()[1 : 1 + len(shown)]
    assert [row.count("not reached") for row in rows] == [0, 0, 2]
    assert " 2,000 " in rows[0] and " 200 " in rows[0] and " 100 " in rows[1]


BAD = [
    (bilstm_book, ["--sequences", "45", "--batch-size", "10"], "--sequences"),
    (bilstm_book, ["--batch-size", "0"], "--batch-size"),
    (bilstm_book, ["--epochs", "5"], "unrecognized"),
    (bilstm_book, ["--units", "many"], "--units"),
    (sweep_sequence_length, ["--units", "5", "5"], "--units"),
    (sweep_sequence_length, ["--timesteps", "0"], "--timesteps"),
    (sweep_sequence_length, ["--sequences", "15"], "--sequences"),
    (smallest_model, ["--required", "6"], "--required"),
    (smallest_model, ["--every", "15", "--batch-sizes", "10"], "--every"),
    (smallest_model, ["--max-sequences", "1500"], "--max-sequences"),
    (smallest_model, ["--eval-sequences", "50"], "--eval-sequences"),
    (smallest_model, ["--batch-sizes", "1", "1"], "--batch-sizes"),
]


@pytest.mark.parametrize("module, flags, named", BAD,
                         ids=[f"{m.__name__}{' '.join(f)}" for m, f, _ in BAD])
def test_bad_flags_exit_2_with_one_line(module, flags, named, assert_flag_error):
    assert_flag_error(module.main, flags, named)
