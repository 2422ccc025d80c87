"""The environment a script runs in: requirements, backends, a quiet start of Keras.

- A Python without the requirements, an unknown backend, or one that is not installed: one line
  saying what to do, exit status 2 (`environment_problem`,
  `refuse_a_python_without_the_requirements`).
- A backend or optional package that is installed but fails to import (a broken or mismatched
  build): one line naming it and how to repair it, exit status 2 (`import_keras`, `require`).
- Keras imported with the log that TensorFlow, XLA and absl write straight to the process's
  stderr while they start kept off the terminal (`native_log_filtered`), and Ctrl-C held while
  it loads (`interrupt_deferred`).
- JAX's persistent compilation cache: where it lies, whether it can be used, what it holds.

The standard library only, so that it answers before NumPy or Keras could fail to import.
"""

import contextlib
import importlib
import importlib.util
import json
import os
import re
import signal
import sys
import tempfile
import threading
from pathlib import Path

from suite import outputs

REPOSITORY = Path(__file__).resolve().parent.parent
# What every script needs beyond the standard library (requirements.txt), as import names.
REQUIRED_MODULES = ("numpy", "scipy", "pandas", "matplotlib", "keras")
REINSTALL = "run .venv/bin/python -m pip install -r requirements.txt"
# The Keras backends the suite trains on, with the package each needs and how to install it.
BACKENDS = {
    "tensorflow": ("tensorflow", REINSTALL),
    "jax": ("jax", REINSTALL),
    "torch": ("torch", "make test-torch installs the pinned CPU build "
                       "(.venv/bin/python -m pip install torch==2.13.0)"),
}

# JAX keeps every compiled program on disk here, so a rerun loads it instead of compiling again.
# BILSTM_CACHE=off turns that off; BILSTM_CACHE=<folder> puts the cache there instead.
CACHE_VARIABLE = "BILSTM_CACHE"


def command(module):
    """How a learner runs the script whose `__name__` is `module`, from the repository root:
    ['python', 'lstm_baseline.py'] for a section at the top level, ['python', '-m',
    'book.bilstm_book'] for a script of a topic folder. '__main__' stands for the program this
    process runs; None where that program is not a file (python -c)."""
    if module == "__main__":
        main = sys.modules["__main__"]
        spec, path = getattr(main, "__spec__", None), getattr(main, "__file__", None)
        if spec is None and path is None:
            return None
        module = spec.name if spec is not None else Path(path).stem
    return ["python", "-m", module] if "." in module else ["python", f"{module}.py"]


def program():
    """The command that started this process, as a learner typed it, for the start of an error
    line: 'python -m book.bilstm_book' or 'python lstm_baseline.py', as the parsers name it."""
    options = getattr(sys, "orig_argv", [])[1:]  # the interpreter's own options come first
    for option, following in zip(options, options[1:]):
        if option == "-m":  # also while the module's package is imported, before __main__ is set
            return f"python -m {following}"
        if not option.startswith("-"):
            break
    return " ".join(command("__main__") or ["python"])


def missing_requirements():
    """The required modules this Python cannot find (found, not imported: this stays fast)."""
    return [name for name in REQUIRED_MODULES if importlib.util.find_spec(name) is None]


def requested_backend():
    """The backend Keras will start: KERAS_BACKEND, else keras.json's, else TensorFlow."""
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    config = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "keras.json"
    try:
        return json.loads(config.read_text()).get("backend", "tensorflow")
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


def environment_problem():
    """None if this Python can run the scripts on the requested backend, else what to do."""
    missing = missing_requirements()
    if missing:
        return (f"this Python ({sys.executable}) lacks {', '.join(missing)}: run the scripts "
                "with .venv/bin/python (make demo or make test creates .venv)")
    backend = requested_backend()
    if backend not in BACKENDS:
        return (f"KERAS_BACKEND={backend} is not a backend the suite runs on: use "
                f"{', '.join(BACKENDS)}")
    module, install = BACKENDS[backend]
    if importlib.util.find_spec(module) is None:
        return f"the {backend} backend needs {module}, which this Python lacks: {install}"
    return None


def check_compilation_cache():
    """On JAX, turn the compilation cache off, saying why once, if its folder cannot be used."""
    folder = compilation_cache_dir()
    if folder is None or requested_backend() != "jax":
        return
    problem = outputs.prove_output_dir(folder, ["jax"])
    if problem:
        os.environ[CACHE_VARIABLE] = "off"  # once: later runs in this process see it off
        print(f"note: the compilation cache is off ({CACHE_VARIABLE}): {problem}",
              file=sys.stderr)


def compilation_cache_dir():
    """The folder of JAX's persistent compilation cache, or None when it is turned off."""
    setting = os.environ.get(CACHE_VARIABLE, "")
    if setting.lower() in ("off", "0", "no", "false"):
        return None
    return Path(setting) if setting else REPOSITORY / ".cache"


def compile_cache_state():
    """JAX's compilation cache as a run starts: 'off', or how many compiled programs it holds
    (0: every program compiles in this run)."""
    folder = compilation_cache_dir()
    if folder is None:
        return "off"
    try:
        return f"{sum(1 for _ in (folder / 'jax').iterdir())} programs"
    except OSError:
        return "0 programs"


