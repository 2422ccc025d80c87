"""Exercise: model size against problem complexity.

The book asks for an experiment that compares the size of the model with the complexity of the
problem. Here size is the number of memory units of the book's Bidirectional LSTM and complexity
is the sequence length: the label flips where the running sum reaches length / 4, so a longer
sequence means a longer sum to keep and more steps that must all be right. Every cell of the
units x length grid gets the same training budget (the same number of fresh sequences, in batches
of ten as the book trains) and is scored on held-out sequences; the heat map shows the
whole-sequence accuracy, the share of held-out sequences with every step right.

    python -m book.sweep_sequence_length
    python -m book.sweep_sequence_length --units 5 50 --timesteps 10 100 --repeats 2
"""

if not __package__:  # run as a file, not as a module: the imports below would fail
    import sys

    sys.stderr.write("error: run it from the repository root as a module: "
                     "python -m book.sweep_sequence_length\n")
    raise SystemExit(2)

import argparse

from bilstm_classify import build_model
from cumsum_data import position_reference
from suite import cli, resources

SCRIPT = "sweep_sequence_length"


def run_grid(args, parts):
    """Train every units value at every length; one tidy row per (units, timesteps, seed).

    Each length is one part (`resume.Parts`): kept as it finishes, reused if a run was
    interrupted."""
    import pandas as pd

    return pd.concat([parts.get(f"timesteps-{n_timesteps}",
                                lambda: run_length(n_timesteps, args))
                      for n_timesteps in args.timesteps], ignore_index=True)


def run_length(n_timesteps, args):
    """Every units value at one sequence length."""
    from suite import experiment

    reference = position_reference(n_timesteps)
    models = {f"units_{units}": (lambda units=units: build_model(n_timesteps, units))
              for units in args.units}
    cell = argparse.Namespace(**{**vars(args), "timesteps": n_timesteps})
    results = experiment.train_models(models, cell, n_sequences=args.sequences,
                                      batch_size=args.batch_size, step_name="batch")
    summary = results.summary.drop(columns=["loss_auc", "epochs_to_reference"])
    summary.insert(0, "units", summary.pop("model").str.removeprefix("units_").astype(int))
    summary.insert(1, "timesteps", n_timesteps)
    summary["reference_step_accuracy"] = reference.step_accuracy
    summary["reference_sequence_accuracy"] = reference.sequence_accuracy
    return summary


def grid_of(table, measure):
    """units x timesteps means of `measure` over seeds."""
    return table.pivot_table(index="units", columns="timesteps", values=measure, aggfunc="mean")


def plot_grid(table, args):
    from suite import experiment, plotting

    grid = grid_of(table, "sequence_accuracy")
    references = table.groupby("timesteps")["reference_sequence_accuracy"].first()
    columns = [f"{t}\nref. {references[t]:.2f}" for t in grid.columns]
    return experiment.titled_figure(
        "Held-out whole-sequence accuracy of the Bidirectional LSTM\n"
        f"{args.sequences:,} training sequences in batches of {args.batch_size}; mean of "
        f"{cli.describe_seeds(args)},\n"
        f"{args.eval_sequences:,} held-out sequences each; ref. = position-only reference",
        plotting.plot_heat_map, grid.to_numpy(), [f"{u}" for u in grid.index], columns,
        label="share of held-out sequences with every step right",
        xlabel="sequence length (timesteps)", ylabel="memory units per direction",
    )


def printed_table(table):
    grid = grid_of(table, "sequence_accuracy")
    references = table.groupby("timesteps")["reference_sequence_accuracy"].first()
    grid.loc["position only"] = references
    grid.index.name, grid.columns.name = "units \\ timesteps", None
    return (grid.to_string(float_format="{:.3f}".format)
            + "\n(held-out whole-sequence accuracy, mean over seeds)")


def parse_args(argv=None):
    parser = cli.ArgumentParser(__name__, description=__doc__)
    parser.add_argument("--units", type=cli.positive_int, nargs="+",
                        default=[1, 2, 5, 10, 20, 50], help="memory units of each LSTM direction")
    parser.add_argument("--timesteps", type=cli.positive_int, nargs="+",
                        default=[5, 10, 20, 50, 100], help="sequence lengths")
    parser.add_argument("--sequences", type=cli.positive_int, default=5000,
                        help="training sequences per run, the same for every cell")
    parser.add_argument("--batch-size", type=cli.positive_int, default=10,
                        help="sequences per optimizer step")
    cli.add_run_arguments(parser, repeats=3)

    def check(args):
        cli.check_distinct(parser, args, "units", "timesteps")
        cli.check_whole_batches(parser, args.sequences, args.batch_size)

    args = cli.parse(parser, argv, check, memory=lambda args: resources.training_memory(
        args.repeats, max(args.timesteps), max(args.units), args.sequences, args.eval_sequences,
        sequences_flag="--sequences"))
    args.units, args.timesteps = sorted(args.units), sorted(args.timesteps)
    return args


def main(argv=None):
    args = parse_args(argv)
    from suite import outputs, resume  # loads Keras, now that the flags are good

    with resume.resumable(SCRIPT, args) as parts:
        table = run_grid(args, parts)
        outputs.write_results(args.output_dir, {f"results/{SCRIPT}.csv": table},
                              {f"plots/{SCRIPT}.png": plot_grid(table, args)}, name=SCRIPT,
                              quiet=args.quiet, run=args)
    if not args.quiet:
        print()
    print(printed_table(table))
    return table


if __name__ == "__main__":
    main()
