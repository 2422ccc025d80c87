"""The book chapter's Bidirectional LSTM: 50,000 sequences in one epoch, ten per batch.

Chapter 10 of Long Short-Term Memory Networks with Python trains the model of bilstm_classify.py
with 50 memory units (20,901 parameters) differently from the blog tutorial: 50,000 fresh
sequences, each seen once, ten per optimizer step. Then it evaluates the model on 100 fresh
sequences and prints its predictions for 10 more. This script does all of that and prints what
the book prints, and adds what the book leaves out: per-timestep and whole-sequence accuracy on
1,000 held-out sequences beside the position-only reference, the loss of every batch as a table and
a plot, and several seeds with --repeats.

    python -m book.bilstm_book
    python -m book.bilstm_book --repeats 5 --quiet
"""

if not __package__:  # run as a file, not as a module: the imports below would fail
    import sys

    sys.stderr.write("error: run it from the repository root as a module: "
                     "python -m book.bilstm_book\n")
    raise SystemExit(2)

from suite import cli, resources
import numpy as np

from bilstm_classify import build_model
from suite.book_chapter import BOOK_EVALUATION, BOOK_PREDICTIONS, evaluate_as_the_book


def book_evaluation(results, build, args):
    """Each trained model scored as the book does, with `model.evaluate` on 100 fresh sequences.

    Returns the tidy table (one row per seed) and, for the first seed, the 10 further sequences
    with the model's 0/1 predictions.
    """
    import pandas as pd

    rows, predictions = [], None
    for seed, loss, acc, y, yhat in evaluate_as_the_book(results, build, args.timesteps):
        correct = (yhat == y).all(axis=(1, 2))
        rows.append({"model": "bilstm_book", "seed": seed, "sequences": BOOK_EVALUATION,
                     "loss": loss, "accuracy": acc,
                     "sequences_correct": int(correct[:BOOK_EVALUATION].sum())})
        if predictions is None:
            predictions = (y[BOOK_EVALUATION:], yhat[BOOK_EVALUATION:])
    return pd.DataFrame(rows), predictions


def print_book_evaluation(evaluation, predictions, args):
    """What the book prints: loss and accuracy (in percent), then y, yhat and correct.

    Each evaluation line also says how many of the sequences were right at every step.
    """
    for row in evaluation.itertuples():
        print(f"seed {row.seed}: " if len(evaluation) > 1 else "", end="")
        print("Loss: %f, Accuracy: %f" % (row.loss, row.accuracy * 100), end="")
        print(f"  ({row.sequences_correct} of {row.sequences} sequences right at every step)")
    print(f"\nPredictions for {BOOK_PREDICTIONS} fresh sequences (seed {args.seed}):")
    for expected, predicted in zip(*predictions):
        expected, predicted = expected.reshape(args.timesteps), predicted.reshape(args.timesteps)
        print("y=%s, yhat=%s, correct=%s"
              % (expected, predicted, np.array_equal(expected, predicted)))


def memory_needed(args):
    """The book's run: --sequences training sequences per seed, ten to a batch."""
    return resources.training_memory(args.repeats, args.timesteps, args.units, args.sequences,
                                     args.eval_sequences, sequences_flag="--sequences")


def parse_args(argv=None):
    parser = cli.ArgumentParser(__name__, description=__doc__)
    cli.add_common_arguments(parser, epochs=None, repeats=1, units=50)
    parser.add_argument("--sequences", type=cli.positive_int, default=50_000,
                        help="training sequences, each seen once")
    parser.add_argument("--batch-size", type=cli.positive_int, default=10,
                        help="sequences per optimizer step")
    return cli.parse(parser, argv, check=lambda args: cli.check_whole_batches(
        parser, args.sequences, args.batch_size), memory=memory_needed)



def main(argv=None):
    args = parse_args(argv)
    from suite import experiment, training  # loads Keras, now that the flags are good

    def build():
        return build_model(args.timesteps, args.units)

    if not args.quiet:
        training.build_seeded(build, args.seed).summary()
    book = {}

    def evaluate(results):
        evaluation, book["predictions"] = book_evaluation(results, build, args)
        book["evaluation"] = evaluation
        return {"bilstm_book_evaluation.csv": evaluation}

    results = experiment.run(
        "bilstm_book", {"bilstm_book": build}, args,
        title=f"Bidirectional LSTM, book version: {args.sequences:,} sequences, "
              f"batch size {args.batch_size}",
        evaluate=evaluate, n_sequences=args.sequences, batch_size=args.batch_size,
        step_name="batch", xlabel=f"batch ({args.batch_size} fresh sequences each)",
    )
    if not args.quiet:
        print()
        print_book_evaluation(book["evaluation"], book["predictions"], args)
    return results


if __name__ == "__main__":
    main()
