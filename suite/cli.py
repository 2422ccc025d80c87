"""Command lines: flags read and checked before Keras loads, and a quiet start.

Importing Keras imports TensorFlow, which takes seconds, so every script parses its flags with
this module (argparse and the standard library only) and imports Keras afterwards: `--help` and a
bad value answer at once. A bad value is one line naming the flag, exit status 2; so is a run the
machine's memory cannot hold (estimated from the flags), a Python without the requirements, or a
backend that is unknown or not installed. `import_keras` then loads Keras with the log that
TensorFlow, XLA and absl write straight to the process's stderr while they start kept off the
terminal.
"""

import argparse
import contextlib
import importlib.util
import json
import os
import re
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

from suite import outputs

REPOSITORY = Path(__file__).resolve().parent.parent
# A learner's run goes here (git-ignored); the committed plots/ and results/ are rewritten only by
# the make targets, which pass --output-dir . (make demo OUT=.).
DEFAULT_OUTPUT_DIR = REPOSITORY / "runs"
# What every script needs beyond the standard library (requirements.txt), as import names.
REQUIRED_MODULES = ("numpy", "scipy", "pandas", "matplotlib", "keras")
# The Keras backends the suite trains on, with the package each needs and how to install it.
BACKENDS = {
    "tensorflow": ("tensorflow", "run .venv/bin/python -m pip install -r requirements.txt"),
    "jax": ("jax", "run .venv/bin/python -m pip install -r requirements.txt"),
    "torch": ("torch", "make test-torch installs the pinned CPU build "
                       "(.venv/bin/python -m pip install torch==2.13.0)"),
}

# JAX keeps every compiled program on disk here, so a rerun loads it instead of compiling again.
# BILSTM_CACHE=off turns that off; BILSTM_CACHE=<folder> puts the cache there instead.
CACHE_VARIABLE = "BILSTM_CACHE"


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """--help shows the docstring as written (its commands keep their lines) and every default."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse with the defaults in --help and a bad value reported on one line (exit 2)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(**kwargs)

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def int_at_least(minimum):
    """An argparse type: an integer of at least `minimum`."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


positive_int = int_at_least(1)  # counts: epochs, units, repeats, sequences
non_negative_int = int_at_least(0)  # seeds


def add_common_arguments(parser, epochs, repeats, units=20):
    """The flags every section script shares, with the script's own defaults.

    epochs=None leaves out --epochs, for scripts that count training in sequences and batches.
    """
    parser.add_argument("--timesteps", type=positive_int, default=10,
                        help="values per sequence; the label flips when their sum reaches timesteps/4")
    if epochs is not None:
        parser.add_argument("--epochs", type=positive_int, default=epochs,
                            help="training epochs, each one fresh sequence with batch size 1")
    parser.add_argument("--units", type=positive_int, default=units,
                        help="memory units in each LSTM")
    return add_run_arguments(parser, repeats)


def add_run_arguments(parser, repeats, eval_sequences=1000):
    """Seeds, held-out set, output folder and verbosity: the flags of every script."""
    add_seed_arguments(parser, repeats)
    parser.add_argument("--eval-sequences", type=positive_int, default=eval_sequences,
                        help="fresh held-out sequences each trained model is scored on")
    add_output_argument(parser)
    add_quiet_argument(parser)
    return parser


def add_seed_arguments(parser, repeats, fixes="data, initial weights and training"):
    """--seed and --repeats; `fixes` says what a seed fixes in this script."""
    parser.add_argument("--seed", type=non_negative_int, default=0,
                        help=f"seed of the first run; it fixes {fixes}")
    parser.add_argument("--repeats", type=positive_int, default=repeats,
                        help="independent runs, with seeds seed .. seed+repeats-1")


def add_quiet_argument(parser, help="print only the final table"):
    parser.add_argument("--quiet", action="store_true", help=help)


def add_corpus_package_argument(parser):
    """--corpus-package: the text scripts' corpora from a .deb on disk instead of apt-get."""
    parser.add_argument("--corpus-package", type=Path, metavar="FILE",
                        help="a downloaded python3-pattern .deb to take the corpora from, on a "
                             "machine without apt")


