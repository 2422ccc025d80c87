import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))



def script_command(module):
    """The command that runs the script `module` from the repository root with this Python:
    [python, 'lstm_baseline.py'] for 'lstm_baseline', [python, '-m', 'book.bilstm_book'] for
    'book.bilstm_book'."""
    return [sys.executable, "-m", module] if "." in module else [sys.executable, f"{module}.py"]


def pytest_configure(config):
    # NumPy 2 warns inside Keras's own code on JAX (keras/src/backend/common/variables.py calls
    # np.array on a variable whose __array__ takes no copy keyword): not ours, so a warning of
    # ours stands out.
    config.addinivalue_line(
        "filterwarnings",
        "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")
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
