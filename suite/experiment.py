"""What every section script does around its model: seeded data, runs, results, plot.

A script names its models ({model name: build function}) and calls `run`. `run` trains every model
for every seed on the same sequences (a paired design: the models of one seed see the same
training and held-out data), then writes

- `<output-dir>/results/<script>.csv`: one row per (model, seed, epoch) with that epoch's loss;
- `<output-dir>/results/<script>_summary.csv`: one row per (model, seed);
- `<output-dir>/plots/<script>.png`: the loss curves, drawn from the rows above;

and prints a table of the summary beside the position-only reference. Files are written whole
(`outputs.write_results`), so an interrupted run leaves the previous files as they were.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cumsum_data import position_reference
from suite import claims, outputs, plotting, runner, training
from suite.tables import (  # noqa: F401  (the scripts use them as experiment.<name>)
    FINAL_LOSS_WINDOW, describe, draw_repeats, draw_sequences, epochs_to_reference_text,
    loss_curves_from, loss_rows, mean_and_spread, plot_losses, score, seeds_of, summary_rows,
    summary_table, titled_figure)
from suite.training import keras


# ---------------------------------------------------------------- data and runs


@dataclass
class Results:
    """What a script measured: tidy tables plus the arrays behind them."""

    losses: pd.DataFrame  # model, seed, epoch, loss
    summary: pd.DataFrame  # model, seed, params, final_loss, step_accuracy, ...
    runs: dict  # model name -> training.Runs
    eval_X: np.ndarray  # (repeats, eval sequences, n_timesteps, 1)
    eval_y: np.ndarray  # (repeats, eval sequences, n_timesteps)
    reference: object  # cumsum_data.PositionReference
    comparison: pd.DataFrame = None  # one row per tested claim, when the script tests claims
    flip_errors: pd.DataFrame = None  # model, seed, offset, error_rate, count
    tables: dict = None  # a script's own tables, {file name: DataFrame}, saved with the rest
    heldout: pd.DataFrame = None  # model, seed, epoch, step_accuracy, sequence_accuracy, loss
    heldout_claims: pd.DataFrame = None  # when each claimed advantage appears held out


def train_models(models, args, n_sequences=None, batch_size=1, step_name="epoch",
                 checkpoint_every=None):
    """Train every model for every seed; return `Results` (nothing is written).

    With `checkpoint_every` (in steps), each run also keeps its held-out predictions after every
    that many steps (`training.Runs.checkpoints`).
    """
    seeds = seeds_of(args)
    n_sequences = n_sequences or args.epochs * batch_size
    train_X, train_y, eval_X, eval_y = draw_repeats(seeds, n_sequences, args.eval_sequences,
                                                    args.timesteps)
    reference = position_reference(args.timesteps)

    # One progress bar per training run; with many repeats only the time taken is shown.
    show_progress = not args.quiet and len(seeds) == 1

    # --literal: the tutorial's own fit call per sequence instead of the compiled path.
    method = "literal" if getattr(args, "literal", False) else "auto"

    def train(build_model):
        return training.run_repeats(build_model, seeds, train_X, train_y, eval_X,
                                    batch_size=batch_size, verbose=int(show_progress),
                                    method=method,
                                    checkpoint_every=checkpoint_every)

    loss_frames, summaries, all_runs = [], [], {}
    # The literal loop's fit calls run one model after another, as in the tutorial.
    parallel = not show_progress and method != "literal"
    for name, runs in trained_in_order(models, train, parallel=parallel):
        if not args.quiet:
            print(f"Trained {name}: {len(seeds)} run(s) x {n_sequences} sequences, "
                  f"batch size {batch_size}, backend {keras.backend.backend()}, "
                  f"{runs.train_seconds.sum():.1f} s ({runs.method} path)", flush=True)
        for seed, losses in zip(seeds, runs.losses):
            runner.check_finite(losses, name, seed)
        all_runs[name] = runs
        loss_frames.append(loss_rows(name, seeds, runs.losses, step_name))
        summaries += summary_rows(name, seeds, runs.params, runs.losses, runs.probabilities,
                                   eval_y, reference, runs.train_seconds)
    return Results(pd.concat(loss_frames, ignore_index=True), pd.DataFrame(summaries),
                   all_runs, eval_X, eval_y, reference)


def trained_in_order(models, train, parallel=True):
    """Yield (name, train(build_model)) for every model, in the order of `models`.

    The models are independent, so on the compiled paths they train side by side, one thread per
    core (`runner.in_order`): one model's batch-size-1 steps keep about one core busy. Each
    model's numbers are the same either way.
    """
    parallel = parallel and training.resolve_method() == "compiled"
    return runner.in_order(models, lambda name: train(models[name]), parallel)


def run(script, models, args, title, claims_to_test=(), evaluate=None,
        xlabel="epoch (one fresh sequence each)", heldout_every=0, **train_options):
    """Train, then write the CSVs and the plots and print the tables. Returns `Results`.

    With `claims_to_test` (a list of `claims.Claim`), also compares the models seed by seed and
    measures where on the held-out sequences they err relative to the flip step. With
    `heldout_every` (in steps), also scores the held-out sequences at checkpoints of the same runs:
    the held-out learning curves. With `evaluate`, calls evaluate(results) after training; the
    {file name: DataFrame} it returns is written to results/ with the other tables, so an
    interrupted run leaves none of them half-updated.
    """
    step_name = train_options.get("step_name", "epoch")
    with outputs.kept_on_interrupt():
        results = train_models(models, args, checkpoint_every=heldout_every or None,
                               **train_options)
        if heldout_every:
            results.heldout = heldout_table(results, step_name)
        if claims_to_test:
            results.comparison = claims.compare(results.summary, claims_to_test)
            results.flip_errors = flip_error_table(results)
            if heldout_every:
                results.heldout_claims = claims.first_supported(results.heldout, claims_to_test,
                                                                step_name)
        if evaluate is not None:
            results.tables = evaluate(results)
        save_results(script, results, args, title, step_name, xlabel)
    if not args.quiet:
        print()
    print(summary_table(results.summary, results.reference, step_name,
                        n_steps=results.losses[step_name].max()))
    if results.comparison is not None:
        print()
        print(claims.comparison_table(results.comparison))
    if results.heldout_claims is not None:
        print()
        print(results.heldout_claims.to_string(index=False)
              + f"\n(the first {step_name} whose held-out scores support each claimed advantage, "
              f"checked every {heldout_every} {step_name}s)")
    return results


def heldout_table(results, step_name="epoch"):
    """Tidy held-out scores at every checkpoint: model, seed, epoch, step_accuracy, ..."""
    frames = []
    for name, runs in results.runs.items():
        step_accuracy, sequence_accuracy = score(runs.checkpoints, results.eval_y)
        loss = claims.heldout_log_loss(runs.checkpoints, results.eval_y)
        for k, epoch in enumerate(runs.checkpoint_steps):
            frames.append(pd.DataFrame({
                "model": name, "seed": runs.seeds, step_name: int(epoch),
                "step_accuracy": step_accuracy[k], "sequence_accuracy": sequence_accuracy[k],
                "loss": loss[k]}))
    return pd.concat(frames, ignore_index=True)


def plot_heldout(heldout, reference, title, step_name="epoch"):
    """Held-out learning curves: step accuracy, sequence accuracy and log loss per model."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(17, 5))
    references = {"step_accuracy": reference.step_accuracy,
                  "sequence_accuracy": reference.sequence_accuracy, "loss": reference.log_loss}
    for ax, measure in zip(axes, references):
        curves = {name: group.pivot(index="seed", columns=step_name, values=measure)
                  for name, group in heldout.groupby("model", sort=False)}
        plotting.plot_runs(ax, curves, references[measure],
                           ylabel=f"held-out {measure.replace('_', ' ')}", xlabel=step_name)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def flip_error_table(results):
    """Tidy held-out error rates by position relative to the flip: model, seed, offset, ..."""
    frames = []
    for name, runs in results.runs.items():
        rates, counts = claims.errors_by_flip_offset(runs.probabilities, results.eval_y)
        for r, seed in enumerate(runs.seeds):
            frames.append(pd.DataFrame({"model": name, "seed": seed, "offset": claims.FLIP_OFFSETS,
                                        "error_rate": rates[r], "count": counts[r]}))
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------- output


