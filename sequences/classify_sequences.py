"""Classify your own sequences: forward, backward and bidirectional LSTMs, padded and masked.

With no flags: the tutorial's problem as a data set of 1,000 sequences. Trains lstm_forw, lstm_back (reading from the last step) and bilstm_con on sequences of any
length, each seed on its own training part, keeps each model's weights of the epoch with the least
validation loss, scores the test part, and tests whether the BiLSTM beats the forward LSTM and
whether either beats the references: the majority class and, with one label per sequence, the
field's baselines, 1-nearest-neighbour with dynamic time warping and MiniRocket (sktime); with a
label per step, the most frequent label at each position. Saves each model's first seed as a
.keras file under <output-dir>/models/ (python -m sequences.label_sequences labels new ones).

    python -m sequences.classify_sequences
    python -m sequences.classify_sequences --dataset japanese_vowels      # the real benchmark
    python -m sequences.classify_sequences --dataset japanese_vowels --settings mathworks
    python -m sequences.classify_sequences --dataset tutorial --min-length 5 --padding pre
    python -m sequences.classify_sequences --write-sample sample.csv      # the format, by example
    python -m sequences.classify_sequences --data sample.csv --labels step
    python -m sequences.classify_sequences --data my_sequences.csv        # one label per sequence

Your file, one row per step: sequence,step,<one or more feature columns>,label[,split]
(docs/sequences.md).
"""

if not __package__:  # run as a file, not as a module: the imports below would fail
    import sys

    sys.stderr.write("error: run it from the repository root as a module: "
                     "python -m sequences.classify_sequences\n")
    raise SystemExit(2)

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from suite import cli, environment, outputs, resources, sequence_data, tables
from suite.claims import Claim
from suite.sequence_models import DTW, MAJORITY, MINIROCKET, MODELS, POSITION

DATASETS = ("tutorial", "japanese_vowels")
# MathWorks' "Sequence Classification Using Deep Learning" example on Japanese Vowels: 100 units,
# mini-batches of 27, 100 epochs of Adam with gradients clipped at norm 1, trained on the whole
# training set and kept as it ends (no validation part). The suite's own settings otherwise.
SETTINGS = {
    "suite": {"units": 20, "batch_size": 32, "epochs": 100, "clipnorm": None,
              "validation": sequence_data.VALIDATION_FRACTION},
    "mathworks": {"units": 100, "batch_size": 27, "epochs": 100, "clipnorm": 1.0,
                  "validation": 0.0},
}


# ---------------------------------------------------------------- data


def load_sequences(args):
    """The sequences the flags name; a file that cannot be used raises sequence_data.DataError."""
    if args.data is not None:
        return sequence_data.read_csv(args.data, args.labels)
    if args.dataset == "japanese_vowels":
        return sequence_data.japanese_vowels()
    return sequence_data.tutorial_sequences(args.sequences, args.timesteps, args.min_length,
                                            args.seed)


def splits_of(sequences, seeds, args):
    """Per seed: its parts padded to the longest sequence, scaled with its training part's
    statistics, and its order of training batches."""
    from suite.sequence_models import Split

    n_timesteps = int(sequences.lengths.max())
    splits = []
    for seed in seeds:
        parts = sequence_data.split_indices(sequences, seed, args.validation)
        scale = sequence_data.scaling(sequences, parts["train"])
        padded = {name: sequence_data.padded(sequences, indices, n_timesteps, args.padding, scale)
                  for name, indices in parts.items()}
        order = sequence_data.batch_orders(len(parts["train"]), args.batch_size, args.epochs, seed)
        splits.append(Split(seed, padded, order, parts, scale))
    return splits


# ---------------------------------------------------------------- training and references


