"""The tutorial's claims beyond its one setting: an atlas over length, size and training time.

The claims table tests each of the tutorial's claims at its one setting (10 timesteps, 20 units,
250 epochs). This script trains the seven tutorial models (lstm_forw, lstm_back,
lstm_back_aligned and the BiLSTM with each merge mode) for every sequence length and LSTM size
of a grid, 30 seeds per cell, and re-tests every claim of the table in every cell and at every
training length, with the same paired bootstrap and verdict rules as the claims table, on the
training loss and on held-out step accuracy, sequence accuracy and log loss. The shorter
training lengths are read from the checkpoints of the longest run (training is sequential, so
the model after 250 of 1,000 epochs is the model of a 250-epoch run).

    KERAS_BACKEND=jax python -m experiments.claims_atlas
    python -m experiments.claims_atlas --timesteps 10 --units 20 --epochs 250 --repeats 5
    python -m experiments.claims_atlas --from-runs results/claims_atlas_runs.csv   # no training
"""

if not __package__:  # run as a file, not as a module: the imports below would fail
    import sys

    sys.stderr.write("error: run it from the repository root as a module: "
                     "python -m experiments.claims_atlas\n")
    raise SystemExit(2)

import argparse
import math
from pathlib import Path

from suite import cli, resources
import numpy as np
import pandas as pd

import compare_directions
import compare_merge_modes
from suite.claims import MIN_SEEDS, TOO_FEW, Claim

SCRIPT = "claims_atlas"
# The rows of the README's claims table, as (label, first, second, expected).
CLAIMS = [
    ("1: BiLSTM better than forward", "bilstm_con", "lstm_forw", "better"),
    ("2: backward as written similar to forward", "lstm_back", "lstm_forw", "similar"),
    ("2: backward aligned similar to forward", "lstm_back_aligned", "lstm_forw", "similar"),
    ("2b: aligned better than as written", "lstm_back_aligned", "lstm_back", "better"),
    ("3: BiLSTM better than backward aligned", "bilstm_con", "lstm_back_aligned", "better"),
    ("4: sum better than mul", "bilstm_sum", "bilstm_mul", "better"),
    ("4: sum better than ave", "bilstm_sum", "bilstm_ave", "better"),
    ("4: concat better than mul", "bilstm_con", "bilstm_mul", "better"),
    ("4: concat better than ave", "bilstm_con", "bilstm_ave", "better"),
    ("4: sum similar to concat", "bilstm_sum", "bilstm_con", "similar"),
    ("4b: ave better than mul", "bilstm_ave", "bilstm_mul", "better"),
]
MEASURES = ["final_loss", "step_accuracy", "sequence_accuracy", "heldout_loss"]
VERDICT_CODES = {"not supported": 0, "inconclusive": 1, "supported": 2, TOO_FEW: 3}


def get_models(n_timesteps, units):
    """The seven tutorial models under their DataFrame names."""
    models = compare_directions.get_models(n_timesteps, units)
    models.update(compare_merge_modes.get_models(n_timesteps, units, ["sum", "mul", "ave"]))
    return models


def run_cell(n_timesteps, units, args):
    """Per-seed measures of every model of one (timesteps, units) cell at every training length."""
    from suite import claims, experiment

    cell = argparse.Namespace(**{**vars(args), "timesteps": n_timesteps, "units": units,
                                 "epochs": max(args.epochs)})
    every = math.gcd(*args.epochs)
    results = experiment.train_models(get_models(n_timesteps, units), cell,
                                      checkpoint_every=every)
    rows = []
    for name, runs in results.runs.items():
        for epochs in args.epochs:
            k = list(runs.checkpoint_steps).index(epochs)
            probabilities = runs.checkpoints[k]
            step_accuracy, sequence_accuracy = experiment.score(probabilities, results.eval_y)
            heldout_loss = claims.heldout_log_loss(probabilities, results.eval_y)
            final_loss = runs.losses[:, epochs - experiment.FINAL_LOSS_WINDOW : epochs].mean(axis=1)
            for r, seed in enumerate(runs.seeds):
                rows.append({"timesteps": n_timesteps, "units": units, "epochs": epochs,
                             "model": name, "seed": seed, "final_loss": final_loss[r],
                             "step_accuracy": step_accuracy[r],
                             "sequence_accuracy": sequence_accuracy[r],
                             "heldout_loss": heldout_loss[r]})
    return pd.DataFrame(rows)


def test_claims(per_seed):
    """Every claim on every measure in every cell: the claims table's bootstrap and verdicts."""
    from suite import claims

    frames = []
    for (n_timesteps, units, epochs), cell in per_seed.groupby(["timesteps", "units", "epochs"]):
        for label, first, second, expected in CLAIMS:
            tests = [Claim(first, second, measure, expected) for measure in MEASURES]
            table = claims.compare(cell, tests)
            table.insert(0, "claim", label)
            table.insert(0, "epochs", epochs)
            table.insert(0, "units", units)
            table.insert(0, "timesteps", n_timesteps)
            frames.append(table)
    return pd.concat(frames, ignore_index=True).drop(columns=["expected"])


