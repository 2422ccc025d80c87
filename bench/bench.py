"""Benchmark: the tutorial's training loop against this suite's, per optimizer step.

Measures in one run, each backend in its own subprocess (Keras picks its backend at import):

- the tutorial's literal loop, `model.fit` on one sequence per call, batch size 1;
- this suite's training path (`training.run_repeats`) for one seed, compilation included, and
  again in steady state once the compiled program exists (its compile time reported apart);
- on JAX, compile and run times at XLA's default optimisation level and at the suite's level 1;
- on JAX, repeats trained side by side with `jax.vmap` (1, 10, 30, 100 seeds), per model-step;
- the plain PyTorch port's loop (`pytorch/bilstm_pytorch.py`: torch.nn, one Adam step per
  sequence, no Keras), in a process of its own, when PyTorch is installed (`make test-torch`);
- the data generator against the tutorial's Python loop for 50,000 sequences (best of 5);
- whole commands, each its own process timed from start to end, beside the tutorial's own
  Bidirectional LSTM script (`bench/tutorial_bilstm.py`: `fit` per sequence, 1,000 epochs, on
  TensorFlow): what `make demo` runs, on TensorFlow and on JAX, and `compare_merge_modes.py
  --repeats 30` on JAX, each cold (an empty compilation cache) and warm (the cache the cold run
  filled); and, in one process on TensorFlow, the import and two passes of the demo, the second
  with every program already compiled: where the demo's time goes.

Prints milliseconds per step and the speed-up over the tutorial loop on TensorFlow, and the
commands' wall times as fractions of the tutorial script's; writes results/benchmark.csv and
results/benchmark_commands.csv.

    python -m bench.bench
    python -m bench.bench --backends jax --tutorial-steps 100
"""

if not __package__:  # run as a file, not as a module: the imports below would fail
    import sys

    sys.stderr.write("error: run it from the repository root as a module: "
                     "python -m bench.bench\n")
    raise SystemExit(2)

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from suite import cli

REPOSITORY = Path(__file__).resolve().parent.parent
N_TIMESTEPS = 10
UNITS = 20


def tutorial_get_sequence(n_timesteps):
    """The tutorial's generator, as written: a Python list of random() calls per sequence."""
    from random import random

    from numpy import array, cumsum

    X = array([random() for _ in range(n_timesteps)])
    limit = n_timesteps / 4.0
    y = array([0 if x < limit else 1 for x in cumsum(X)])
    return X.reshape(1, n_timesteps, 1), y.reshape(1, n_timesteps, 1)


def measure_backend(tutorial_steps, suite_steps, vmap_seeds):
    """Rows for the backend this process runs (KERAS_BACKEND is set by the caller)."""
    import numpy as np

    from bilstm_classify import build_model
    from cumsum_data import get_sequences
    from suite import training

    backend = training.keras.backend.backend()

    def build():
        return build_model(N_TIMESTEPS, UNITS, "concat")

    rows = []

    def row(path, seeds, steps, seconds, compile_seconds=None):
        rows.append({
            "backend": backend, "path": path, "model": "bilstm_con", "seeds": seeds,
            "steps": steps, "seconds": seconds, "compile_seconds": compile_seconds,
        })

    # The tutorial's loop: one fit call per sequence. A few warm-up calls build fit's machinery.
    X, y = get_sequences(tutorial_steps + 5, N_TIMESTEPS, rng=0)
    model = training.build_seeded(build, 0)
    training.train_literal(model, X[:5], y[:5])
    start = time.perf_counter()
    training.train_literal(model, X[5:], y[5:])
    row("tutorial loop: fit per sequence", 1, tutorial_steps, time.perf_counter() - start)

    # The suite's path for one seed: first call (compilation included), then steady state.
    X, y = get_sequences(suite_steps, N_TIMESTEPS, rng=1)
    eval_X = get_sequences(100, N_TIMESTEPS, rng=2)[0]
    method = training.resolve_method("auto")
    first = training.run_repeats(build, [0], X[None], y[None], eval_X[None])
    if method == "compiled":
        steady = training.run_repeats(build, [0], X[None], y[None], eval_X[None])
        compile_seconds = first.train_seconds[0] - steady.train_seconds[0]
        row("suite: compiled loop, compilation included", 1, suite_steps, first.train_seconds[0])
        row("suite: compiled loop, steady state", 1, suite_steps, steady.train_seconds[0],
            compile_seconds)
    else:
        row("suite: train_on_batch per step", 1, suite_steps, first.train_seconds[0])

    if backend == "jax":
        # XLA's default optimisation level against the suite's level 1, on the shape of the
        # merge-mode comparison (30 seeds x 250 epochs, 1,000 held-out sequences each). Both
        # compilations come after the ones above, so neither pays the first compilation's start-up.
        X, y = get_sequences(30 * 250, N_TIMESTEPS, rng=4)
        X, y = X.reshape(30, 250, N_TIMESTEPS, 1), y.reshape(30, 250, N_TIMESTEPS, 1)
        eval_X = get_sequences(30 * 1000, N_TIMESTEPS, rng=5)[0].reshape(30, 1000, N_TIMESTEPS, 1)
        chosen = training.JAX_COMPILER_OPTIONS
        for level, options in [("XLA default", {}), ("level 1", chosen)]:
            training.JAX_COMPILER_OPTIONS = options
            first = training.run_repeats(build, range(30), X, y, eval_X)
            steady = training.run_repeats(build, range(30), X, y, eval_X)
            row(f"suite: 30 vmapped seeds x 250 steps, optimisation {level}, steady state", 30,
                250, steady.train_seconds.sum(),
                first.train_seconds.sum() - steady.train_seconds.sum())
        training.JAX_COMPILER_OPTIONS = chosen

    if backend == "jax":
        for seeds in vmap_seeds:
            X, y = get_sequences(seeds * suite_steps, N_TIMESTEPS, rng=3)
            X = X.reshape(seeds, suite_steps, N_TIMESTEPS, 1)
            y = y.reshape(seeds, suite_steps, N_TIMESTEPS, 1)
            eval_X = np.zeros((seeds, 10, N_TIMESTEPS, 1), dtype="float32")
            first = training.run_repeats(build, range(seeds), X, y, eval_X)
            steady = training.run_repeats(build, range(seeds), X, y, eval_X)
            row("suite: vmapped seeds, steady state", seeds, suite_steps,
                steady.train_seconds.sum(),
                (first.train_seconds.sum() - steady.train_seconds.sum()))
    return rows


