"""The machinery the scripts at the top level share.

- `cli`: flags, checked before Keras is imported; Keras imported without its native start-up log.
- `outputs`: the output folder proven before a run; files replaced whole; a fallback folder; the
  run's own record (command, backend, machine, wall time).
- `resume`: finished parts of a long run kept on disk, so an interrupted run continues.
- `experiment`: training every model for every seed, the comparisons, tables and plots of a run.
- `tables`: seeded sequences, tidy loss and summary tables, the summary table and the loss plot,
  without Keras (`experiment` re-exports them).
- `training`: one Adam step per sequence on the fastest path of each backend; the literal loop.
- `weights`: initial weights drawn in NumPy from the seed, the same on every backend.
- `pytorch_port`: those weights drawn without Keras and mapped into PyTorch's layout.
- `claims`: measures, paired bootstrap intervals and verdicts for the tutorial's claims.
- `plotting`: plot helpers that take data and return the axes.
"""
