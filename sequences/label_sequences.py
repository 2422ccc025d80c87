"""Label new sequences with a saved model: a CSV in, the predicted labels out as CSV.

A run of python -m sequences.classify_sequences saves each model's first seed under
<output-dir>/models/ as NAME.keras with NAME.json beside it (class names, features, their
training mean and standard deviation, padding). This reads new sequences in the same long form,
without a label column or with one (then it also prints the accuracy), scales and pads them as
the model was trained, and writes one row per sequence (or per step, for a model that labels
every step) with the predicted label and its probability.

    python -m sequences.label_sequences runs/models/sequences_tutorial_bilstm_con.keras \\
        sample.csv --output runs/labels.csv
"""

if not __package__:  # run as a file, not as a module: the imports below would fail
    import sys

    sys.stderr.write("error: run it from the repository root as a module: "
                     "python -m sequences.label_sequences\n")
    raise SystemExit(2)

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from suite import cli, environment, outputs, sequence_data


def predicted_labels(model, description, sequences):
    """(rows of predicted labels and probabilities, accuracy against the file's labels or None)."""
    n_timesteps = description["n_timesteps"]
    scale = (np.array(description["mean"]), np.array(description["std"]))
    X, _, weights = sequence_data.padded(sequences, np.arange(len(sequences.features)),
                                         n_timesteps, description["padding"], scale)
    probabilities = np.asarray(model.predict(X, verbose=0))
    classes = np.asarray(description["classes"], dtype=object)
    rows = []
    for i, sequence_id in enumerate(sequences.ids):
        if not description["per_step"]:
            rows.append({"sequence": sequence_id, "label": classes[probabilities[i].argmax()],
                         "probability": probabilities[i].max()})
            continue
        real = np.flatnonzero(weights[i])
        for step, position in enumerate(real):
            rows.append({"sequence": sequence_id, "step": step,
                         "label": classes[probabilities[i, position].argmax()],
                         "probability": probabilities[i, position].max()})
    return pd.DataFrame(rows)


def accuracy(rows, sequences):
    """Share of the file's labels the model predicts, or None for a file without labels."""
    if sequences.classes == ["unlabelled"]:
        return None
    names = np.asarray(sequences.classes, dtype=object)
    truth = (np.concatenate([names[labels] for labels in sequences.labels])
             if sequences.per_step else names[np.asarray(sequences.labels)])
    return float(np.mean(rows["label"].to_numpy() == truth))


def check_fits(description, sequences):
    """DataError unless the file has the model's features and no sequence longer than it reads."""
    if sequences.feature_names != description["features"]:
        raise sequence_data.DataError(
            f"the feature columns are {', '.join(sequences.feature_names)}; the model was "
            f"trained on {', '.join(description['features'])}, in that order")
    longest = int(sequences.lengths.max())
    if longest > description["n_timesteps"]:
        raise sequence_data.DataError(
            f"a sequence has {longest} steps; the model reads {description['n_timesteps']} at most")


def parse_args(argv=None):
    parser = cli.ArgumentParser(__name__, description=__doc__)
    parser.add_argument("model", type=Path, help="a .keras file saved by classify_sequences")
    parser.add_argument("data", type=Path, help="new sequences: sequence,step,features...[,label]")
    parser.add_argument("--output", type=Path, default=Path("runs/labels.csv"),
                        help="the CSV of predicted labels to write")

    def check(args):
        if args.model.suffix != ".keras":
            parser.error(f"argument model: {args.model} is not a .keras file")
        for path in (args.model, args.model.with_suffix(".json")):
            if not path.is_file():
                parser.error(f"argument model: {path}: no such file")
        args.output_dir = args.output.parent  # proved writable before the model loads

    args = cli.parse(parser, argv, check=check, subfolders=())
    return args


def main(argv=None):
    args = parse_args(argv)
    from suite import saving

    try:
        model, description = saving.load(args.model)
    except (ValueError, OSError, KeyError, json.JSONDecodeError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        sys.stderr.write(f"{environment.program()}: error: {args.model} is not a model saved by "
                         f"classify_sequences with its .json ({reason})\n")
        raise SystemExit(2) from None
    try:
        sequences = sequence_data.read_csv(
            args.data, "step" if description["per_step"] else "sequence", labelled=False)
        check_fits(description, sequences)
    except sequence_data.DataError as error:
        sys.stderr.write(f"{environment.program()}: error: {error}\n")
        raise SystemExit(2) from None
    rows = predicted_labels(model, description, sequences)
    outputs.atomic_write(args.output, lambda temporary: rows.to_csv(temporary, index=False))
    score = accuracy(rows, sequences)
    print(f"Labelled {len(sequences.features):,} sequences with {args.model}: wrote "
          f"{args.output}" + ("" if score is None else f"; accuracy against the file's labels "
                              f"{score:.3f}"))
    return rows, score


if __name__ == "__main__":
    main()
