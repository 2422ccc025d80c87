"""The machinery the scripts share, one module per job.

- `cli`: flags, checked before Keras is imported.
- `environment`: requirements, backends and optional packages checked with one line each; Keras
  imported without its native start-up log; JAX's compilation cache.
- `resources`: what a run will hold in memory, against what the machine has.
- `outputs`: the output folder proven before a run; files replaced whole; a fallback folder; the
  run's own record (command, backend, machine, wall time).
- `resume`: finished parts of a long run kept on disk, so an interrupted run continues.
- `experiment`: training every model for every seed, the comparisons, tables and plots of a run.
- `tables`: seeded sequences, tidy loss and summary tables, the summary table and the loss plot,
  without Keras (`experiment` re-exports them).
- `training`: one Adam step per sequence on the fastest path of each backend; the literal loop.
- `runner`: independent runs side by side, results in order; a diverged run's one-line exit.
- `weights`: initial weights drawn in NumPy from the seed, the same on every backend.
- `layers`: what the models share beyond Keras's own layers (`reverse_time`).
- `book_chapter`: the book chapter's printed numbers and its way of evaluating.
- `text_data`: the real corpora, fetched, checked and cached on first use; readers and splits.
- `sentiment`: what the two sentiment scripts (Keras and plain PyTorch) share.
- `sequence_data`: your own sequences: the long-form CSV checked, splits, scaling and padding.
- `sequence_models`: masked LSTMs for any sequences, trained side by side over seeds; references.
- `saving`: a model kept as `.keras`, with what labelling new sequences needs beside it.
- `pytorch_port`: Keras's initial weights drawn without Keras and mapped into PyTorch's layout.
- `pytorch_keras`: Keras's Adam and losses in PyTorch, for the plain PyTorch scripts.
- `claims`: measures, paired bootstrap intervals and verdicts for the tutorial's claims.
- `plotting`: plot helpers that take data and return the axes.

A Python without the requirements stops here, with one line saying what to do.
"""

from suite import environment

environment.refuse_a_python_without_the_requirements()
