"""First contact: flags before Keras, a quiet start on any CPU, and no finished run lost."""

import errno
import os
import platform
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest

import lstm_baseline
from conftest import script_command
from suite import environment, outputs

REPOSITORY = Path(__file__).resolve().parent.parent
SCRIPTS = ["lstm_baseline", "bilstm_classify", "compare_directions", "compare_merge_modes",
           "book.bilstm_book", "book.sweep_sequence_length", "book.smallest_model",
           "experiments.inside_the_model", "experiments.originals", "experiments.claims_atlas",
           "experiments.streaming", "experiments.forecasting",
           "experiments.stacked_and_unmerged", "sequences.classify_sequences", "bench.bench"]
# Refused values per script: (flags, what the one-line error must name).
REFUSED = {
    "lstm_baseline": [(["--epochs", "0"], "--epochs"), (["--seed", "-1"], "--seed"),
                      (["--no-such-flag"], "unrecognized")],
    "bilstm_classify": [(["--units", "2.5"], "--units"), (["--timesteps", "0"], "--timesteps")],
    "compare_directions": [(["--repeats", "-1"], "--repeats"),
                           (["--eval-sequences", "0"], "--eval-sequences")],
    "compare_merge_modes": [(["--merge-modes", "max"], "--merge-modes"),
                            (["--merge-modes", "sum", "sum"], "--merge-modes")],
    "book.bilstm_book": [(["--sequences", "45"], "--sequences"),
                         (["--epochs", "5"], "unrecognized")],
    "book.sweep_sequence_length": [(["--units", "5", "5"], "--units")],
    "book.smallest_model": [(["--required", "6"], "--required"), (["--every", "15"], "--every")],
    "experiments.inside_the_model": [(["--eval-sequences", "2"], "--eval-sequences")],
    "experiments.streaming": [(["--timesteps", "0"], "--timesteps")],
    "experiments.forecasting": [(["--window", "200"], "--window")],
    "experiments.stacked_and_unmerged": [(["--heldout-every", "300"], "--heldout-every")],
    "experiments.originals": [(["--book-sequences", "15"], "--book-sequences")],
    "experiments.claims_atlas": [(["--epochs", "250", "250"], "--epochs")],
    "sequences.classify_sequences": [(["--min-length", "11"], "--min-length"),
                                     (["--model", "lstm_forw", "lstm_forw"], "--model"),
                                     (["--labels", "word"], "--labels"),
                                     (["--data", "a.csv", "--dataset", "tutorial"], "--dataset")],
    "bench.bench": [(["--backends", "mxnet"], "--backends"), (["--tutorial-steps", "0"],
                                                         "--tutorial-steps")],
}
# Two start-up lines as TensorFlow 2.21 writes them to fd 2 on a CPU with AVX-512.
TENSORFLOW_NOISE = (
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
    b"I0000 00:00:1795357817.260557    1891 port.cc:153] oneDNN custom operations are on. You "
    b"may see slightly different numerical results due to floating-point round-off errors from "
    b"different computation orders. To turn them off, set the environment variable "
    b"`TF_ENABLE_ONEDNN_OPTS=0`.\n"
    b"I1122 14:30:52.059670    1950 pjrt_client.cc:579] PjRt-IFRT device count: total=1\n"
    b"I0000 00:00:1795357989.771940    2855 cpu_feature_guard.cc:227] This TensorFlow binary is "
    b"optimized to use available CPU instructions in performance-critical operations.\n"
    b"To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild "
    b"TensorFlow with the appropriate compiler flags.\n"
)


@pytest.fixture(scope="module")
def no_frameworks(tmp_path_factory):
    """A PYTHONPATH where importing keras, tensorflow or jax fails loudly."""
    folder = tmp_path_factory.mktemp("no_frameworks")
    for name in ("keras", "tensorflow", "jax"):
        (folder / name).mkdir()
        (folder / name / "__init__.py").write_text(
            f"raise ImportError('{name} was imported before the flags were checked')\n")
    return folder


