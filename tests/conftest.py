import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from suite.outputs import command_of  # noqa: E402


def script_command(script):
    """The command that runs `script` from the repository root with this Python:
    [python, 'lstm_baseline.py'] or [python, '-m', 'book.bilstm_book']."""
    return [sys.executable, *command_of(script)[1:]]


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "backend: depends on the Keras backend; `make test` runs these on TensorFlow and JAX"
    )
    config.addinivalue_line(
        "markers", "slow: reruns whole runs; `make test` runs these on JAX only when they are also "
        "backend tests, `make test-slow` runs them all on TensorFlow (CI runs both)")


@pytest.fixture
def assert_flag_error(tmp_path, capsys):
    """check(main, flags, named): main(flags) exits 2 with one line naming `named`, writing nothing."""

    def check(main, flags, named):
        with pytest.raises(SystemExit) as exit_info:
            main(flags + ["--output-dir", str(tmp_path / "out")])
        assert exit_info.value.code == 2
        error = capsys.readouterr().err.strip()
        assert len(error.splitlines()) == 1 and named in error
        assert not (tmp_path / "out").exists()

    return check


@pytest.fixture
def without_keras(tmp_path):
    """An environment in which importing keras, tensorflow or jax raises ImportError: for the
    plain PyTorch scripts, which must never import them."""
    for name in ("keras", "tensorflow", "jax"):
        (tmp_path / "fake" / name).mkdir(parents=True)
        (tmp_path / "fake" / name / "__init__.py").write_text(
            f"raise ImportError('{name} was imported')\n")
    return {**os.environ, "PYTHONPATH": str(tmp_path / "fake")}
