"""The tutorial's own script, `bench/tutorial_bilstm.py`, runs: a smoke run on a tiny budget.

bench/bench.py times the script's 1,000 `fit` calls; here it runs as its own process with three, its
source otherwise as written. TensorFlow only (the script's own backend): a fresh process pays the
backend's import, which is most of the run.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
SCRIPT = REPOSITORY / "bench" / "tutorial_bilstm.py"
EPOCHS = 3

# Runs the script's source with its training loop cut from 1,000 fit calls to EPOCHS.
SHORTENED = (
    "import sys\n"
    "path = sys.argv[1]\n"
    "sys.argv = [path]\n"
    "source = open(path).read()\n"
    "assert source.count('range(1000)') == 1, 'the training loop is no longer range(1000)'\n"
    f"source = source.replace('range(1000)', 'range({EPOCHS})')\n"
    "exec(compile(source, path, 'exec'), {'__name__': '__main__', '__file__': path})\n"
)


def test_the_tutorial_script_trains_and_prints_expected_and_predicted(tmp_path):
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2"}
    completed = subprocess.run([sys.executable, "-c", SHORTENED, str(SCRIPT)], cwd=tmp_path,
                               env=env, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    lines = completed.stdout.splitlines()
    # verbose=2: one line per fit call, with the loss and accuracy of its one sequence.
    fits = [line for line in lines if re.fullmatch(r"1/1 - .*loss: [0-9.]+.*", line.strip())]
    assert len(fits) == EPOCHS and all("acc: " in line for line in fits)
    # The tutorial's closing print: one line per timestep of one fresh sequence, y and yhat of
    # shape (1,) each.
    printed = [line for line in lines if line.startswith("Expected:")]
    assert len(printed) == 10
    assert all(re.fullmatch(r"Expected: \[[01]\] Predicted \[[01]\]", line) for line in printed)
    # The labels are a cumulative-sum threshold: 0...0 then 1...1.
    expected = [int(line[len("Expected: [")]) for line in printed]
    assert expected == sorted(expected)
    assert not list(tmp_path.iterdir())  # it writes nothing


def test_help_answers_at_once_and_a_flag_is_refused(without_keras):
    """The tutorial's script takes no flags: --help prints its page before Keras loads (importing
    Keras fails here), any flag is one line, exit 2."""
    helped = subprocess.run([sys.executable, "-m", "bench.tutorial_bilstm", "--help"],
                            cwd=REPOSITORY, env=without_keras, capture_output=True, text=True)
    assert helped.returncode == 0, helped.stderr
    assert "python -m bench.tutorial_bilstm" in helped.stdout
    refused = subprocess.run([sys.executable, "-m", "bench.tutorial_bilstm", "--epochs", "3"],
                             cwd=REPOSITORY, env=without_keras, capture_output=True, text=True)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.strip().splitlines() == [
        "error: the tutorial's script takes no flags, got: --epochs 3"]
