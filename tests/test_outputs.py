"""Where a run writes, what it records about itself, and how its tables read."""

import hashlib
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pandas as pd
import pytest

import lstm_baseline
from suite import cli, environment, experiment, outputs

REPOSITORY = Path(__file__).resolve().parent.parent
TINY = ["--epochs", "5", "--units", "2", "--eval-sequences", "5", "--quiet"]
RUN_COLUMNS = ["command", "backend", "keras", "compile_cache", "wall_seconds", "finished_utc",
               "machine", "python"]


def digests(folder):
    return {path.relative_to(folder): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def test_a_run_without_output_dir_writes_under_runs_and_leaves_the_committed_files(
        tmp_path, monkeypatch, capsys):
    committed = {folder: digests(REPOSITORY / folder) for folder in ("plots", "results")}
    default = tmp_path / "runs"
    monkeypatch.setattr(cli, "DEFAULT_OUTPUT_DIR", default)
    lstm_baseline.main(TINY)
    assert (default / "results" / "lstm_baseline.csv").exists()
    assert (default / "plots" / "lstm_baseline.png").exists()
    # The run says where it wrote, even with --quiet.
    assert f"under {default.resolve()}" in capsys.readouterr().out
    assert {folder: digests(REPOSITORY / folder) for folder in committed} == committed


def test_the_default_output_folder_is_runs_and_git_ignores_it():
    assert cli.DEFAULT_OUTPUT_DIR == REPOSITORY / "runs"
    if shutil.which("git") is None or not (REPOSITORY / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run(["git", "check-ignore", "-q", "runs/results/x.csv"], cwd=REPOSITORY)
    assert ignored.returncode == 0
    kept = subprocess.run(["git", "check-ignore", "-q", "results/x.csv"], cwd=REPOSITORY)
    assert kept.returncode == 1


def test_every_run_records_its_command_backend_machine_and_wall_time(tmp_path):
    flags = TINY + ["--output-dir", str(tmp_path)]
    lstm_baseline.main(flags)
    record = pd.read_csv(tmp_path / "results" / "lstm_baseline_run.csv")
    assert list(record.columns) == RUN_COLUMNS and len(record) == 1
    row = record.iloc[0]
    assert row["command"] == "python lstm_baseline.py " + " ".join(flags)
    assert row["backend"] == experiment.keras.backend.backend()
    assert row["keras"] == experiment.keras.__version__
    assert row["machine"] == outputs.machine() and "CPUs" in row["machine"]
    assert 0 < row["wall_seconds"] < 600
    if row["backend"] == "jax":
        assert row["compile_cache"] == "off" or row["compile_cache"].endswith(" programs")
    else:
        assert row["compile_cache"] == "-"


@pytest.mark.parametrize("module, flags", [("book.bilstm_book", ["--repeats", "2"]),
                                           ("experiments.originals", ["--epochs", "50"]),
                                           ("compare_directions", ["--quiet"])])
def test_the_record_names_the_command_that_runs_the_script(module, flags, tmp_path):
    """A topic folder's script runs as a module, a section as a file: the record says which,
    whatever name its result files have."""
    import importlib

    flags += ["--output-dir", str(tmp_path)]
    args = importlib.import_module(module).parse_args(flags)
    command = (["python", "-m", module] if "." in module else ["python", f"{module}.py"])
    record = outputs.run_record("any_file_name", args)
    assert record["command"][0] == " ".join(command + flags)


def test_a_python_without_the_requirements_is_told_to_use_the_venv(tmp_path, monkeypatch,
                                                                   capsys):
    monkeypatch.setattr(environment, "REQUIRED_MODULES",
                        environment.REQUIRED_MODULES + ("no_such_module_xyz",))
    with pytest.raises(SystemExit) as exit_info:
        lstm_baseline.main(TINY + ["--output-dir", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1
    assert "no_such_module_xyz" in error and ".venv/bin/python" in error
    assert not (tmp_path / "out").exists()


def test_never_reads_as_a_word_in_the_printed_table():
    """A run that never gets below the reference is stored as runs + 1 but printed as never."""
    reference = type("Reference", (), {"log_loss": 0.239, "step_accuracy": 0.889,
                                       "sequence_accuracy": 0.299})()
    rows = [("never_model", 0, 11), ("never_model", 1, 11), ("mixed", 0, 4), ("mixed", 1, 11),
            ("mixed", 2, 6), ("always", 0, 3), ("always", 1, 5)]
    summary = pd.DataFrame([{"model": m, "seed": s, "params": 10, "final_loss": 0.3,
                             "loss_auc": 0.4, "epochs_to_reference": e, "step_accuracy": 0.9,
                             "sequence_accuracy": 0.3, "train_seconds": 1.0}
                            for m, s, e in rows])
    lines = experiment.summary_table(summary, reference, n_steps=10).splitlines()
    by_model = {line.split()[0]: line for line in lines[1:4]}
    assert "never" in by_model["never_model"] and "11" not in by_model["never_model"]
    assert "5 ± 1 (1 of 3 never)" in by_model["mixed"]
    assert "4 ± 1" in by_model["always"] and "never" not in by_model["always"]


def test_written_files_get_the_permissions_of_an_ordinary_write(tmp_path):
    previous = os.umask(0o022)
    try:
        lstm_baseline.main(TINY + ["--output-dir", str(tmp_path)])
        ordinary = tmp_path / "ordinary"
        ordinary.write_text("x")
    finally:
        os.umask(previous)
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p != ordinary]
    assert len(written) == 4  # three CSVs and a plot
    assert {stat.S_IMODE(p.stat().st_mode) for p in written} == {0o644}
    assert stat.S_IMODE(ordinary.stat().st_mode) == 0o644