def run_script(script, flags, pythonpath=None, env=None):
    environment = {**os.environ, **(env or {})}
    environment.pop("TF_CPP_MIN_LOG_LEVEL", None)  # as in a new shell: the script sets its own
    if pythonpath:
        environment["PYTHONPATH"] = str(pythonpath)
    return subprocess.run([*script_command(script), *flags],
                          capture_output=True, text=True, env=environment, cwd=REPOSITORY)


@pytest.mark.parametrize("script", SCRIPTS)
def test_help_answers_without_keras_and_reads_as_written(script, no_frameworks):
    completed = run_script(script, ["--help"], no_frameworks)
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    # The docstring's command line keeps its own line; the defaults are shown.
    command = f"python -m {script}" if "." in script else f"python {script}.py"
    assert completed.stdout.startswith(f"usage: {command} [-h]")
    assert re.search(rf"^    (\w+=\w+ )?{re.escape(command)}$", completed.stdout, re.MULTILINE)
    assert "(default: " in completed.stdout


@pytest.mark.parametrize("script, flags, named",
                         [(s, f, n) for s, cases in REFUSED.items() for f, n in cases],
                         ids=[f"{s} {' '.join(f)}" for s, cases in REFUSED.items() for f, _ in cases])
def test_refused_value_is_one_line_before_keras(script, flags, named, no_frameworks, tmp_path):
    completed = run_script(script, flags + ["--output-dir", str(tmp_path / "out")], no_frameworks)
    assert completed.returncode == 2
    assert len(completed.stderr.splitlines()) == 1 and named in completed.stderr
    assert completed.stdout == ""
    assert not (tmp_path / "out").exists()


def test_unwritable_output_dir_is_refused_before_keras(no_frameworks):
    # /proc refuses new folders even to root, for whom os.access would say yes.
    completed = run_script("lstm_baseline", ["--output-dir", "/proc/nope"], no_frameworks)
    assert completed.returncode == 2
    assert len(completed.stderr.splitlines()) == 1 and "--output-dir" in completed.stderr
    assert not Path("/proc/nope").exists()


def test_a_refused_probe_leaves_no_folder_behind(tmp_path, monkeypatch, capsys):
    """A full disk, provoked: writing the probe file fails, so the folders made for it go."""

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device", str(kwargs.get("dir")))

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", disk_full)
    output_dir = tmp_path / "new" / "deeper"
    with pytest.raises(SystemExit) as exit_info:
        lstm_baseline.main(["--output-dir", str(output_dir)])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1
    assert "--output-dir" in error and "No space left on device" in error
    assert list(tmp_path.iterdir()) == []


def test_the_probe_keeps_existing_folders_and_leaves_no_file(tmp_path):
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "kept.csv").write_text("a\n1\n")
    assert outputs.prove_output_dir(tmp_path) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plots", "results"]
    assert [p.name for p in (tmp_path / "results").iterdir()] == ["kept.csv"]
    assert list((tmp_path / "plots").iterdir()) == []


def test_results_go_to_a_fallback_folder_when_the_output_folder_is_replaced(tmp_path,
                                                                          monkeypatch):
    """The output folder is replaced by a file while the run trains: nothing measured is lost."""
    from suite import training

    output_dir = tmp_path / "out"
    real = training.run_repeats

    def train_then_replace_folder(*args, **kwargs):
        runs = real(*args, **kwargs)
        for path in sorted(output_dir.rglob("*"), reverse=True):
            path.rmdir()
        output_dir.rmdir()
        output_dir.write_text("not a folder any more")
        return runs

    monkeypatch.setattr(training, "run_repeats", train_then_replace_folder)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    flags = ["--epochs", "5", "--units", "2", "--eval-sequences", "5", "--quiet"]
    with pytest.raises(SystemExit) as exit_info:
        lstm_baseline.main(flags + ["--output-dir", str(output_dir)])
    message = exit_info.value.code
    assert isinstance(message, str)  # a message, so the exit status is 1
    assert len(message.splitlines()) == 1 and str(output_dir) in message
    fallback = Path(re.search(r"written to (\S+) instead", message).group(1))
    assert fallback.parent == tmp_path and fallback.name.startswith("lstm_baseline-")
    losses = pd.read_csv(fallback / "results" / "lstm_baseline.csv")
    assert list(losses.columns) == ["model", "seed", "epoch", "loss"] and len(losses) == 5
    assert (fallback / "results" / "lstm_baseline_summary.csv").exists()
    assert (fallback / "plots" / "lstm_baseline.png").stat().st_size > 10_000
    assert output_dir.read_text() == "not a folder any more"


