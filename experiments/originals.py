"""The originals' printed numbers, placed among many seeds.

The tutorial and the book each print numbers from one run. This script runs each original
protocol over 30 seeds, computes every printed quantity the way the original computed it, and
says where each printed number falls among the seeds:

- the tutorial's LSTM and Bidirectional LSTM sections (1,000 epochs of one fresh sequence each):
  the loss and acc that `fit` reports for each of the last five epochs (that epoch's sequence,
  before its update), and how many of the ten steps of one fresh sequence the model gets right;
- the book (Bidirectional LSTM(50), 50,000 sequences in batches of ten): the progress bar's loss
  and acc (means over the epoch's batches), `evaluate`'s loss and accuracy on 100 fresh
  sequences, and how many of ten further fresh sequences are right at every step;
- the book's 97 seconds against this machine's time for the same `model.fit` call.

A printed number is typical inside the seeds' 2.5th to 97.5th percentiles and unusual outside
them. A printed count (9 of 10 steps, 100 of 100 sequences, 8 of 10 sequences) gets the
probability of that outcome or a more extreme one, from each seed's measured accuracy on its
held-out sequences, and is rare when that probability is under 1%.

    python -m experiments.originals
    python -m experiments.originals --repeats 5 --fit-backends
"""

if not __package__:  # run as a file, not as a module: the imports below would fail
    import sys

    sys.stderr.write("error: run it from the repository root as a module: "
                     "python -m experiments.originals\n")
    raise SystemExit(2)

import argparse
import math

from suite import cli, environment, resources
import numpy as np
import pandas as pd

import bilstm_classify
import lstm_baseline
from suite.book_chapter import BOOK_EVALUATION, BOOK_PREDICTIONS, evaluate_as_the_book

SCRIPT = "originals"
RARE = 0.01

# What the originals printed (../shared/seeds): the last five `fit` lines of each tutorial
# section, its Expected/Predicted lines, and the book's progress bar, evaluation and predictions.
TUTORIAL_FIT = {
    "lstm": {"loss": [0.2039, 0.2985, 0.1219, 0.2031, 0.1698], "acc": [0.9, 0.9, 1.0, 0.9, 0.9]},
    "bilstm": {"loss": [0.0967, 0.0865, 0.0905, 0.2460, 0.1458], "acc": [0.9, 1.0, 0.9, 0.9, 0.9]},
}
TUTORIAL_STEPS_RIGHT = {"lstm": 9, "bilstm": 10}  # of the 10 Expected/Predicted lines
BOOK = {"progress bar loss": 0.0508, "progress bar acc": 0.9817, "evaluate loss": 0.016752,
        "evaluate accuracy": 1.0, "sequences right of 10": 8}
BOOK_SECONDS = 97


# ---------------------------------------------------------------- probabilities of counts


def steps_right_distribution(probabilities, y):
    """Per seed, the share of held-out sequences with k of T steps right, k = 0 .. T."""
    right = ((probabilities > 0.5) == y.astype(bool)).sum(axis=-1)
    n_timesteps = y.shape[-1]
    return np.stack([(right == k).mean(axis=-1) for k in range(n_timesteps + 1)], axis=-1)


def tail_of_counts(distribution, k):
    """P(k or a more extreme count) from per-seed distributions over counts (seeds, 0..n).

    More extreme is further from the seeds' typical count: the smaller of the two tails.
    """
    pooled = np.asarray(distribution).mean(axis=0)
    return float(min(pooled[: k + 1].sum(), pooled[k:].sum()))


def binomial_pmf(n, p):
    """P(X = k) for k = 0 .. n, X ~ Binomial(n, p), for every p in the array p: (len(p), n + 1)."""
    p = np.asarray(p, dtype=float)[..., None]
    k = np.arange(n + 1)
    return np.array([math.comb(n, j) for j in k]) * p**k * (1 - p) ** (n - k)


def all_right_probability(sequence_accuracy, n):
    """P(all n independent sequences right), pooled over seeds."""
    return float(np.mean(np.asarray(sequence_accuracy) ** n))