def measure_pytorch(steps):
    """The plain PyTorch port's per-sequence loop, after a few warm-up steps."""
    from pytorch import bilstm_pytorch
    from cumsum_data import get_sequences

    X, y = get_sequences(steps + 5, N_TIMESTEPS, rng=1)
    model = bilstm_pytorch.build_seeded("bilstm_con", 0, UNITS)
    bilstm_pytorch.train(model, X[:5], y[:5])
    start = time.perf_counter()
    bilstm_pytorch.train(model, X[5:], y[5:])
    return [{"backend": f"plain PyTorch {bilstm_pytorch.torch.__version__}",
             "path": "plain PyTorch: one Adam step per sequence", "model": "bilstm_con",
             "seeds": 1, "steps": steps, "seconds": time.perf_counter() - start,
             "compile_seconds": None}]


def measure_data(n_sequences, repeats=5):
    """Best of `repeats` timings of each generator making n_sequences sequences."""
    import timeit

    from cumsum_data import get_sequences

    def tutorial_loop():
        for _ in range(n_sequences):
            tutorial_get_sequence(N_TIMESTEPS)

    def vectorised():
        get_sequences(n_sequences, N_TIMESTEPS, rng=0)

    rows = []
    for path, generate in [("tutorial get_sequence loop", tutorial_loop),
                           ("suite get_sequences (vectorised)", vectorised)]:
        seconds = min(timeit.repeat(generate, number=1, repeat=repeats))
        rows.append({"backend": "numpy", "path": path, "model": "data", "seeds": 1,
                     "steps": n_sequences, "seconds": seconds})
    return rows


def time_command(command, backend, cache=None):
    """Wall time of `command` run as its own process, with the compilation cache in `cache`."""
    env = {**os.environ, "KERAS_BACKEND": backend}
    if cache is not None:
        env["BILSTM_CACHE"] = str(cache)
    start = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPOSITORY)
    seconds = time.perf_counter() - start
    if completed.returncode:
        raise SystemExit(f"error: {' '.join(command)} failed:\n{completed.stderr[-2000:]}")
    return seconds