def _disk_full_under(folder):
    """A DataFrame.to_csv that fails with ENOSPC for every file under `folder`, as a full disk."""
    real = pd.DataFrame.to_csv

    def to_csv(self, path, *args, **kwargs):
        if str(path).startswith(str(folder)):
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(self, path, *args, **kwargs)

    return to_csv


FLAGS = ["--epochs", "5", "--units", "2", "--eval-sequences", "5", "--quiet"]


def _message_on_a_full_disk(full, tempdir, output_dir, monkeypatch):
    """Run a tiny lstm_baseline with a disk that is full under `full`; its one-line message."""
    monkeypatch.setattr(pd.DataFrame, "to_csv", _disk_full_under(full))
    monkeypatch.setattr(tempfile, "tempdir", str(tempdir))
    with pytest.raises(SystemExit) as exit_info:
        lstm_baseline.main(FLAGS + ["--output-dir", str(output_dir)])
    message = exit_info.value.code
    assert isinstance(message, str) and len(message.splitlines()) == 1  # exit status 1
    return message


def test_a_full_disk_after_training_sends_every_file_to_the_fallback(tmp_path, monkeypatch):
    output_dir, spare = tmp_path / "full", tmp_path / "spare"
    spare.mkdir()
    message = _message_on_a_full_disk(output_dir, spare, output_dir, monkeypatch)
    assert "No space left on device" in message
    fallback = Path(re.search(r"written to (\S+) instead", message).group(1))
    assert fallback.parent == spare
    assert sorted(p.name for p in (fallback / "results").iterdir()) == [
        "lstm_baseline.csv", "lstm_baseline_run.csv", "lstm_baseline_summary.csv"]
    assert (fallback / "plots" / "lstm_baseline.png").exists()
    assert not [p for p in output_dir.rglob("*") if p.is_file()]


def test_when_the_fallback_fails_too_the_run_says_so_in_one_line(tmp_path, monkeypatch):
    message = _message_on_a_full_disk(tmp_path, tmp_path, tmp_path / "full", monkeypatch)
    assert "the fallback folder failed too" in message
    assert "nothing of this run could be written" in message
    # (TensorFlow's autograph may leave its own generated .py files in the temporary folder.)
    assert not [p for p in tmp_path.rglob("*") if p.suffix in (".csv", ".png", ".tmp")]
    assert not list(tmp_path.glob("lstm_baseline-*"))  # no empty fallback folder left behind


