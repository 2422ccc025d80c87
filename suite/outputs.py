"""Where results go: a folder proven before a run, files replaced whole, and a fallback.

- Before any work, `prove_output_dir` creates the output folders and writes and removes a probe
  file in each: a folder that cannot take the results is refused up front, and folders created
  only for the probe are removed again.
- `write_results` writes every table and figure under a temporary name and renames it, so a
  reader (or Ctrl-C) never sees half a file. If writing fails after the work is done (disk full,
  the folder removed or replaced during the run), every file goes to a new folder under the
  system's temporary directory instead, and the run ends with one line naming it (exit status 1).
- With the run's arguments, `write_results` also writes `results/<script>_run.csv`: the command,
  backend, machine and wall time of the run that wrote the files beside it, so every timing the
  documentation states comes from the run that measured it.
"""

import contextlib
import datetime
import os
import platform
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path


INTERRUPTED = 130  # the exit status shells and make expect after Ctrl-C: 128 + SIGINT


@contextlib.contextmanager
def kept_on_interrupt(what="the files from the previous run are unchanged"):
    """Ctrl-C becomes one line of its own, `interrupted: <what>`, and exit status 130.

    Files are only ever replaced whole (`atomic_write`), so what was on disk stays as it was.
    `what` may be a function, asked when Ctrl-C comes.
    """
    try:
        yield
    except KeyboardInterrupt:
        sys.stdout.flush()
        # A progress bar may have left the cursor mid-line: start a line of its own.
        sys.stderr.write(f"\ninterrupted: {what() if callable(what) else what}\n")
        sys.stderr.flush()
        raise SystemExit(INTERRUPTED) from None


def prove_output_dir(output_dir, subfolders=("plots", "results")):
    """None if files can be written in every subfolder of output_dir, else the problem in words."""
    created = []
    try:
        for folder in [Path(output_dir) / sub for sub in subfolders]:
            missing = []
            while not folder.exists() and folder.parent != folder:
                missing.append(folder)
                folder = folder.parent
            for path in reversed(missing):
                path.mkdir()
                created.append(path)
            folder = missing[0] if missing else folder
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".probe-"):
                pass
    except OSError as error:
        for path in reversed(created):
            try:
                path.rmdir()
            except OSError:
                pass
        return describe(error, output_dir)
    return None


def describe(error, path):
    """An OSError as one line: what failed, and where."""
    where = error.filename or path
    return f"cannot write to {where}: {error.strerror or error}"


def file_mode():
    """The permissions an ordinary new file gets under the process's umask (0644 under 022)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path, write):
    """Call write(temporary path), then rename it onto `path`: readers never see half a file.

    `mkstemp` makes the temporary file readable by its owner only; it gets the umask's
    permissions before the rename, as a file written in place would have.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        write(temporary)
        os.chmod(temporary, file_mode())
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def machine():
    """This computer in a few words: architecture, CPU count and model, operating system."""
    model = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            names = [line.split(":", 1)[1].strip() for line in cpuinfo
                     if line.lower().startswith(("model name", "hardware"))]
        model = names[0] if names else model
    except OSError:
        pass
    return (f"{platform.machine()}, {os.cpu_count()} CPUs, {model or 'unknown CPU'}, "
            f"{platform.system()}")


def run_record(script, args):
    """One row about the run behind a script's files: what ran, where, and for how long.

    `args` is the namespace `cli.parse` returned: it holds the command that runs the script
    (`command`), the flags as given (`argv`), when the script started (`started`) and the state
    of JAX's compilation cache then (`compile_cache`).
    """
    import pandas as pd

    started = getattr(args, "started", None)
    keras = sys.modules.get("keras")
    backend = keras.backend.backend() if keras is not None else "-"
    return pd.DataFrame([{
        "command": shlex.join([*(getattr(args, "command", None) or ["python", f"{script}.py"]),
                               *getattr(args, "argv", [])]),
        "backend": backend,
        "keras": getattr(keras, "__version__", "-"),
        "compile_cache": getattr(args, "compile_cache", "-") if backend == "jax" else "-",
        "wall_seconds": round(time.perf_counter() - started, 1) if started else float("nan"),
        "finished_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "machine": machine(),
        "python": platform.python_version(),
    }])


def write_results(output_dir, tables=None, figures=None, name="results", quiet=False, run=None):
    """Write {relative path: DataFrame} as CSV and {relative path: Figure} as PNG under output_dir.

    With `run` (the script's parsed arguments), also writes `results/<name>_run.csv`
    (`run_record`), timed up to this call. Returns the folder written to. If output_dir fails,
    everything is written to a new temporary folder and SystemExit says where (exit status 1):
    nothing measured is lost.
    """
    import matplotlib.pyplot as plt

    tables, figures = dict(tables or {}), figures or {}
    if run is not None:
        tables[f"results/{name}_run.csv"] = run_record(name, run)
    writers = {relative: (lambda temporary, table=table: table.to_csv(temporary, index=False))
               for relative, table in tables.items()}
    writers.update({relative: (lambda temporary, fig=fig: fig.savefig(temporary, format="png",
                                                                        dpi=120))
                    for relative, fig in figures.items()})
    try:
        try:
            for relative, write in writers.items():
                atomic_write(Path(output_dir) / relative, write)
        except OSError as error:
            problem = describe(error, output_dir)
            fallback = None
            try:
                fallback = Path(tempfile.mkdtemp(prefix=f"{name}-"))
                for relative, write in writers.items():
                    atomic_write(fallback / relative, write)
            except OSError as second:
                if fallback is not None:
                    shutil.rmtree(fallback, ignore_errors=True)
                raise SystemExit(f"error: {problem}; the fallback folder failed too "
                                 f"({describe(second, tempfile.gettempdir())}): nothing of this "
                                 "run could be written") from None
            raise SystemExit(f"error: {problem}; every result of this run was written to "
                             f"{fallback} instead") from None
    finally:
        for fig in figures.values():
            plt.close(fig)
    where = Path(output_dir).resolve()
    print(f"Wrote {len(writers)} files under {where}" if quiet else
          f"Wrote under {where}: " + ", ".join(str(relative) for relative in writers))
    return Path(output_dir)
