"""Long runs keep each finished part, so the same command continues an interrupted run.

- A script made of independent parts (the atlas's cells, the sweep's sequence lengths, the
  smallest-model configurations, the originals' protocols) computes each through
  `parts.get(key, compute)`. A finished part is saved at once under
  `<output-dir>/.parts/<script>-<fingerprint>/`; a part an interrupted run already finished is
  read back instead of computed again, so the results are those of an uninterrupted run.
- The fingerprint covers every flag that changes results, the backend, and the source of the
  repository's Python files: a changed flag or code version starts afresh, never mixing parts.
- Ctrl-C says how many parts are kept (exit status 130); once the run's files are written, its
  parts are removed.
"""

import contextlib
import hashlib
import json
import pickle
import re
import shutil
from pathlib import Path

from suite import environment, outputs

# Flags that say where and how a run reports, not what it computes.
NOT_RESULTS = ("output_dir", "quiet", "argv", "started", "compile_cache", "command")


def fingerprint(script, args):
    """A short hash of what decides a script's results: its flags, the backend and the code."""
    flags = {name: value for name, value in sorted(vars(args).items())
             if name not in NOT_RESULTS}
    digest = hashlib.sha256(json.dumps([script, environment.requested_backend(), flags],
                                       default=str).encode())
    code = [path for path in sorted(environment.REPOSITORY.glob("*/*.py"))
            if path.parent.name != "tests"]
    for path in sorted(environment.REPOSITORY.glob("*.py")) + code:
        digest.update(str(path.relative_to(environment.REPOSITORY)).encode() + path.read_bytes())
    return digest.hexdigest()[:16]


class Parts:
    """The finished parts of one run of `script` with `args`, kept on disk as they finish."""

    def __init__(self, script, args):
        self.root = Path(args.output_dir) / ".parts"
        self.folder = self.root / f"{script}-{fingerprint(script, args)}"
        self.reused = 0
        self.kept = len(list(self.folder.glob("*.pkl")))
        stale = [p for p in self.root.glob(f"{script}-*") if p != self.folder]
        for folder in stale:  # parts of other flags or an older code version
            shutil.rmtree(folder, ignore_errors=True)
        if self.kept and not args.quiet:
            print(f"Continuing an interrupted run: {self.kept} finished parts in {self.folder}",
                  flush=True)

    def get(self, key, compute):
        """compute(), or what it returned in an interrupted run with the same fingerprint."""
        path = self.folder / (re.sub(r"[^\w.-]+", "_", str(key)) + ".pkl")
        if path.exists():
            self.reused += 1
            with open(path, "rb") as handle:
                return pickle.load(handle)
        value = compute()
        outputs.atomic_write(path, lambda temporary: Path(temporary).write_bytes(
            pickle.dumps(value)))
        return value

    def finish(self):
        """The run's files are written: its parts are no longer needed."""
        shutil.rmtree(self.folder, ignore_errors=True)
        with contextlib.suppress(OSError):
            self.root.rmdir()  # only if no other script's parts are there


@contextlib.contextmanager
def resumable(script, args):
    """Yield `Parts` for the run; on Ctrl-C say what is kept and exit 130, on success tidy up.

    The block must write the run's files before it ends: the parts are removed after it.
    """
    parts = Parts(script, args)

    def kept():
        return (f"the files from the previous run are unchanged; "
                f"{len(list(parts.folder.glob('*.pkl')))} finished parts are kept, and the same "
                "command continues from them")

    with outputs.kept_on_interrupt(kept):
        yield parts
    if parts.reused:
        print(f"Reused {parts.reused} finished parts of the interrupted run.")
    parts.finish()