# What each measure is, for the figures' titles, and how to read the sign of a difference.
MEASURE_NAMES = {
    "final_loss": ("Final training loss", "negative: the first model's loss is lower"),
    "step_accuracy": ("Held-out step accuracy", "positive: the first model is more accurate"),
    "sequence_accuracy": ("Held-out sequence accuracy (every step right)",
                          "positive: the first model is more accurate"),
    "heldout_loss": ("Held-out log loss", "negative: the first model's loss is lower"),
}
VERDICT_COLOURS = {"supported": "#7cc47c", "inconclusive": "#d4d4d4", "not supported": "#e8837f",
                   TOO_FEW: "#ffffff"}
TUTORIAL_SETTING = (10, 20, 250)  # (timesteps, units, epochs) of the tutorial's claims table


def plot(atlas, args):
    """{path: figure}, one figure per measure: a row per claim, a column per training length,
    each panel units by timesteps with cells coloured by verdict and the difference written in."""
    return {f"plots/{SCRIPT}_{measure}.png": plot_measure(atlas[atlas["measure"] == measure],
                                                          measure, args)
            for measure in MEASURES if (atlas["measure"] == measure).any()}


def plot_measure(atlas, measure, args):
    """One measure's verdicts for every claim (rows) and training length (columns)."""
    import textwrap

    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch, Rectangle

    colours = ListedColormap([VERDICT_COLOURS[verdict] for verdict in VERDICT_CODES])
    claims = [label for label, *_ in CLAIMS if (atlas["claim"] == label).any()]
    n_timesteps, n_units = atlas["timesteps"].nunique(), atlas["units"].nunique()
    # Cells wide enough for "+0.123" at 10 pt, in a figure under 900 px wide at 120 dpi.
    panel_width, panel_height = 0.62 * n_timesteps, 0.3 * n_units
    width = max(panel_width * len(args.epochs) + 1.2, 6.4)
    fig = plt.figure(layout="constrained",
                     figsize=(width, (panel_height + 0.85) * len(claims) + 1.5))
    # A row for the colour key under the title, then a row per claim.
    key, *rows = fig.subfigures(len(claims) + 1, 1,
                                height_ratios=[0.4] + [panel_height + 0.85] * len(claims))
    for row, label in zip(rows, claims):
        row.suptitle(f"Claim {label}", fontsize=11, fontweight="bold", x=0.01, ha="left")
        axes = row.subplots(1, len(args.epochs), sharey=True, squeeze=False)[0]
        for ax, epochs in zip(axes, args.epochs):
            cell = atlas[(atlas["claim"] == label) & (atlas["epochs"] == epochs)]
            codes = cell.pivot(index="units", columns="timesteps", values="verdict").map(
                VERDICT_CODES.get)
            differences = cell.pivot(index="units", columns="timesteps", values="difference")
            ax.imshow(codes.to_numpy(dtype=float), cmap=colours, vmin=0,
                      vmax=len(VERDICT_CODES) - 1, aspect="auto")
            for (y, x), value in np.ndenumerate(differences.to_numpy()):
                if np.isnan(value):  # a setting this run did not train
                    continue
                ax.text(x, y, f"{value:+.3f}", ha="center", va="center", fontsize=10)
            timesteps, units, tutorial_epochs = TUTORIAL_SETTING
            if (epochs == tutorial_epochs and timesteps in codes.columns
                    and units in codes.index):
                x, y = list(codes.columns).index(timesteps), list(codes.index).index(units)
                ax.add_patch(Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, linewidth=2.5))
            ax.set_xticks(range(len(codes.columns)), codes.columns, fontsize=9)
            ax.set_yticks(range(len(codes.index)), codes.index, fontsize=9)
            ax.tick_params(length=0)
            ax.set_title(f"after {epochs:,} epochs", fontsize=10)
        axes[0].set_ylabel("units", fontsize=9)
        for ax in axes:
            ax.set_xlabel("timesteps", fontsize=9)
    name, sign = MEASURE_NAMES[measure]
    explained = (f"The tutorial's claims in every setting. Each number: the mean difference "
                 f"first - second over {cli.describe_seeds(args)} ({sign}); colour: the verdict "
                 "of its paired bootstrap 95% interval")
    if (atlas["verdict"] == TOO_FEW).any():
        explained += f" (none from fewer than {MIN_SEEDS} seeds)"
    fig.suptitle(f"{name}\n" + textwrap.fill(explained, int(width * 12.5)), fontsize=11)
    handles = [Patch(facecolor=VERDICT_COLOURS[verdict], edgecolor="grey", label=verdict)
               for verdict in verdicts_in(atlas)]
    handles.append(Patch(fill=False, linewidth=2.5, label="the tutorial's setting"))
    # One row for the usual four entries; two when "too few seeds" joins them.
    key.legend(handles=handles, loc="center", ncol=4 if len(handles) <= 4 else 3, fontsize=10,
               frameon=False,
               handlelength=1.5, handletextpad=0.5, columnspacing=1.0)
    return fig