def train_models(sequences, splits, args):
    """Every model on every seed: {name: sequence_models.Trained}."""
    from suite import sequence_models

    n_timesteps = int(sequences.lengths.max())
    trained = {}
    for name in args.model:
        def build(name=name):
            return sequence_models.build_model(name, n_timesteps, sequences.n_features,
                                               sequences.n_classes, args.units,
                                               sequences.per_step, args.clipnorm)

        trained[name] = sequence_models.train_seeds(build, name, splits,
                                                    keep="best" if args.validation else "last")
        if not args.quiet:
            run = trained[name]
            print(f"Trained {name}: {len(splits)} run(s) x {args.epochs} epochs "
                  f"({run.method}), {run.seconds.sum():.1f} s", flush=True)
    return trained


def reference_rows(sequences, splits, args):
    """Per seed, the scores of the references a model must beat, and their seconds."""
    from suite import sequence_models as sm

    rows, seconds = [], {}
    baselines = (not sequences.per_step and not args.no_baselines
                 and environment.importable("sktime"))
    dtw_cache = {}
    for split in splits:
        X, y, w = split.parts["train"]
        _, y_test, w_test = split.parts["test"]
        references = {MAJORITY: sm.majority_probabilities(
            np.concatenate([y, split.parts["val"][1]]) if args.validation else y,
            np.concatenate([w, split.parts["val"][2]]) if args.validation else w,
            sequences.n_classes, y_test.shape)}
        if sequences.per_step:
            references[POSITION] = sm.position_probabilities(y, w, sequences.n_classes, y_test,
                                                             w_test)
        for name, probabilities in references.items():
            rows.append({"model": name, "seed": split.seed,
                         **sm.scores(probabilities, y_test, w_test)})
        if baselines:
            train = np.concatenate([split.indices["train"], split.indices["val"]])
            test = split.indices["test"]
            key = (tuple(np.sort(train)), tuple(test))
            start = time.perf_counter()
            if key not in dtw_cache:
                dtw_cache[key] = sm.dtw_1nn_labels(sequences, train, test)
            seconds[DTW] = seconds.get(DTW, 0.0) + time.perf_counter() - start
            start = time.perf_counter()
            labels = {DTW: dtw_cache[key],
                      MINIROCKET: sm.minirocket_labels(sequences, train, test, split.seed)}
            seconds[MINIROCKET] = seconds.get(MINIROCKET, 0.0) + time.perf_counter() - start
            for name, predicted in labels.items():
                rows.append({"model": name, "seed": split.seed, "test_loss": np.nan,
                             "test_accuracy": float(np.mean(predicted == y_test))})
    return rows, seconds


def summarise(trained, splits, sequences, args):
    """(per-epoch rows, per-seed summary, timing) of the models and the references."""
    from suite import sequence_models as sm

    epochs, summary, timing = [], [], []
    for name, run in trained.items():
        for r, split in enumerate(splits):
            for epoch in range(args.epochs):
                epochs.append({"model": name, "seed": split.seed, "epoch": epoch + 1,
                               "loss": run.train_loss[r, epoch], "val_loss": run.val_loss[r, epoch]})
            kept = run.best_epoch[r]
            _, y_test, w_test = split.parts["test"]
            summary.append({"model": name, "seed": split.seed, "epoch": int(kept),
                            "val_loss": run.val_loss[r, kept - 1],
                            **sm.scores(run.test_probabilities[r], y_test, w_test),
                            "params": run.params, "train_seconds": run.seconds[r]})
        timing.append({"part": name, "method": run.method, "seconds": run.seconds.sum()})
    rows, seconds = reference_rows(sequences, splits, args)
    summary += [{**row, "epoch": 0, "params": 0} for row in rows]
    timing += [{"part": name, "method": "sktime", "seconds": value}
               for name, value in seconds.items()]
    return pd.DataFrame(epochs), pd.DataFrame(summary), pd.DataFrame(timing)