def add_output_argument(parser, help="folder that receives plots/ and results/ (the committed "
                                          "ones are rewritten with --output-dir .)"):
    parser.add_argument("--output-dir", type=Path, default=DEFAULT_OUTPUT_DIR, help=help)


def describe_seeds(args):
    """The runs of --seed and --repeats in words: '1 run (seed 0)', '30 runs (seeds 0-29)'."""
    if args.repeats == 1:
        return f"1 run (seed {args.seed})"
    return f"{args.repeats} runs (seeds {args.seed}-{args.seed + args.repeats - 1})"


def add_heldout_argument(parser):
    """--heldout-every: held-out learning curves from checkpoints of the same runs."""
    parser.add_argument("--heldout-every", type=non_negative_int, default=0, metavar="EPOCHS",
                        help="also score the held-out sequences every this many epochs, for the "
                             "held-out learning curves (0: only after the last epoch)")


def check_heldout_every(parser, args):
    if args.heldout_every and args.epochs % args.heldout_every:
        parser.error(f"argument --heldout-every: {args.heldout_every} does not divide --epochs "
                     f"{args.epochs}")


def check_distinct(parser, args, *names):
    """Exit 2 with one line if a list flag repeats a value."""
    for name in names:
        values = getattr(args, name)
        if len(set(values)) != len(values):
            parser.error(f"argument --{name.replace('_', '-')}: each value may be given once")


def check_whole_batches(parser, sequences, batch_size, flag="--sequences"):
    """Exit 2 with one line unless the sequences fill whole batches."""
    if sequences % batch_size:
        parser.error(f"argument {flag}: {sequences} is not a multiple of the batch size "
                     f"{batch_size}")


def parse(parser, argv=None, check=None, subfolders=("plots", "results")):
    """Parse `argv`, run check(args) for what argparse cannot check alone, check that this Python
    has the requirements, then prove the output folder by writing in it: all before any work is
    done, so a refused run leaves nothing behind.

    The returned namespace also records the run (`argv`, `started`, `compile_cache`) for the
    run's own record, `results/<script>_run.csv` (`outputs.run_record`).
    """
    started = time.perf_counter()
    if argv is None:  # a script run from the command line, not main() called from Python
        sys.excepthook = interrupted_anywhere
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    if check is not None:
        check(args)
    needed, flag, what = memory_estimate(args)
    available = available_memory()
    if available is not None and needed > available:
        parser.error(f"argument {flag}: this run would hold about {needed / 2**30:,.1f} GiB at "
                     f"once ({what}), more than the {available / 2**30:,.1f} GiB of memory "
                     "available")
    problem = environment_problem()
    if problem:
        parser.exit(2, f"{parser.prog}: error: {problem}\n")
    problem = outputs.prove_output_dir(args.output_dir, subfolders)
    if problem:
        parser.error(f"argument --output-dir: {problem}")
    check_compilation_cache()
    args.argv, args.started, args.compile_cache = argv, started, compile_cache_state()
    return args


def interrupted_anywhere(kind, value, traceback):
    """Ctrl-C outside the parts that keep files (while Keras loads, say): one line, exit 130."""
    if not issubclass(kind, KeyboardInterrupt):
        return sys.__excepthook__(kind, value, traceback)
    sys.stdout.flush()
    sys.stderr.write("\ninterrupted: files are only ever replaced whole, so none is half-written\n")
    sys.stderr.flush()
    os._exit(outputs.INTERRUPTED)  # the status a shell expects after Ctrl-C; nothing is pending


# ---------------------------------------------------------------- memory


def largest(args, name, default):
    """A flag's value, the largest one for a flag that takes a list; default if absent."""
    value = getattr(args, name, None)
    if value is None:
        return default
    return max(value) if isinstance(value, (list, tuple)) else value