def test_native_start_up_lines_are_filtered_and_everything_else_passes(tmp_path, capfd,
                                                                       monkeypatch):
    """The mechanism itself, on any machine: a module that writes TensorFlow's start-up lines
    to file descriptor 2 as it is imported, the way TensorFlow does on AVX-512 CPUs."""
    (tmp_path / "noisy_native_module.py").write_text(
        "import os\n"
        f"os.write(2, {TENSORFLOW_NOISE!r})\n"
        "os.write(2, b'a real problem\\n')\n"
        "print('to stdout')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    capfd.readouterr()
    with environment.native_log_filtered():
        import noisy_native_module  # noqa: F401
    captured = capfd.readouterr()
    assert captured.err == "a real problem\n"
    assert captured.out == "to stdout\n"


def _noisy_tensorflow(folder):
    """A sitecustomize that makes `import tensorflow` write its start-up lines to file
    descriptor 2 first, as TensorFlow does on AVX-512 CPUs: noise on any machine."""
    (folder / "sitecustomize.py").write_text(
        "import importlib.abc, importlib.util, os, sys\n"
        "class Noisy(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name != 'tensorflow':\n"
        "            return None\n"
        "        sys.meta_path.remove(self)\n"
        "        spec = importlib.util.find_spec(name)\n"
        "        run = spec.loader.exec_module\n"
        f"        spec.loader.exec_module = lambda m: (os.write(2, {TENSORFLOW_NOISE!r}), run(m))\n"
        "        return spec\n"
        "sys.meta_path.insert(0, Noisy())\n")
    return {**os.environ, "PYTHONPATH": f"{folder}{os.pathsep}{REPOSITORY}"}


def test_a_run_starts_quietly_where_tensorflow_is_made_noisy_on_any_cpu(tmp_path):
    (tmp_path / "site").mkdir()
    noisy = _noisy_tensorflow(tmp_path / "site")
    control = subprocess.run([sys.executable, "-c", "import tensorflow"], capture_output=True,
                             text=True, env=noisy)
    assert "oneDNN custom operations are on" in control.stderr  # the noise is there
    completed = subprocess.run(
        [sys.executable, "lstm_baseline.py", "--epochs", "3", "--units", "2",
         "--eval-sequences", "3", "--quiet", "--output-dir", str(tmp_path / "out")],
        capture_output=True, text=True, env=noisy, cwd=REPOSITORY)
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""


@pytest.mark.slow
def test_a_run_starts_quietly_where_tensorflow_is_noisy(tmp_path):
    """oneDNN forced on makes TensorFlow print its start-up lines on any x86-64 CPU, whatever
    TF_CPP_MIN_LOG_LEVEL says."""
    noisy = {"TF_ENABLE_ONEDNN_OPTS": "1"}
    if platform.machine() in ("x86_64", "AMD64"):
        control = subprocess.run([sys.executable, "-c", "import tensorflow"], capture_output=True,
                                 text=True, env={**os.environ, **noisy, "TF_CPP_MIN_LOG_LEVEL": "3"})
        assert "oneDNN custom operations are on" in control.stderr
    completed = run_script("bilstm_classify", ["--epochs", "3", "--units", "2",
                                               "--eval-sequences", "3", "--quiet",
                                               "--output-dir", str(tmp_path)], env=noisy)
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    assert "bilstm_con" in completed.stdout


def test_bilstm_builder_used_as_a_library_starts_as_quietly_as_a_script():
    """From a Python shell, building the tutorial's BiLSTM loads Keras without the native log."""
    noisy = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": "1", "PYTHONPATH": str(REPOSITORY),
             "KERAS_BACKEND": "tensorflow"}
    noisy.pop("TF_CPP_MIN_LOG_LEVEL", None)
    completed = subprocess.run(
        [sys.executable, "-c",
         "import bilstm_classify; print(bilstm_classify.build_model().count_params())"],
        capture_output=True, text=True, env=noisy, cwd=REPOSITORY)
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == ""
    assert completed.stdout.split() == ["3561"]


def test_every_model_builder_imports_keras_through_the_quiet_start():
    """Each function of a script or module that imports Keras first calls
    environment.import_keras(), so
    the one measured above stands for all of them."""
    import ast

    builders = 0
    for path in sorted(REPOSITORY.glob("*.py")) + sorted(REPOSITORY.glob("*/*.py")):
        if path.parent.name == "tests":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef):
                continue
            body = [ast.unparse(statement) for statement in node.body]
            imports = [i for i, line in enumerate(body) if line == "import keras"]
            if not imports:
                continue
            builders += 1
            quiet = [i for i, line in enumerate(body) if line == "environment.import_keras()"]
            assert quiet and quiet[0] < imports[0], f"{path.name}: {node.name}"
    assert builders >= 3
