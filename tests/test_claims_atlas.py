"""The claims atlas: the claims table's verdict logic in every cell, checkpoints, CSVs, flags."""

import numpy as np
import pandas as pd
import pytest

from experiments import claims_atlas
import compare_directions
import compare_merge_modes

GRID = ["--timesteps", "6", "--units", "3", "--epochs", "50", "100", "--repeats", "3",
        "--eval-sequences", "20", "--quiet"]


@pytest.mark.slow  # a whole script run, compiling many models: make test-slow
def test_one_cell_reproduces_the_claims_tables_verdicts_exactly(tmp_path):
    atlas, per_seed = claims_atlas.main(GRID + ["--output-dir", str(tmp_path / "atlas")])
    flags = ["--timesteps", "6", "--units", "3", "--epochs", "100", "--repeats", "3",
             "--eval-sequences", "20", "--quiet"]
    directions = compare_directions.main(flags + ["--output-dir", str(tmp_path / "d")])
    merge_modes = compare_merge_modes.main(flags + ["--output-dir", str(tmp_path / "m")])
    table = pd.concat([directions.comparison, merge_modes.comparison])
    cell = atlas[atlas["epochs"] == 100]
    compared = 0
    for row in table.itertuples():
        same = cell[(cell["pair"] == row.pair) & (cell["measure"] == row.measure)]
        if same.empty:
            continue  # a measure the atlas does not re-test (loss_auc, epochs_to_reference)
        compared += 1
        assert same["verdict"].iloc[0] == row.verdict
        for column in ("difference", "ci_low", "ci_high"):
            assert same[column].iloc[0] == pytest.approx(getattr(row, column), abs=1e-6)
    assert compared >= 15


@pytest.mark.slow  # whole script runs, compiling many models: make test-slow
def test_shorter_training_is_read_from_the_checkpoints_of_the_longer(tmp_path):
    atlas, per_seed = claims_atlas.main(GRID + ["--output-dir", str(tmp_path / "both")])
    _, alone = claims_atlas.main(["--timesteps", "6", "--units", "3", "--epochs", "50",
                                  "--repeats", "3", "--eval-sequences", "20", "--quiet",
                                  "--output-dir", str(tmp_path / "alone")])
    from_checkpoints = per_seed[per_seed["epochs"] == 50].reset_index(drop=True)
    for measure in claims_atlas.MEASURES:
        np.testing.assert_allclose(from_checkpoints[measure], alone[measure], atol=1e-5)


@pytest.mark.slow  # a whole script run, compiling seven models: make test-slow
def test_files_and_columns(tmp_path):
    atlas, per_seed = claims_atlas.main(GRID + ["--output-dir", str(tmp_path)])
    written = pd.read_csv(tmp_path / "results" / "claims_atlas.csv")
    assert list(written.columns) == ["timesteps", "units", "epochs", "claim", "pair", "measure",
                                     "difference", "ci_low", "ci_high", "verdict"]
    assert len(written) == len(atlas) == 2 * len(claims_atlas.CLAIMS) * len(claims_atlas.MEASURES)
    runs = pd.read_csv(tmp_path / "results" / "claims_atlas_runs.csv")
    assert len(runs) == 2 * 7 * 3 and set(runs["epochs"]) == {50, 100}
    for measure in claims_atlas.MEASURES:
        assert (tmp_path / "plots" / f"claims_atlas_{measure}.png").stat().st_size > 20_000

    # --from-runs tests the claims again from the runs file alone: the same atlas, no training
    # (the grid and seeds are the file's, whatever the flags say), and no run record of its own.
    again, _ = claims_atlas.main(["--from-runs", str(tmp_path / "results" / "claims_atlas_runs.csv"),
                                  "--timesteps", "99", "--output-dir", str(tmp_path / "again"),
                                  "--quiet"])
    pd.testing.assert_frame_equal(again, atlas, rtol=1e-5, atol=1e-6)
    assert pd.read_csv(tmp_path / "again" / "results" / "claims_atlas.csv")["verdict"].tolist() == \
        atlas["verdict"].tolist()
    assert not (tmp_path / "again" / "results" / "claims_atlas_run.csv").exists()
    assert (tmp_path / "again" / "plots" / "claims_atlas_final_loss.png").exists()


def test_held_out_log_loss_by_hand():
    y = np.array([[[0, 1]]])
    probabilities = np.array([[[0.2, 0.9]]])
    expected = -(np.log(0.8) + np.log(0.9)) / 2
    from suite.claims import heldout_log_loss

    assert heldout_log_loss(probabilities, y)[0] == pytest.approx(expected)


@pytest.mark.parametrize("flags, named", [
    (["--timesteps", "5", "5"], "--timesteps"),
    (["--units", "0"], "--units"),
    (["--epochs", "20"], "--epochs"),
    (["--repeats", "1"], "--repeats"),
])
def test_bad_flags_exit_2_with_one_line(flags, named, assert_flag_error):
    assert_flag_error(claims_atlas.main, flags, named)


def test_a_runs_file_that_is_not_one_exits_2_with_one_line(tmp_path, assert_flag_error):
    other = tmp_path / "other.csv"
    other.write_text("model,seed,epoch,loss\nlstm_forw,0,1,0.7\n")
    assert_flag_error(claims_atlas.main, ["--from-runs", str(other)], "--from-runs")
    assert_flag_error(claims_atlas.main, ["--from-runs", str(tmp_path / "missing.csv")],
                      "--from-runs")
