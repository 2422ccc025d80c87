"""Nothing lost, nothing cryptic: memory limits, environment mistakes, interruptions, thin
evidence. Each case is provoked by the test itself, so it means the same on every machine."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import compare_directions
from conftest import script_command
from experiments import claims_atlas
import lstm_baseline
from suite import claims, environment, resources

REPOSITORY = Path(__file__).resolve().parent.parent
TINY = ["--epochs", "5", "--units", "2", "--eval-sequences", "5", "--quiet"]


def one_line_exit_2(main, flags, tmp_path, capsys):
    """main(flags) exits 2 with one line on stderr, creating no output folder; the line."""
    with pytest.raises(SystemExit) as exit_info:
        main(flags + ["--output-dir", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1, error
    assert not (tmp_path / "out").exists()
    return error


# ---------------------------------------------------------------- memory


@pytest.mark.parametrize("flags, named", [(["--units", "100000"], "--units"),
                                          (["--epochs", "1000000000"], "--epochs"),
                                          (["--eval-sequences", "1000000000"], "--eval-sequences")])
def test_a_run_the_machine_cannot_hold_is_refused_before_work(flags, named, tmp_path, capsys,
                                                               monkeypatch):
    monkeypatch.setattr(resources, "available_memory", lambda: 4 * 2**30)  # a 4 GiB machine
    error = one_line_exit_2(lstm_baseline.main, flags, tmp_path, capsys)
    assert f"argument {named}:" in error and "GiB" in error and "4.0 GiB" in error


TRAINING_SCRIPTS = ["lstm_baseline", "bilstm_classify", "compare_directions",
                    "compare_merge_modes", "book.bilstm_book", "book.sweep_sequence_length",
                    "book.smallest_model", "experiments.claims_atlas", "experiments.originals",
                    "experiments.inside_the_model", "text.text_classify", "text.pos_tagging",
                    "sequences.classify_sequences", "experiments.streaming",
                    "experiments.forecasting", "experiments.stacked_and_unmerged"]


@pytest.mark.parametrize("script", TRAINING_SCRIPTS)
def test_each_script_states_its_memory_and_its_defaults_fit_a_small_machine(
        script, monkeypatch, tmp_path, capsys):
    """Each script's defaults stay under 4 GiB, so a laptop is not refused by mistake; on a
    machine with 1 MiB free the same defaults are refused, so the script does state its needs."""
    import importlib

    module = importlib.import_module(script)
    monkeypatch.setattr(resources, "available_memory", lambda: 4 * 2**30)
    module.parse_args(["--output-dir", str(tmp_path / "fits")])  # SystemExit if over 4 GiB
    monkeypatch.setattr(resources, "available_memory", lambda: 2**20)
    with pytest.raises(SystemExit) as exit_info:
        module.parse_args(["--output-dir", str(tmp_path / "refused")])
    assert exit_info.value.code == 2
    assert "GiB of memory available" in capsys.readouterr().err


def test_the_estimate_grows_with_each_flag_it_names():
    base = lstm_baseline.parse_args(["--output-dir", "/tmp"])
    needed = resources.section_memory(base)[0]
    for flag, value in [("epochs", 10**6), ("units", 2000), ("eval_sequences", 10**6)]:
        bigger = lstm_baseline.parse_args(["--output-dir", "/tmp"])
        setattr(bigger, flag, value)
        assert resources.section_memory(bigger)[0] > 10 * needed, flag


# ---------------------------------------------------------------- environment


@pytest.mark.parametrize("script", ["lstm_baseline", "experiments.claims_atlas",
                                    "book.sweep_sequence_length", "text.text_classify",
                                    "text.pos_tagging", "sequences.classify_sequences",
                                    "pytorch.bilstm_pytorch", "bench.bench"])
def test_a_python_without_the_requirements_gets_one_line_and_no_folder(script, tmp_path):
    """`python -S` leaves out site-packages: a Python with none of the requirements, whatever
    the script imports first (NumPy and pandas at the top of some of them)."""
    completed = subprocess.run(
        [sys.executable, "-S", *script_command(script)[1:], "--output-dir",
         str(tmp_path / "out")],
        capture_output=True, text=True, cwd=REPOSITORY)
    assert completed.returncode == 2
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and ".venv/bin/python" in lines[0] and "numpy" in lines[0]
    named = f"python -m {script}" if "." in script else f"python {script}.py"
    assert lines[0].startswith(f"{named}: error: ")
    assert not (tmp_path / "out").exists()


def test_an_unknown_backend_names_the_valid_ones(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "bogus")
    error = one_line_exit_2(lstm_baseline.main, TINY, tmp_path, capsys)
    assert "KERAS_BACKEND=bogus" in error and "tensorflow, jax, torch" in error


def test_a_backend_whose_package_is_missing_says_how_to_install_it(tmp_path, capsys,
                                                                  monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    monkeypatch.setitem(environment.BACKENDS, "torch", ("no_such_torch_module",
                                                environment.BACKENDS["torch"][1]))
    error = one_line_exit_2(lstm_baseline.main, TINY, tmp_path, capsys)
    assert "no_such_torch_module" in error and "make test-torch" in error
    assert "torch==2.13.0" in error


@pytest.mark.parametrize("backend, broken", [("jax", "jax"), ("torch", "torch"),
                                             ("jax", "tensorflow")])
def test_a_backend_installed_but_broken_is_one_line_naming_it(backend, broken, tmp_path):
    """A broken or mismatched build, provoked: a package of that name on PYTHONPATH whose
    import fails as a missing shared library does."""
    (tmp_path / "broken" / broken).mkdir(parents=True)
    (tmp_path / "broken" / broken / "__init__.py").write_text(
        "raise OSError('libbroken.so: cannot open shared object file')\n")
    completed = subprocess.run(
        [sys.executable, "lstm_baseline.py", *TINY, "--output-dir", str(tmp_path / "out")],
        capture_output=True, text=True, cwd=REPOSITORY,
        env={**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(tmp_path / "broken")})
    assert completed.returncode == 2
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    assert f"{broken} is installed but fails to import" in lines[0]
    assert "libbroken.so" in lines[0] and "reinstall" in lines[0]
    assert not (tmp_path / "out" / "results" / "lstm_baseline.csv").exists()


def test_an_unusable_cache_folder_turns_the_cache_off_saying_why_once(tmp_path, capsys,
                                                                      monkeypatch):
    not_a_folder = tmp_path / "cache"
    not_a_folder.write_text("a file where the cache folder should be")
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    monkeypatch.setenv(environment.CACHE_VARIABLE, str(not_a_folder))
    lstm_baseline.parse_args(["--output-dir", str(tmp_path / "a")])
    lstm_baseline.parse_args(["--output-dir", str(tmp_path / "b")])
    notes = capsys.readouterr().err.strip().splitlines()
    assert len(notes) == 1 and "compilation cache is off" in notes[0]
    assert str(not_a_folder) in notes[0]
    assert os.environ[environment.CACHE_VARIABLE] == "off"


def test_jax_with_an_unusable_cache_prints_the_one_note_and_no_warning(tmp_path):
    not_a_folder = tmp_path / "cache"
    not_a_folder.write_text("a file")
    completed = subprocess.run(
        [sys.executable, "lstm_baseline.py", *TINY, "--output-dir", str(tmp_path / "out")],
        capture_output=True, text=True, cwd=REPOSITORY,
        env={**os.environ, "KERAS_BACKEND": "jax", environment.CACHE_VARIABLE: str(not_a_folder)})
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr.strip().splitlines() == [
        line for line in completed.stderr.strip().splitlines()
        if line.startswith("note: the compilation cache is off")]
    assert len(completed.stderr.strip().splitlines()) == 1


# ---------------------------------------------------------------- interruptions


def test_ctrl_c_prints_a_line_of_its_own_and_exits_130(tmp_path):
    """A real SIGINT sent to a running script, at whatever point it has reached."""
    # A shell starts background jobs with SIGINT ignored, and a child inherits that: the script
    # gets Ctrl-C's default disposition back, as a command typed at a terminal has it.
    process = subprocess.Popen(
        [sys.executable, "lstm_baseline.py", "--epochs", "3000000", "--units", "2",
         "--eval-sequences", "5", "--output-dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPOSITORY,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(5)  # in Keras's import or in training: either way one line and 130
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    lines = stderr.splitlines()
    assert lines[-1].startswith("interrupted: ")
    assert "Traceback" not in stderr
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


# The first cell has the shapes of tests/test_claims_atlas.py's grid, whose compiled programs a
# TensorFlow test session already holds.
ATLAS = ["--timesteps", "6", "--units", "3", "4", "--epochs", "50", "100", "--repeats", "3",
         "--eval-sequences", "20", "--quiet"]


@pytest.mark.slow  # a whole script run, compiling many models: make test-slow
def test_an_interrupted_atlas_continues_and_ends_as_an_uninterrupted_one(tmp_path, capsys,
                                                                        monkeypatch):
    every_model = claims_atlas.get_models  # two of the seven models keep the test quick
    monkeypatch.setattr(claims_atlas, "get_models", lambda *shape: {
        name: build for name, build in every_model(*shape).items()
        if name in ("lstm_forw", "bilstm_con")})
    whole, _ = claims_atlas.main(ATLAS + ["--output-dir", str(tmp_path / "whole")])
    real, calls = claims_atlas.run_cell, []

    def interrupted_in_the_second_cell(n_timesteps, units, args):
        calls.append((n_timesteps, units))
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(n_timesteps, units, args)

    output_dir = tmp_path / "resumed"
    monkeypatch.setattr(claims_atlas, "run_cell", interrupted_in_the_second_cell)
    with pytest.raises(SystemExit) as exit_info:
        claims_atlas.main(ATLAS + ["--output-dir", str(output_dir)])
    assert exit_info.value.code == 130
    assert "1 finished parts are kept" in capsys.readouterr().err
    assert not (output_dir / "results" / "claims_atlas.csv").exists()

    monkeypatch.setattr(claims_atlas, "run_cell", real)
    claims_atlas.main(ATLAS + ["--output-dir", str(output_dir)])
    assert "Reused 1 finished parts" in capsys.readouterr().out
    for name in ("claims_atlas.csv", "claims_atlas_runs.csv"):
        resumed = pd.read_csv(output_dir / "results" / name)
        uninterrupted = pd.read_csv(tmp_path / "whole" / "results" / name)
        resumed = resumed.drop(columns=["train_seconds"], errors="ignore")
        uninterrupted = uninterrupted.drop(columns=["train_seconds"], errors="ignore")
        pd.testing.assert_frame_equal(resumed, uninterrupted)
    assert not (output_dir / ".parts").exists()  # tidied once the files are written


def test_parts_are_reused_only_for_the_same_flags_and_code(tmp_path, monkeypatch):
    from suite import resume

    args = lstm_baseline.parse_args(["--output-dir", str(tmp_path)])
    computed = []

    def compute():
        computed.append(1)
        return {"value": len(computed)}

    assert resume.Parts("script", args).get("part", compute) == {"value": 1}
    assert resume.Parts("script", args).get("part", compute) == {"value": 1}  # read back
    assert len(computed) == 1
    other_flags = lstm_baseline.parse_args(["--seed", "1", "--output-dir", str(tmp_path)])
    assert resume.Parts("script", other_flags).get("part", compute) == {"value": 2}
    assert len(list((tmp_path / ".parts").iterdir())) == 1  # the older flags' parts are gone
    monkeypatch.setattr(resume, "fingerprint", lambda script, args: "another-code-version")
    assert resume.Parts("script", other_flags).get("part", compute) == {"value": 3}


# ---------------------------------------------------------------- thin evidence


def test_the_minimum_is_where_one_sign_by_chance_falls_below_five_percent():
    assert claims.MIN_SEEDS == 6
    assert 2 * 0.5**5 > 0.05 > 2 * 0.5**6


def summary_of(differences):
    return pd.DataFrame([{"model": model, "seed": seed, "final_loss": value}
                         for seed, difference in enumerate(differences)
                         for model, value in (("a", 1.0 + difference), ("b", 1.0))])


def test_fewer_seeds_than_the_minimum_give_no_verdict():
    claim = [claims.Claim("a", "b", "final_loss")]
    five = claims.compare(summary_of([-0.1, -0.2, -0.1, -0.3, -0.2]), claim)
    six = claims.compare(summary_of([-0.1, -0.2, -0.1, -0.3, -0.2, -0.1]), claim)
    assert five["verdict"].iloc[0] == "too few seeds"
    assert six["verdict"].iloc[0] == "supported"
    assert "too few seeds: no verdict from fewer than 6 seeds" in claims.comparison_table(five)


def test_a_one_seed_comparison_prints_and_writes_no_verdict(tmp_path, capsys):
    results = compare_directions.main(["--repeats", "1", "--epochs", "5", "--units", "4",
                                       "--eval-sequences", "20", "--quiet",
                                       "--output-dir", str(tmp_path)])
    assert (results.comparison["verdict"] == "too few seeds").all()
    written = pd.read_csv(tmp_path / "results" / "compare_directions_comparison.csv")
    assert (written["verdict"] == "too few seeds").all()
    printed = capsys.readouterr().out
    assert "supported" not in printed and "inconclusive" not in printed


def test_an_atlas_of_too_few_seeds_says_so_in_its_table_and_plots(tmp_path):
    atlas = pd.DataFrame([{"timesteps": 5, "units": 2, "epochs": 50, "claim": label,
                           "measure": measure, "difference": 0.1, "ci_low": 0.1,
                           "ci_high": 0.1, "verdict": "too few seeds"}
                          for label, *_ in claims_atlas.CLAIMS
                          for measure in claims_atlas.MEASURES])
    assert "too few seeds" in claims_atlas.printed_table(atlas)
    args = claims_atlas.parse_args(["--timesteps", "5", "--units", "2", "--epochs", "50",
                                    "--repeats", "2", "--output-dir", str(tmp_path)])
    figure = claims_atlas.plot(atlas, args)["plots/claims_atlas_final_loss.png"]
    labels = [text.get_text() for legend in figure.legends for text in legend.get_texts()]
    labels += [text.get_text() for sub in figure.subfigs for legend in sub.legends
               for text in legend.get_texts()]
    assert "too few seeds" in labels