def verdicts_in(atlas):
    """The three verdicts, then "too few seeds" where the run had too few for any."""
    return (["supported", "inconclusive", "not supported"]
            + ([TOO_FEW] if (atlas["verdict"] == TOO_FEW).any() else []))


def printed_table(atlas):
    counts = (atlas.groupby(["claim", "measure", "verdict"], sort=False).size()
              .unstack(fill_value=0).reindex(columns=verdicts_in(atlas), fill_value=0))
    cells = atlas.groupby(["timesteps", "units", "epochs"]).ngroups
    return (counts.to_string()
            + f"\n(cells of the grid, of {cells}, where each claim is supported, inconclusive or "
            "not supported, per measure)")


def parse_args(argv=None):
    parser = cli.ArgumentParser(__name__, description=__doc__)
    parser.add_argument("--timesteps", type=cli.positive_int, nargs="+", default=[5, 10, 20, 40],
                        help="sequence lengths of the grid")
    parser.add_argument("--units", type=cli.positive_int, nargs="+", default=[5, 10, 20, 50],
                        help="memory units of each LSTM direction")
    parser.add_argument("--epochs", type=cli.int_at_least(50), nargs="+", default=[250, 1000],
                        help="training lengths; all but the longest are read from its checkpoints")
    cli.add_run_arguments(parser, repeats=30)
    parser.add_argument("--from-runs", type=Path, metavar="CSV",
                        help="test the claims, print the table and draw the plots again from "
                             "per-seed measures written before (results/claims_atlas_runs.csv), "
                             "without training; the grid and seeds are the file's")

    def check(args):
        cli.check_distinct(parser, args, "timesteps", "units", "epochs")
        if args.repeats < 2:
            parser.error("argument --repeats: the bootstrap needs at least 2 seeds")
        if args.from_runs is not None:
            args.per_seed = read_runs(parser, args)

    args = cli.parse(parser, argv, check, memory=lambda args: resources.training_memory(
        args.repeats, max(args.timesteps), max(args.units), max(args.epochs),
        args.eval_sequences, checkpoints=1 + max(args.epochs) // min(args.epochs)))
    args.timesteps, args.units, args.epochs = (sorted(v) for v in
                                               (args.timesteps, args.units, args.epochs))
    return args


RUN_COLUMNS = ["timesteps", "units", "epochs", "model", "seed", *MEASURES]


def read_runs(parser, args):
    """--from-runs: the file's per-seed measures; its grid and seeds replace the flags'."""
    try:
        per_seed = pd.read_csv(args.from_runs)
    except (OSError, ValueError) as error:
        parser.error(f"argument --from-runs: cannot read {args.from_runs}: "
                     f"{getattr(error, 'strerror', None) or error}")
    missing = [column for column in RUN_COLUMNS if column not in per_seed]
    if missing or per_seed.empty:
        parser.error(f"argument --from-runs: {args.from_runs} is not a runs file of this script "
                     f"(missing columns: {', '.join(missing) or 'none, but no rows'})")
    args.timesteps, args.units, args.epochs = (sorted(per_seed[name].unique().tolist())
                                               for name in ("timesteps", "units", "epochs"))
    seeds = sorted(per_seed["seed"].unique().tolist())
    args.seed, args.repeats = seeds[0], len(seeds)
    return per_seed


def main(argv=None):
    args = parse_args(argv)
    if args.from_runs is not None:
        return redraw(args)
    from suite import outputs, resume  # loads Keras, now that the flags are good

    # Each cell is kept as it finishes, so an interrupted atlas continues where it stopped.
    with resume.resumable(SCRIPT, args) as parts:
        frames = []
        for n_timesteps in args.timesteps:
            for units in args.units:
                if not args.quiet:
                    print(f"Cell: {n_timesteps} timesteps, {units} units", flush=True)
                frames.append(parts.get(f"cell-{n_timesteps}-{units}",
                                        lambda: run_cell(n_timesteps, units, args)))
        per_seed = pd.concat(frames, ignore_index=True)
        atlas = test_claims(per_seed)
        outputs.write_results(
            args.output_dir,
            {f"results/{SCRIPT}.csv": atlas, f"results/{SCRIPT}_runs.csv": per_seed},
            plot(atlas, args), name=SCRIPT, quiet=args.quiet, run=args)
    if not args.quiet:
        print()
    print(printed_table(atlas))
    return atlas, per_seed


def redraw(args):
    """The verdicts, table and plots from the per-seed measures of an earlier run. The run record
    (results/claims_atlas_run.csv) is left as it is: it describes the run that trained."""
    from suite import outputs

    atlas = test_claims(args.per_seed)
    outputs.write_results(args.output_dir, {f"results/{SCRIPT}.csv": atlas}, plot(atlas, args),
                          name=SCRIPT, quiet=args.quiet)
    print(printed_table(atlas))
    return atlas, args.per_seed


if __name__ == "__main__":
    main()