def book_pair_probability(sequence_accuracy, n_evaluated=BOOK_EVALUATION,
                          n_predicted=BOOK_PREDICTIONS, right=8):
    """The book's two outcomes together: all n_evaluated right, then at most `right` of the next
    n_predicted. Returns (pooled over seeds, the most any single accuracy gives, that accuracy)."""
    def pair(s):
        s = np.asarray(s, dtype=float)
        return s**n_evaluated * binomial_pmf(n_predicted, s)[..., : right + 1].sum(axis=-1)

    grid = np.linspace(0, 1, 100_001)
    values = pair(grid)
    return float(pair(sequence_accuracy).mean()), float(values.max()), float(grid[values.argmax()])


# ---------------------------------------------------------------- placing a printed number


def place(source, section, quantity, printed, values, probability=None):
    """One row of results/originals.csv: the printed number among the seeds' values."""
    # Rounded: accuracies come as float32, and 0.9 must compare equal to 9 of 10 steps.
    values = np.round(np.asarray(values, dtype=float), 6)
    low, high = np.quantile(values, [0.025, 0.975])
    verdict = "typical" if low <= printed <= high else "unusual"
    if probability is not None and probability < RARE:
        verdict = "rare"
    return {"source": source, "section": section, "quantity": quantity, "printed": printed,
            "suite_mean": values.mean(), "suite_low": low, "suite_high": high,
            "percentile": float((values <= printed).mean()), "probability": probability,
            "verdict": verdict}


def tutorial_rows(section, results, name):
    """The tutorial's last five fit lines and its Expected/Predicted count, among the seeds."""
    runs = results.runs[name]
    epochs = runs.losses.shape[1]
    distribution = steps_right_distribution(runs.probabilities, results.eval_y)
    n_timesteps = results.eval_y.shape[-1]
    rows, values = [], {}
    for i, epoch in enumerate(range(epochs - 4, epochs + 1)):
        loss, acc = TUTORIAL_FIT[section]["loss"][i], TUTORIAL_FIT[section]["acc"][i]
        rows.append(place("tutorial", section, f"epoch {epoch} loss", loss,
                          runs.losses[:, epoch - 1]))
        values[f"epoch {epoch} loss"] = runs.losses[:, epoch - 1]
        steps = round(acc * n_timesteps)
        rows.append(place("tutorial", section, f"epoch {epoch} acc", acc,
                          runs.accuracies[:, epoch - 1], tail_of_counts(distribution, steps)))
        values[f"epoch {epoch} acc"] = runs.accuracies[:, epoch - 1]
    # Expected/Predicted: one fresh sequence, the first held-out one of each seed.
    right = ((runs.probabilities[:, 0] > 0.5) == results.eval_y[:, 0].astype(bool)).sum(axis=-1)
    printed = TUTORIAL_STEPS_RIGHT[section]
    rows.append(place("tutorial", section, "steps right of 10, one fresh sequence", printed,
                      right, tail_of_counts(distribution, printed)))
    values["steps right of 10, one fresh sequence"] = right
    return rows, values


def book_rows(results, evaluation):
    """The book's progress bar, evaluation and predictions among the seeds."""
    from suite import experiment

    runs = results.runs["bilstm_book"]
    _, sequence_accuracy = experiment.score(runs.probabilities, results.eval_y)
    measured = {
        "progress bar loss": runs.losses.mean(axis=1),
        "progress bar acc": runs.accuracies.mean(axis=1),
        "evaluate loss": evaluation["loss"].to_numpy(),
        "evaluate accuracy": evaluation["accuracy"].to_numpy(),
        "sequences right of 10": evaluation["predictions_right"].to_numpy(),
    }
    probabilities = {
        "evaluate accuracy": all_right_probability(sequence_accuracy, BOOK_EVALUATION),
        "sequences right of 10": tail_of_counts(
            binomial_pmf(BOOK_PREDICTIONS, sequence_accuracy), BOOK["sequences right of 10"]),
    }
    rows = [place("book", "bilstm_book", quantity, BOOK[quantity], values,
                  probabilities.get(quantity)) for quantity, values in measured.items()]
    return rows, measured, sequence_accuracy


