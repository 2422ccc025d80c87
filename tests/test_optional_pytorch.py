"""The plain PyTorch scripts without PyTorch: what `make test` checks before PyTorch is installed.

PyTorch is optional (`make test-torch` installs the pinned CPU build). Without it, or with a
PyTorch that fails to import (both provoked here, whether or not it is installed), both plain
PyTorch scripts answer --help, say that they need it, and refuse a run in one line, exit 2.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent

PLAIN_PYTORCH_SCRIPTS = ["pytorch.text_classify_pytorch", "pytorch.bilstm_pytorch"]


def run_without_torch(script, argv, env=None):
    """`python -m script argv` in a Python where importing torch fails: sys.modules['torch'] =
    None hides it, as on a machine without PyTorch."""
    program = ("import runpy, sys\n"
               "sys.modules['torch'] = None\n"
               f"sys.argv = ['{script}', *{list(argv)!r}]\n"
               f"runpy.run_module('{script}', run_name='__main__')\n")
    return subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          cwd=REPOSITORY, env=env)


@pytest.mark.parametrize("script", PLAIN_PYTORCH_SCRIPTS)
def test_help_answers_without_pytorch(script):
    completed = run_without_torch(script, ["--help"])
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("usage:") and "--output-dir" in completed.stdout
    assert "plain PyTorch" in completed.stdout  # the docstring's title


@pytest.mark.parametrize("script", PLAIN_PYTORCH_SCRIPTS)
def test_the_help_says_the_script_needs_pytorch(script):
    completed = run_without_torch(script, ["--help"])
    assert "It needs PyTorch" in completed.stdout and "make test-torch" in completed.stdout


@pytest.mark.parametrize("script", PLAIN_PYTORCH_SCRIPTS)
def test_a_run_without_pytorch_says_how_to_install_it(script, tmp_path):
    completed = run_without_torch(script, ["--output-dir", str(tmp_path / "out")])
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert len(completed.stderr.strip().splitlines()) == 1, completed.stderr
    assert "torch==2.13.0" in completed.stderr and "make test-torch" in completed.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("error", ["ImportError", "OSError"])
@pytest.mark.parametrize("script", PLAIN_PYTORCH_SCRIPTS)
def test_a_pytorch_that_fails_to_import_is_one_line(script, error, tmp_path):
    """A torch package that is there but raises as it is imported (a broken or mismatched
    build, provoked by a fake one on PYTHONPATH): one line naming it and how to reinstall it,
    exit status 2, nothing written."""
    (tmp_path / "fake" / "torch").mkdir(parents=True)
    (tmp_path / "fake" / "torch" / "__init__.py").write_text(
        f"raise {error}('libtorch_cpu.so: cannot open shared object file')\n")
    completed = subprocess.run(
        [sys.executable, "-m", script, "--output-dir", str(tmp_path / "out")],
        capture_output=True, text=True, cwd=REPOSITORY,
        env={**os.environ, "PYTHONPATH": str(tmp_path / "fake")})
    assert completed.returncode == 2, completed.stderr
    error_line = completed.stderr.strip()
    assert len(error_line.splitlines()) == 1, completed.stderr
    assert "torch is installed but fails to import" in error_line
    assert f"{error}: libtorch_cpu.so" in error_line and "make test-torch" in error_line
    assert not (tmp_path / "out").exists()