def memory_estimate(args):
    """What a run of these flags holds at once, roughly, in bytes: (bytes, flag, in words).

    The terms, for the largest setting a script's flags allow: the training sequences of every
    seed (float32 values and int32 labels, stacked from one seed's float64 draws); the held-out
    sequences with one set of predictions per checkpoint and, for each of the two models that
    train side by side, the LSTM outputs of predicting all of them at once; and for those two
    models every seed's weights with Adam's two moments and a gradient. `flag` names the
    largest term.
    """
    timesteps = largest(args, "timesteps", 10)
    units = largest(args, "units", 20)
    repeats = getattr(args, "repeats", 1)
    batch_size = largest(args, "batch_size", largest(args, "batch_sizes", 1))
    epochs = largest(args, "epochs", 1)
    sequences = max(epochs * batch_size, largest(args, "sequences", 0),
                    largest(args, "max_sequences", 0), largest(args, "book_sequences", 0))
    eval_sequences = getattr(args, "eval_sequences", 0)
    every = (getattr(args, "heldout_every", 0) or getattr(args, "every", 0)
             or (min(args.epochs) if isinstance(getattr(args, "epochs", None), list) else 0))
    checkpoints = 1 + (sequences // batch_size // every if every else 0)
    weights = 2 * (4 * units * (units + 2) + 2 * units + 1)  # a BiLSTM, the largest model
    terms = {
        "--epochs" if sequences == epochs * batch_size else "--sequences":
            (repeats + 1) * sequences * timesteps * 16,
        "--eval-sequences": repeats * eval_sequences * timesteps * (8 + 4 * checkpoints
                                                                    + 2 * 4 * 2 * units),
        "--units": 2 * repeats * 4 * 4 * weights,
    }
    flag = max(terms, key=terms.get)
    names = {"--epochs": "training sequences", "--sequences": "training sequences",
             "--eval-sequences": "held-out sequences, predictions and activations",
             "--units": "weights and optimizer state"}
    what = ", ".join(f"{names[f]} {b / 2**30:,.1f} GiB" for f, b in terms.items())
    return sum(terms.values()), flag, what


def available_memory():
    """Bytes this process can still allocate: the least of the system's available memory and
    the room left under a cgroup limit; None where neither can be read."""
    limits = []
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    limits.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError):
        pass
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit != "max":
            used = int(Path("/sys/fs/cgroup/memory.current").read_text())
            limits.append(int(limit) - used)
    except (OSError, ValueError):
        pass
    return min(limits) if limits else None


# ---------------------------------------------------------------- environment


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


def require_torch(script):
    """For a plain PyTorch script run as a program: where PyTorch is not installed, one line
    saying how to install it, exit status 2 (not an ImportError's traceback)."""
    if importlib.util.find_spec("torch") is None:
        sys.stderr.write(f"{Path(script).name}: error: this script needs PyTorch, which this "
                         f"Python lacks: {BACKENDS['torch'][1]}\n")
        raise SystemExit(2)


def import_keras():
    """Import Keras, and start its backend, with the native start-up log filtered out."""
    if getattr(import_keras, "done", False):  # once: builders call it from training threads
        return sys.modules["keras"]
    # TensorFlow's later C++ log (once absl's logging is set up) honours this level.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with interrupt_deferred(), native_log_filtered():
        import keras

        # Keras imports TensorFlow whenever it is installed, whatever the backend (to serialize
        # a layer, as Bidirectional does when it copies its LSTM): import it now, filtered.
        if importlib.util.find_spec("tensorflow") is not None:
            import tensorflow  # noqa: F401
        if keras.backend.backend() == "jax":
            import jax

            jax.devices()  # the CPU client logs its devices as it starts
    import_keras.done = True
    return keras


def refuse_a_python_without_the_requirements():
    """A script of this repository run by a Python that lacks the requirements: one line and
    exit status 2 as it starts, before the script's own imports of NumPy or pandas would fail
    with a traceback (the scripts import this module first)."""
    path = getattr(sys.modules.get("__main__"), "__file__", None)
    if not path or Path(path).resolve().parent != REPOSITORY:
        return
    if missing_requirements():
        sys.stderr.write(f"{Path(path).name}: error: {environment_problem()}\n")
        raise SystemExit(2)


refuse_a_python_without_the_requirements()
