"""The tutorial's claims beyond its one setting: an atlas over length, size and training time.

The claims table tests each of the tutorial's claims at its one setting (10 timesteps, 20 units,
250 epochs). This script trains the seven tutorial models (lstm_forw, lstm_back,
lstm_back_aligned and the BiLSTM with each merge mode) for every sequence length and LSTM size
of a grid, 30 seeds per cell, and re-tests every claim of the table in every cell and at every
training length, with the same paired bootstrap and verdict rules as the claims table, on the
training loss and on held-out step accuracy, sequence accuracy and log loss. The shorter
training lengths are read from the checkpoints of the longest run (training is sequential, so
the model after 250 of 1,000 epochs is the model of a 250-epoch run).

    KERAS_BACKEND=jax python claims_atlas.py
    python claims_atlas.py --timesteps 10 --units 20 --epochs 250 --repeats 5
"""

import argparse
import math

import numpy as np
import pandas as pd

import compare_directions
import compare_merge_modes
from suite import cli
from suite.claims import Claim

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
VERDICT_CODES = {"not supported": 0, "inconclusive": 1, "supported": 2}


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


def plot(atlas, args):
    """One heat map per claim, measure and training length: units by timesteps, cells coloured by
    verdict with the difference written in them."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    colours = ListedColormap(["#d9534f", "#cccccc", "#5cb85c"])
    columns = [(measure, epochs) for measure in MEASURES for epochs in args.epochs]
    fig, axes = plt.subplots(len(CLAIMS), len(columns), squeeze=False,
                             figsize=(2.3 * len(columns) + 1, 2.0 * len(CLAIMS) + 1))
    for i, (label, *_) in enumerate(CLAIMS):
        for j, (measure, epochs) in enumerate(columns):
            ax = axes[i, j]
            cell = atlas[(atlas["claim"] == label) & (atlas["measure"] == measure)
                         & (atlas["epochs"] == epochs)]
            codes = cell.pivot(index="units", columns="timesteps", values="verdict").map(
                VERDICT_CODES.get)
            differences = cell.pivot(index="units", columns="timesteps", values="difference")
            ax.imshow(codes.to_numpy(dtype=float), cmap=colours, vmin=0, vmax=2, aspect="auto")
            for (y, x), value in np.ndenumerate(differences.to_numpy()):
                ax.text(x, y, f"{value:+.3f}", ha="center", va="center", fontsize=6)
            ax.set_xticks(range(len(codes.columns)), codes.columns, fontsize=6)
            ax.set_yticks(range(len(codes.index)), codes.index, fontsize=6)
            if i == 0:
                ax.set_title(f"{measure}\n{epochs:,} epochs", fontsize=8)
            if j == 0:
                ax.set_ylabel(f"{label}\nunits", fontsize=7)
            if i == len(CLAIMS) - 1:
                ax.set_xlabel("timesteps", fontsize=7)
    fig.suptitle("The tutorial's claims in every setting: green supported, grey inconclusive, "
                 "red not supported\n(paired bootstrap 95% intervals over seeds "
                 f"{args.seed}-{args.seed + args.repeats - 1}; each number is the mean difference "
                 "first - second)", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig


def printed_table(atlas):
    counts = (atlas.groupby(["claim", "measure", "verdict"], sort=False).size()
              .unstack(fill_value=0).reindex(columns=list(VERDICT_CODES)[::-1], fill_value=0))
    cells = atlas.groupby(["timesteps", "units", "epochs"]).ngroups
    return (counts.to_string()
            + f"\n(cells of the grid, of {cells}, where each claim is supported, inconclusive or "
            "not supported, per measure)")


def parse_args(argv=None):
    parser = cli.ArgumentParser(description=__doc__)
    parser.add_argument("--timesteps", type=cli.positive_int, nargs="+", default=[5, 10, 20, 40],
                        help="sequence lengths of the grid")
    parser.add_argument("--units", type=cli.positive_int, nargs="+", default=[5, 10, 20, 50],
                        help="memory units of each LSTM direction")
    parser.add_argument("--epochs", type=cli.int_at_least(50), nargs="+", default=[250, 1000],
                        help="training lengths; all but the longest are read from its checkpoints")
    cli.add_run_arguments(parser, repeats=30)

    def check(args):
        cli.check_distinct(parser, args, "timesteps", "units", "epochs")
        if args.repeats < 2:
            parser.error("argument --repeats: the bootstrap needs at least 2 seeds")

    args = cli.parse(parser, argv, check)
    args.timesteps, args.units, args.epochs = (sorted(v) for v in
                                               (args.timesteps, args.units, args.epochs))
    return args


def main(argv=None):
    args = parse_args(argv)
    from suite import experiment, outputs  # loads Keras, now that the flags are good

    with experiment.previous_files_kept_on_interrupt():
        frames = []
        for n_timesteps in args.timesteps:
            for units in args.units:
                if not args.quiet:
                    print(f"Cell: {n_timesteps} timesteps, {units} units", flush=True)
                frames.append(run_cell(n_timesteps, units, args))
        per_seed = pd.concat(frames, ignore_index=True)
        atlas = test_claims(per_seed)
        outputs.write_results(
            args.output_dir,
            {f"results/{SCRIPT}.csv": atlas, f"results/{SCRIPT}_runs.csv": per_seed},
            {f"plots/{SCRIPT}.png": plot(atlas, args)}, name=SCRIPT, quiet=args.quiet)
    if not args.quiet:
        print()
    print(printed_table(atlas))
    return atlas, per_seed


if __name__ == "__main__":
    main()