def measure_commands(script_repeats):
    """Whole commands against the tutorial's script, each cold and then warm.

    Every command writes into a temporary folder and keeps its compilation cache in another,
    empty before the cold run, so the committed results and the repository's cache are left alone.
    """
    import tempfile

    python = sys.executable
    rows = []

    def row(command, backend, cache_state, seconds):
        rows.append({"command": command, "backend": backend, "cache": cache_state,
                     "seconds": seconds})

    print("Timing the tutorial's Bidirectional LSTM script (1,000 fit calls) ...", flush=True)
    row("tutorial script: python -m bench.tutorial_bilstm", "tensorflow", "-",
        time_command([python, "-m", "bench.tutorial_bilstm"], "tensorflow"))
    demo = [python, "demo.py", "--quiet"]
    commands = [("make demo: python demo.py", "tensorflow", demo),
                ("python demo.py", "jax", demo)]
    if script_repeats:
        commands.append((f"python compare_merge_modes.py --repeats {script_repeats}", "jax",
                         [python, "compare_merge_modes.py", "--quiet",
                          "--repeats", str(script_repeats)]))
    for name, backend, command in commands:
        with tempfile.TemporaryDirectory() as folder:
            for cache_state in ("cold", "warm"):
                print(f"Timing {name} on {backend}, {cache_state} ...", flush=True)
                seconds = time_command(command + ["--output-dir", f"{folder}/out"], backend,
                                       cache=f"{folder}/cache")
                row(name, backend, cache_state, seconds)
    return rows


def measure_demo_passes():
    """Where `make demo`'s time goes on TensorFlow: the import, then the four sections twice in
    one process. The second pass finds every program traced and compiled, so the difference
    between the passes is the tracing and compiling."""
    import contextlib
    import io
    import tempfile

    start = time.perf_counter()
    import demo
    from suite import training  # noqa: F401  (importing training starts Keras)

    rows = [{"command": "make demo, in one process: importing Keras and TensorFlow",
             "backend": "tensorflow", "cache": "-", "seconds": time.perf_counter() - start}]
    with tempfile.TemporaryDirectory() as folder:
        for name in ("first pass (tracing and compiling included)",
                     "second pass (every program already compiled)"):
            start = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                demo.main(["--quiet", "--output-dir", folder])
            rows.append({"command": f"make demo, in one process: {name}",
                         "backend": "tensorflow", "cache": "-",
                         "seconds": time.perf_counter() - start})
    return rows


def parse_args(argv=None):
    parser = cli.ArgumentParser(__name__, description=__doc__)
    parser.add_argument("--backends", nargs="+", default=["tensorflow", "jax"],
                        choices=["tensorflow", "jax", "torch"], help="backends to measure")
    parser.add_argument("--tutorial-steps", type=cli.positive_int, default=200,
                        help="steps timed of the tutorial's fit-per-sequence loop")
    parser.add_argument("--suite-steps", type=cli.positive_int, default=1000,
                        help="steps timed of the suite's training path, per seed")
    parser.add_argument("--vmap-seeds", type=cli.positive_int, nargs="+",
                        default=[1, 10, 30, 100], help="seed counts trained side by side on JAX")
    parser.add_argument("--data-sequences", type=cli.positive_int, default=50_000,
                        help="sequences generated by each data generator")
    parser.add_argument("--script-repeats", type=cli.non_negative_int, default=30,
                        help="seeds of the timed compare_merge_modes.py run on JAX (0 skips it)")
    parser.add_argument("--pytorch", action=argparse.BooleanOptionalAction, default=True,
                        help="also time the plain PyTorch port's loop "
                             "(pytorch/bilstm_pytorch.py) for --suite-steps steps, when PyTorch "
                             "is installed")
    parser.add_argument("--commands", action=argparse.BooleanOptionalAction, default=True,
                        help="time the whole commands against the tutorial's script")
    cli.add_output_argument(parser, help="folder that receives results/benchmark.csv")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    return cli.parse(parser, argv, subfolders=("results",))