def book_evaluation(results, build, args):
    """Per seed, as the book does it: evaluate on 100 fresh sequences, then 10 more predicted."""
    rows = []
    for seed, loss, acc, y, yhat in evaluate_as_the_book(results, build, args.timesteps):
        right = int((yhat == y)[BOOK_EVALUATION:].all(axis=(1, 2)).sum())
        rows.append({"seed": seed, "loss": loss, "accuracy": acc, "predictions_right": right})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- the book's 97 seconds

FIT_TIMING = """
import sys, time
from suite.environment import import_keras
import_keras()
from bilstm_classify import build_model
from cumsum_data import get_sequences
from suite import training
X, y = get_sequences({sequences}, 10, rng=0)
model = training.build_seeded(lambda: build_model(10, 50), 0)
start = time.perf_counter()
model.fit(X, y, epochs=1, batch_size=10, verbose=0)
print(time.perf_counter() - start)
"""


def time_book_fit(backend, sequences):
    """Seconds of the book's own `model.fit(X, y, epochs=1, batch_size=10)` on this machine."""
    import os
    import subprocess
    import sys

    completed = subprocess.run(
        [sys.executable, "-c", FIT_TIMING.format(sequences=sequences)], capture_output=True,
        text=True, cwd=environment.REPOSITORY, env={**os.environ, "KERAS_BACKEND": backend})
    if completed.returncode:
        raise SystemExit(f"error: timing fit on {backend} failed: "
                         f"{completed.stderr.strip().splitlines()[-1]}")
    return float(completed.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- the plot


def plot(table, values, reference, args):
    import matplotlib.pyplot as plt

    columns = 6
    rows = math.ceil((len(table) + 1) / columns)  # and a panel of its own for the legend
    fig, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.3 * rows), squeeze=False)
    rng = np.random.default_rng(0)  # jitter only
    for ax, row in zip(axes.flat, table.itertuples()):
        seeds = np.asarray(values[(row.section, row.quantity)], dtype=float)
        ax.scatter(seeds, rng.uniform(-1, 1, len(seeds)), s=12, alpha=0.7, color="tab:blue",
                   label=f"{len(seeds)} seeds")
        ax.axvline(row.printed, color="tab:red", linewidth=2, label="printed")
        if "loss" in row.quantity:
            ax.axvline(reference.log_loss, color="black", linestyle="--", linewidth=1,
                       label="position-only")
        elif row.quantity.endswith("acc"):
            ax.axvline(reference.step_accuracy, color="black", linestyle="--", linewidth=1,
                       label="position-only")
        ax.set_yticks([])
        ax.set_ylim(-1.6, 1.6)
        ax.set_title(f"{row.section}: {row.quantity}\n{row.verdict}", fontsize="small")
        ax.tick_params(labelsize="x-small")
    for ax in list(axes.flat)[len(table):]:
        ax.axis("off")
    # The legend takes the first empty panel, so it covers no seed. A panel with a reference has
    # every kind of mark: seeds, the printed number and the position-only reference.
    with_reference = next((ax for ax in axes.flat[:len(table)]
                           if len(ax.get_legend_handles_labels()[0]) == 3), axes.flat[0])
    axes.flat[len(table)].legend(*with_reference.get_legend_handles_labels(), loc="center",
                                 fontsize="small")
    fig.suptitle(f"The originals' printed numbers (red) among {args.repeats} seeds "
                 f"({args.seed}-{args.seed + args.repeats - 1}) of the same protocol")
    fig.tight_layout()
    return fig


def printed_table(table):
    shown = table.copy()
    for column in ("printed", "suite_mean", "suite_low", "suite_high"):
        shown[column] = shown[column].map("{:.4g}".format)
    shown["percentile"] = shown["percentile"].map("{:.2f}".format)
    shown["probability"] = shown["probability"].map(lambda p: "" if pd.isna(p) else f"{p:.2g}")
    return (shown.drop(columns=["source"]).to_string(index=False)
            + "\n(suite_low, suite_high: 2.5th and 97.5th percentiles over seeds; percentile: "
            "share of seeds at or below the printed value; probability: of the printed count or "
            "a more extreme one, from each seed's held-out accuracy)")


# ---------------------------------------------------------------- command line