def claims_to_test(summary):
    """Does the BiLSTM beat the forward LSTM (and the backward one), and does each LSTM beat
    each reference? On test accuracy, and on test loss where both give probabilities."""
    models = [m for m in MODELS if m in set(summary["model"])]
    references = [m for m in (MAJORITY, POSITION, DTW, MINIROCKET) if m in set(summary["model"])]
    pairs = [(first, second) for first, second in (("bilstm_con", "lstm_forw"),
                                                   ("bilstm_con", "lstm_back"),
                                                   ("lstm_back", "lstm_forw"))
             if first in models and second in models]
    pairs += [(model, reference) for model in models for reference in references]
    return [Claim(first, second, measure) for first, second in pairs
            for measure in ("test_accuracy", "test_loss")
            if measure == "test_accuracy" or second not in (DTW, MINIROCKET)]


# ---------------------------------------------------------------- output


def summary_table(summary):
    """Mean ± standard deviation over seeds per model."""
    columns = [c for c in ("test_accuracy", "test_sequence_accuracy", "test_loss", "val_loss")
               if c in summary]
    rows = []
    for name, group in summary.groupby("model", sort=False):
        rows.append({"model": name, "runs": len(group), "params": f"{group['params'].iloc[0]:,}",
                     "epoch": tables.mean_and_spread(group["epoch"], digits=1),
                     **{c: tables.mean_and_spread(group[c]) for c in columns}})
    return (pd.DataFrame(rows).to_string(index=False)
            + "\n(mean ± standard deviation over seeds; epoch: the epoch whose weights are kept)")


def plot_results(per_epoch, summary, title):
    """Validation loss per epoch (mean with a 95% band) and each model's test accuracy by seed;
    the references that ignore the values (majority, position) as dotted lines, their value in
    the legend when it lies below the axis."""
    import matplotlib.pyplot as plt

    from suite import plotting

    fig, (curves_ax, accuracy_ax) = plt.subplots(1, 2, figsize=(14, 6))
    curves = {name: group.pivot(index="seed", columns="epoch", values="val_loss")
              for name, group in per_epoch.groupby("model", sort=False)}
    plotting.plot_runs(curves_ax, curves, ylabel="validation cross-entropy", xlabel="epoch")
    curves_ax.set_title("validation loss")
    lines = [name for name in (MAJORITY, POSITION) if name in set(summary["model"])]
    names = [name for name in summary["model"].unique() if name not in lines]
    for i, name in enumerate(names):
        values = summary.loc[summary["model"] == name, "test_accuracy"]
        jitter = np.random.default_rng(i).uniform(-0.15, 0.15, len(values))
        accuracy_ax.scatter(i + jitter, values, s=12, alpha=0.6)
        accuracy_ax.hlines(values.mean(), i - 0.3, i + 0.3, color="black")
    shown = summary.loc[summary["model"].isin(names), "test_accuracy"]
    low = max(0.0, shown.min() - 0.05 * max(shown.max() - shown.min(), 0.05))
    for name, style in zip(lines, (":", "--")):
        value = summary.loc[summary["model"] == name, "test_accuracy"].mean()
        label = f"{name}: {value:.3f}" + (" (below the axis)" if value < low else "")
        accuracy_ax.axhline(value, color="black", linestyle=style, linewidth=1, label=label)
    accuracy_ax.set_ylim(bottom=low)
    if lines:
        accuracy_ax.legend(loc="lower right")
    accuracy_ax.set_xticks(range(len(names)), names, rotation=20)
    accuracy_ax.set_ylabel("test accuracy (one dot per seed, line: mean)")
    accuracy_ax.set_title("test accuracy")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def save_models(trained, splits, sequences, args, run_name):
    """The first seed's kept model of each architecture, as <output-dir>/models/RUN_MODEL.keras
    with what labelling new sequences needs beside it (suite.saving)."""
    from suite import saving, sequence_models

    paths = []
    for name, run in trained.items():
        model = sequence_models.build_model(name, int(sequences.lengths.max()),
                                            sequences.n_features, sequences.n_classes,
                                            args.units, sequences.per_step, args.clipnorm)
        model.set_weights(run.kept_weights[0])
        # Adam's state is saved with the model: built here, so the file holds all of it and a
        # reload restores every variable it finds.
        model.optimizer.build(model.trainable_variables)
        mean, std = splits[0].scale
        path = args.output_dir / "models" / f"{run_name}_{name}.keras"
        saving.save(model, path, {
            "classes": list(sequences.classes), "features": list(sequences.feature_names),
            "mean": np.atleast_1d(mean).tolist(), "std": np.atleast_1d(std).tolist(),
            "padding": args.padding, "n_timesteps": int(sequences.lengths.max()),
            "per_step": sequences.per_step, "seed": splits[0].seed, "trained_on": sequences.source})
        paths.append(path)
    return paths