def main(argv=None):
    args = parse_args(argv)
    if args.worker == "demo-passes":
        rows = measure_demo_passes()
        print(json.dumps(rows))
        return rows
    if args.worker == "pytorch":
        rows = measure_pytorch(args.suite_steps)
        print(json.dumps(rows))
        return rows
    if args.worker:
        rows = measure_backend(args.tutorial_steps, args.suite_steps, args.vmap_seeds)
        print(json.dumps(rows))
        return rows

    import pandas as pd

    from suite import outputs

    rows = []
    with outputs.kept_on_interrupt("the benchmark's files are unchanged"):
        for backend in args.backends:
            print(f"Measuring {backend} ...", flush=True)
            command = [sys.executable, "-m", "bench.bench", "--worker", backend,
                       "--tutorial-steps", str(args.tutorial_steps),
                       "--suite-steps", str(args.suite_steps),
                       "--vmap-seeds", *map(str, args.vmap_seeds)]
            # No persistent cache, so the rows with compilation pay for it every run.
            completed = subprocess.run(command, capture_output=True, text=True, cwd=REPOSITORY,
                                       env={**os.environ, "KERAS_BACKEND": backend,
                                            "BILSTM_CACHE": "off"})
            if completed.returncode:
                raise SystemExit(f"error: the {backend} benchmark failed:\n"
                                 f"{completed.stderr[-2000:]}")
            rows += json.loads(completed.stdout.strip().splitlines()[-1])
        if args.pytorch and importlib.util.find_spec("torch") is None:
            print("Skipping plain PyTorch: not installed (make test-torch installs it)",
                  flush=True)
        elif args.pytorch:
            print("Measuring plain PyTorch ...", flush=True)
            completed = subprocess.run([sys.executable, "-m", "bench.bench", "--worker",
                                        "pytorch", "--suite-steps", str(args.suite_steps)],
                                       capture_output=True, text=True, cwd=REPOSITORY)
            if completed.returncode:
                raise SystemExit("error: the plain PyTorch benchmark failed:\n"
                                 f"{completed.stderr[-2000:]}")
            rows += json.loads(completed.stdout.strip().splitlines()[-1])
        print("Measuring the data generators ...", flush=True)
        rows += measure_data(args.data_sequences)
        command_rows = []
        if args.commands:
            command_rows = measure_commands(args.script_repeats)
            print("Timing make demo twice in one process on tensorflow ...", flush=True)
            completed = subprocess.run([sys.executable, "-m", "bench.bench", "--worker",
                                        "demo-passes"], capture_output=True, text=True,
                                       cwd=REPOSITORY,
                                       env={**os.environ, "KERAS_BACKEND": "tensorflow"})
            if completed.returncode:
                raise SystemExit(f"error: the demo passes failed:\n{completed.stderr[-2000:]}")
            command_rows += json.loads(completed.stdout.strip().splitlines()[-1])

    table = pd.DataFrame(rows)
    table["ms_per_model_step"] = 1000 * table["seconds"] / (table["steps"] * table["seeds"])
    tutorial = table[table["path"].str.startswith("tutorial loop")]
    reference = tutorial[tutorial["backend"] == "tensorflow"]["ms_per_model_step"]
    reference = reference.iloc[0] if len(reference) else tutorial["ms_per_model_step"].iloc[0]
    training_rows = table["model"] != "data"
    table.loc[training_rows, "speedup_vs_tutorial"] = reference / table["ms_per_model_step"]
    data_reference = table.loc[table["path"] == "tutorial get_sequence loop", "seconds"].iloc[0]
    table.loc[~training_rows, "speedup_vs_tutorial"] = data_reference / table["seconds"]
    table["machine"] = outputs.machine()
    tables = {"results/benchmark.csv": table}
    if command_rows:
        commands = pd.DataFrame(command_rows)
        commands["vs_tutorial_script"] = commands["seconds"] / commands["seconds"].iloc[0]
        commands["machine"] = outputs.machine()
        tables["results/benchmark_commands.csv"] = commands
    outputs.write_results(args.output_dir, tables, name="bench", run=args)

    shown = table.copy()
    shown["seconds"] = shown["seconds"].map("{:.3f}".format)
    shown["ms_per_model_step"] = shown["ms_per_model_step"].map("{:.4f}".format)
    shown["compile_seconds"] = shown["compile_seconds"].map(
        lambda s: "" if pd.isna(s) else f"{s:.2f}")
    shown["speedup_vs_tutorial"] = shown["speedup_vs_tutorial"].map("{:,.1f}x".format)
    print()
    print(shown.drop(columns=["model", "machine"]).to_string(index=False))
    print(f"\nspeed-up: the tutorial loop on "
          f"{'tensorflow' if 'tensorflow' in args.backends else args.backends[0]} "
          "per optimizer step divided by each path's time per model-step (data rows: "
          "the tutorial generator's time divided by each generator's time)")
    if command_rows:
        shown = commands.copy()
        shown["seconds"] = shown["seconds"].map("{:.1f}".format)
        shown["vs_tutorial_script"] = shown["vs_tutorial_script"].map("{:.2f}".format)
        print()
        print(shown.drop(columns=["machine"]).to_string(index=False))
        print(f"\n(on {outputs.machine()}; wall time of each command as its own process, and "
              "of each part of the last three rows' one process; vs_tutorial_script: that time "
              "divided by the tutorial "
              "script's; cold: empty compilation cache, warm: the cache the cold run filled)")
    return table


if __name__ == "__main__":
    main()