def parse_args(argv=None):
    parser = cli.ArgumentParser(__name__, description=__doc__)
    cli.add_run_arguments(parser, repeats=30)
    parser.add_argument("--epochs", type=cli.int_at_least(5), default=1000,
                        help="epochs of the tutorial's sections; the last five are compared")
    parser.add_argument("--book-sequences", type=cli.positive_int, default=50_000,
                        help="training sequences of the book's run, in batches of ten")
    parser.add_argument("--fit-backends", nargs="*", default=["tensorflow", "jax"],
                        choices=["tensorflow", "jax", "torch"], metavar="BACKEND",
                        help="backends on which to time the book's own fit call (none: skip)")

    def check(args):
        cli.check_whole_batches(parser, args.book_sequences, 10, "--book-sequences")
        if args.eval_sequences < BOOK_EVALUATION:
            parser.error(f"argument --eval-sequences: must be at least {BOOK_EVALUATION}")

    return cli.parse(parser, argv, check, memory=memory_needed)


def memory_needed(args):
    """The larger of the tutorial's sections and the book's run (50 units)."""
    book = args.book_sequences > args.epochs
    return resources.training_memory(args.repeats, 10, 50, max(args.epochs, args.book_sequences),
                                     args.eval_sequences,
                                     sequences_flag="--book-sequences" if book else "--epochs")


def main(argv=None):
    args = parse_args(argv)
    from suite import experiment, outputs, resume  # loads Keras, now that the flags are good

    tutorial = argparse.Namespace(**{**vars(args), "timesteps": 10, "units": 20})
    book = argparse.Namespace(**{**vars(tutorial), "units": 50})

    def build_book():
        return bilstm_classify.build_model(10, 50)

    def tutorial_protocol(section, name, build):
        return tutorial_rows(section, experiment.train_models({name: build}, tutorial), name)

    def book_protocol():
        results = experiment.train_models({"bilstm_book": build_book}, book,
                                          n_sequences=args.book_sequences, batch_size=10,
                                          step_name="batch")
        evaluation = book_evaluation(results, build_book, book)
        seconds = float(results.runs["bilstm_book"].train_seconds.mean())
        return (*book_rows(results, evaluation), results.reference, seconds)

    # Each protocol is kept as it finishes, so an interrupted run continues where it stopped.
    with resume.resumable(SCRIPT, args) as parts:
        rows, values = [], {}
        for section, name, build in [("lstm", "lstm_forw", lambda: lstm_baseline.build_model()),
                                     ("bilstm", "bilstm_con",
                                      lambda: bilstm_classify.build_model())]:
            section_rows, section_values = parts.get(
                section, lambda: tutorial_protocol(section, name, build))
            rows += section_rows
            values.update({(section, q): v for q, v in section_values.items()})
        section_rows, section_values, sequence_accuracy, reference, seconds = parts.get(
            "bilstm_book", book_protocol)
        rows += section_rows
        values.update({("bilstm_book", q): v for q, v in section_values.items()})
        table = pd.DataFrame(rows)
        together, most, at = book_pair_probability(sequence_accuracy)
        timings = pd.DataFrame(
            [{"what": "book, as printed", "backend": "-", "seconds": BOOK_SECONDS}]
            + [{"what": f"model.fit on {args.book_sequences:,} sequences, batch size 10",
                "backend": backend,
                "seconds": parts.get(f"fit-{backend}",
                                     lambda: time_book_fit(backend, args.book_sequences))}
               for backend in args.fit_backends]
            + [{"what": f"suite's training path, {args.repeats} seeds, per seed",
                "backend": experiment.keras.backend.backend(), "seconds": seconds}])
        outputs.write_results(
            args.output_dir,
            {f"results/{SCRIPT}.csv": table, f"results/{SCRIPT}_book_timing.csv": timings},
            {f"plots/{SCRIPT}.png": plot(table, values, reference, args)},
            name=SCRIPT, quiet=args.quiet, run=args)
    if not args.quiet:
        print()
    print(printed_table(table))
    print(f"\nThe book's two outcomes together (100 of 100 sequences right, then at most 8 of the "
          f"next 10): probability {together:.2g} among these {args.repeats} seeds' models; at "
          f"most {most:.2g} for any single per-sequence accuracy (at {at:.3f}).")
    print()
    print(timings.to_string(index=False, float_format="{:.1f}".format))
    return table


if __name__ == "__main__":
    main()