def save_results(script, results, args, title, step_name="epoch",
                 xlabel="epoch (one fresh sequence each)"):
    figures = {f"plots/{script}.png": plot_losses(results.losses, results.reference,
                                                  f"{title}\n{describe(args)}", step_name, xlabel)}
    tables = {f"results/{script}.csv": results.losses,
              f"results/{script}_summary.csv": results.summary}
    tables.update({f"results/{name}": table for name, table in (results.tables or {}).items()})
    if results.heldout is not None:
        tables[f"results/{script}_heldout.csv"] = results.heldout
        figures[f"plots/{script}_heldout.png"] = plot_heldout(
            results.heldout, results.reference,
            f"Held-out scores during training\n{describe(args)}", step_name)
    if results.heldout_claims is not None:
        tables[f"results/{script}_heldout_claims.csv"] = results.heldout_claims
    if results.comparison is not None:
        tables[f"results/{script}_comparison.csv"] = results.comparison
        tables[f"results/{script}_flip_errors.csv"] = results.flip_errors
        figures[f"plots/{script}_flip_errors.png"] = plot_flip_errors(
            results.flip_errors, f"Where the models err on held-out sequences\n{describe(args)}")
    outputs.write_results(args.output_dir, tables, figures, name=script, quiet=args.quiet, run=args)


def plot_flip_errors(flip_errors, title):
    """The error-around-the-flip plot, drawn from its tidy table."""
    rates = {name: group.pivot(index="seed", columns="offset", values="error_rate").to_numpy()
             for name, group in flip_errors.groupby("model", sort=False)}
    return titled_figure(title, plotting.plot_flip_errors, rates,
                         np.sort(flip_errors["offset"].unique()))


def print_expected_predicted(results, model_name):
    """The tutorial's closing print: labels and predictions for one fresh sequence."""
    probabilities = results.runs[model_name].probabilities[0, 0]
    yhat = (probabilities > 0.5).astype(int)
    for expected, predicted in zip(results.eval_y[0, 0], yhat):
        print("Expected:", [int(expected)], "Predicted", [int(predicted)])