# ---------------------------------------------------------------- command line


def parse_args(argv=None):
    parser = cli.ArgumentParser(__name__, description=__doc__)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--data", type=Path, metavar="FILE",
                        help="your own sequences: a CSV of sequence,step,features...,label rows")
    source.add_argument("--dataset", choices=DATASETS, default="tutorial",
                        help="a data set the suite ships: the tutorial's problem, or Japanese "
                             "Vowels from sktime")
    source.add_argument("--write-sample", type=Path, metavar="FILE",
                        help="write the tutorial's problem (--sequences, --timesteps, "
                             "--min-length, --seed) as a CSV in the --data format and stop")
    parser.add_argument("--labels", choices=sequence_data.LABELS, default="sequence",
                        help="--data: one label per sequence, or one per step")
    parser.add_argument("--padding", choices=sequence_data.PADDINGS, default="post",
                        help="pad shorter sequences at their end (post) or start (pre)")
    parser.add_argument("--sequences", type=cli.positive_int, default=1000,
                        help="the tutorial's problem: how many sequences")
    parser.add_argument("--timesteps", type=cli.positive_int, default=10,
                        help="the tutorial's problem: steps per sequence (the longest, with "
                             "--min-length); the label flips when the sum reaches timesteps/4")
    parser.add_argument("--min-length", type=cli.positive_int, metavar="STEPS",
                        help="the tutorial's problem: draw each sequence's length from "
                             "STEPS to --timesteps (padded and masked)")
    parser.add_argument("--settings", choices=tuple(SETTINGS), default="suite",
                        help="suite: " + ", ".join(f"{k} {v}" for k, v in SETTINGS["suite"].items())
                             + "; mathworks: MathWorks' Japanese Vowels example, "
                             + ", ".join(f"{k} {v}" for k, v in SETTINGS["mathworks"].items()))
    parser.add_argument("--units", type=cli.positive_int, help="memory units in each LSTM "
                        "(default: the --settings value)")
    parser.add_argument("--epochs", type=cli.positive_int, help="training epochs (default: the "
                        "--settings value)")
    parser.add_argument("--batch-size", type=cli.positive_int, help="sequences per batch "
                        "(default: the --settings value)")
    parser.add_argument("--model", nargs="+", choices=MODELS, default=list(MODELS),
                        help="the models to train")
    parser.add_argument("--no-baselines", action="store_true",
                        help="skip 1-NN DTW and MiniRocket (one label per sequence only)")
    parser.add_argument("--name", help="name of the run's files (default: sequences_ and the "
                                       "data set or file name)")
    cli.add_seed_arguments(parser, repeats=30, fixes="the split, initial weights and batches")
    cli.add_output_argument(parser)
    cli.add_quiet_argument(parser)
    return cli.parse(parser, argv, check=lambda args: check_arguments(parser, args),
                     memory=memory, subfolders=("plots", "results", "models"))


