"""Independent runs side by side, and the one way a run that diverged ends.

- `in_order`: jobs run in threads side by side, one per core, and their results come back in
  the jobs' order, so a script prints and writes the same whichever finishes first;
- `check_finite`: a loss that is NaN or infinite ends the run with one line naming the model and
  the seed, before anything is written.

The standard library and NumPy only: the Keras scripts and the plain PyTorch ones share it.
"""

import concurrent.futures
import os

import numpy as np


def in_order(jobs, run, parallel=True, stop=None):
    """Yield (job, run(job)) for every job of `jobs`, in their order.

    The jobs are independent, so with `parallel` they run side by side, one thread per core:
    TensorFlow, XLA and PyTorch release Python's lock while they compute, and every job has its
    own model and generators, so its numbers are the same either way. When the caller leaves
    early (an error, Ctrl-C), the jobs not yet started are cancelled; with `stop`, a
    threading.Event the jobs check between their seeds or epochs, it is set and the running jobs
    are waited for.
    """
    jobs = list(jobs)
    if not parallel or len(jobs) <= 1:
        for job in jobs:
            yield job, run(job)
        return
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=min(len(jobs), os.cpu_count() or 1))
    try:
        futures = [(job, pool.submit(run, job)) for job in jobs]
        for job, future in futures:
            yield job, future.result()
    finally:
        if stop is not None:
            stop.set()
        pool.shutdown(wait=stop is not None, cancel_futures=True)


def check_finite(losses, name, seed):
    """Exit with one line (status 1) if any of one run's `losses` is NaN or infinite."""
    if not np.isfinite(np.asarray(losses, dtype=float)).all():
        raise SystemExit(f"error: {name} with seed {seed} produced a non-finite loss; "
                         "nothing was written")