# ---------------------------------------------------------------- a quiet start

# What TensorFlow, XLA and absl write to file descriptor 2 as they start, below Python, so that
# neither TF_CPP_MIN_LOG_LEVEL nor Python's logging reaches it. On CPUs where TensorFlow turns on
# oneDNN (AVX-512 ones, for example) importing TensorFlow prints, twice:
#   WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
#   I0000 00:00:1795357817.260557    1891 port.cc:153] oneDNN custom operations are on. ...
# Lines in absl's format: severity and date, time (seconds since 1970 before absl's logging is set
# up), thread, file:line].
NATIVE_LOG_LINE = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|[IWEF]\d{4} \d\d:\d\d:[\d.]+ +\d+ [^ \]]+:\d+\] "
    # the second line of TensorFlow's CPU-feature notice
    r"|To enable the following instructions: .* rebuild TensorFlow"
)


@contextlib.contextmanager
def native_log_filtered():
    """Keep native start-up log lines written to fd 2 inside the block off the terminal.

    File descriptor 2 points at a temporary file while the block runs; when it ends, every line
    that is not a native log line (a Python warning, an error message) is passed on to stderr.
    This only moves bytes: nothing TensorFlow computes changes.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            for line in captured.read().decode(errors="replace").splitlines(keepends=True):
                if not NATIVE_LOG_LINE.match(line):
                    sys.stderr.write(line)
            sys.stderr.flush()


@contextlib.contextmanager
def interrupt_deferred():
    """Hold Ctrl-C until the block ends, then raise it.

    Some imports inside TensorFlow catch every exception, KeyboardInterrupt included, so Ctrl-C
    while Keras loads could be swallowed and the run go on. Only the main thread can do this.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: received.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt


def interrupted_anywhere(kind, value, traceback):
    """Ctrl-C outside the parts that keep files (while Keras loads, say): one line, exit 130."""
    if not issubclass(kind, KeyboardInterrupt):
        return sys.__excepthook__(kind, value, traceback)
    sys.stdout.flush()
    sys.stderr.write("\ninterrupted: files are only ever replaced whole, so none is half-written\n")
    sys.stderr.flush()
    os._exit(outputs.INTERRUPTED)  # the status a shell expects after Ctrl-C; nothing is pending


def import_problem(module):
    """None once `module` is imported (it stays imported), else what is wrong: 'missing', or the
    error that a broken or mismatched build raised as it was imported."""
    if importlib.util.find_spec(module) is None:
        return "missing"
    try:
        with native_log_filtered():
            importlib.import_module(module)
    except Exception as error:  # a broken or mismatched build: any error its import raises
        return one_line(error)
    return None


def importable(module):
    """Whether `module` is installed and imports without an error (it stays imported)."""
    return import_problem(module) is None


def require(module, install):
    """For a script that needs an optional package (PyTorch): where it is missing, or installed
    but failing to import, one line saying what to do, exit status 2 (not a traceback)."""
    problem = import_problem(module)
    if problem == "missing":
        sys.stderr.write(f"{program()}: error: this script needs {module}, which this Python "
                         f"lacks: {install}\n")
        raise SystemExit(2)
    if problem:
        sys.stderr.write(f"{program()}: error: {module} is installed but fails to import "
                         f"({problem}): reinstall it: {install}\n")
        raise SystemExit(2)


def one_line(error):
    """An exception as '<Type>: <its first line>'."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def import_keras():
    """Import Keras, and start its backend, with the native start-up log filtered out.

    A package it needs that is installed but fails to import (a broken or mismatched build of
    the backend, of TensorFlow, which Keras imports whatever the backend, or of Keras itself) is
    one line naming it and how to repair it, exit status 2.
    """
    if getattr(import_keras, "done", False):  # once: builders call it from training threads
        return sys.modules["keras"]
    # TensorFlow's later C++ log (once absl's logging is set up) honours this level.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    backend = requested_backend()
    package, install = BACKENDS.get(backend, (backend, REINSTALL))
    # The backend's package first, then TensorFlow, which Keras imports whenever it is installed,
    # whatever the backend (to serialize a layer, as Bidirectional does when it copies its LSTM).
    tensorflow = ["tensorflow"] if importlib.util.find_spec("tensorflow") is not None else []
    for module in dict.fromkeys([package, *tensorflow, "keras"]):
        try:
            with interrupt_deferred(), native_log_filtered():
                importlib.import_module(module)
                if module == "jax":
                    sys.modules["jax"].devices()  # the CPU client logs its devices as it starts
        except Exception as error:  # a broken or mismatched build: any error its import raises
            how = install if module == package else REINSTALL
            sys.stderr.write(f"{program()}: error: Keras cannot start the {backend} backend: "
                             f"{module} is installed but fails to import ({one_line(error)}): "
                             f"reinstall it: {how}\n")
            raise SystemExit(2) from None
    import_keras.done = True
    return sys.modules["keras"]


def refuse_a_python_without_the_requirements():
    """A Python that lacks the requirements: one line and exit status 2, before a script's own
    imports of NumPy or pandas would fail with a traceback. The package runs it as it is first
    imported, wherever the importing script lies."""
    if missing_requirements():
        sys.stderr.write(f"{program()}: error: {environment_problem()}\n")
        raise SystemExit(2)