def check_arguments(parser, args):
    cli.check_distinct(parser, args, "model")
    if args.min_length is not None and args.min_length > args.timesteps:
        parser.error(f"argument --min-length: {args.min_length} is more than --timesteps "
                     f"{args.timesteps}")
    for key, value in SETTINGS[args.settings].items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)


def memory(args):
    """Every seed's padded parts side by side, and their LSTM activations for one batch, for
    the backward pass; a --data file's numbers counted from its size."""
    if args.data is not None:
        numbers = args.data.stat().st_size / 2 if args.data.is_file() else 0
    elif args.dataset == "japanese_vowels":
        numbers = 640 * 29 * 14
    else:
        numbers = args.sequences * args.timesteps * 3
    data = 4 * 3 * args.repeats * numbers
    activations = 4 * args.repeats * args.batch_size * 4 * 2 * args.units * 64
    flag = "--data" if args.data is not None and data > activations else "--repeats"
    return data + activations, flag, "the padded sequences and the LSTMs' activations of every seed"


def run_name(args):
    if args.name:
        return args.name
    name = f"sequences_{args.data.stem if args.data is not None else args.dataset}"
    if args.settings != "suite":
        name += f"_{args.settings}"
    if args.min_length is not None and args.data is None and args.dataset == "tutorial":
        name += f"_from{args.min_length}"
    return name + ("_pre" if args.padding == "pre" else "")


def refuse(args, problem):
    """One line naming what is wrong with the data, exit status 2; the output folders that the
    flags' check made, still empty, are removed again, so a refused run leaves nothing behind."""
    for folder in ("plots", "results", "models", ""):
        try:
            (args.output_dir / folder).rmdir()  # only an empty folder goes
        except OSError:
            pass
    sys.stderr.write(f"{environment.program()}: error: {problem}\n")
    raise SystemExit(2)


def main(argv=None):
    args = parse_args(argv)
    if args.write_sample is not None:
        sample = sequence_data.tutorial_sequences(args.sequences, args.timesteps,
                                                  args.min_length, args.seed)
        outputs.atomic_write(args.write_sample,
                             lambda temporary: sequence_data.write_csv(sample, temporary))
        print(f"Wrote {sample.describe()} to {args.write_sample}; run it with: python -m "
              f"sequences.classify_sequences --data {args.write_sample} --labels step")
        return None
    try:
        sequences = load_sequences(args)
    except sequence_data.DataError as error:
        refuse(args, error)
    seeds = tables.seeds_of(args)
    name = run_name(args)
    if not args.quiet:
        print(f"Data: {sequences.source}\n{sequences.describe()}")
    splits = splits_of(sequences, seeds, args)
    with outputs.kept_on_interrupt():
        trained = train_models(sequences, splits, args)
        per_epoch, summary, timing = summarise(trained, splits, sequences, args)
        # The whole command, from its start: imports, data, training, references.
        timing.loc[len(timing)] = {"part": "total", "method": "", "seconds":
                                   time.perf_counter() - args.started}
        from suite import claims

        comparison = claims.compare(summary, claims_to_test(summary))
        title = (f"{sequences.describe()}; {args.units} units, {args.epochs} epochs of "
                 f"batch {args.batch_size}, {args.padding}-padded; {cli.describe_seeds(args)}")
        figure = plot_results(per_epoch, summary, f"{name}: {title}".replace("; ", "\n", 1))
        outputs.write_results(args.output_dir, {
            f"results/{name}.csv": per_epoch, f"results/{name}_summary.csv": summary,
            f"results/{name}_comparison.csv": comparison, f"results/{name}_timing.csv": timing,
        }, {f"plots/{name}.png": figure}, name=name, quiet=args.quiet, run=args)
        paths = save_models(trained, splits, sequences, args, name)
    print(f"Saved the first seed's models: {', '.join(str(p) for p in paths)}")
    print()
    print(summary_table(summary))
    print()
    print(claims.comparison_table(comparison))
    return summary, comparison


if __name__ == "__main__":
    main()
