"""What the two sentiment scripts share: the Keras one (text/text_classify.py) and the plain
PyTorch one (pytorch/text_classify_pytorch.py) read the same sentences, split and encode them the
same way for a seed, take the same flags and write the same tables and plot.

- the sentences: `Sentences`, `read_sentences` (the polarity corpus or a label,text CSV),
  `encode_splits` (a seed's split, vocabulary and padding) and `describe_vocabulary`;
- the flags: `add_arguments`, `check_arguments` and `memory`, the run's needs for `cli.parse`;
- the results: `summarise` (the scores after the last epoch and at the best one, beside the
  majority class's), `compare`, `summary_table` and `plot_curves`.

NumPy and pandas as it is imported, matplotlib and SciPy (suite.plotting) once a table or plot
is drawn: neither Keras nor PyTorch, so a script's flags answer before those load.
"""

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from suite import claims, cli, text_data

SPLITS = ("train", "val", "test")
STOPPED_AT = ("last_epoch", "best_val_epoch")
MAJORITY = "majority"  # the reference that predicts the training split's most frequent class
# Streams of a seed's SeedSequence: 3 draws the initial weights (suite/weights.py), 4 splits the
# sentences (text_data.SPLIT_STREAM), 5 shuffles the training sentences every epoch.
SHUFFLE_STREAM = 5


# ---------------------------------------------------------------- the sentences


@dataclass
class Sentences:
    """Labelled sentences, as words (`tokens`) or as word ids already (`ids`, keras.datasets)."""

    source: str  # where they came from, in words, printed with every run
    labels: np.ndarray  # class numbers 0 .. n_classes-1
    class_names: list
    tokens: list = None
    ids: list = None

    @property
    def n_classes(self):
        return len(self.class_names)


def read_sentences(args):
    """The polarity corpus, or the label,text CSV of --data; a corpus that cannot be had, or a
    class too small to split (text_data.MIN_CLASS_ROWS), raises text_data.CorpusError."""
    path = args.data or text_data.fetch("polarity", package_file=args.corpus_package)
    texts, labels = text_data.read_labelled(path, min_class_rows=text_data.MIN_CLASS_ROWS)
    if args.data:
        names = [str(name) for name in range(labels.max() + 1)]
        checksum = text_data.sha256_of(Path(path).read_bytes())
        source = f"{args.data} ({len(texts):,} rows, sha256 {checksum[:12]}...)"
    else:
        names = ["negative", "positive"]  # the corpus's -1 and 1, read as classes 0 and 1
        corpus = text_data.CORPORA["polarity"]
        source = (f"{corpus.member} (sha256 {corpus.sha256[:12]}...): {corpus.description}; "
                  f"{text_data.SOURCE}")
    return Sentences(source, labels, names, tokens=[text_data.tokenize(t) for t in texts])


def encode_splits(sentences, seed, max_words, max_length):
    """A seed's own {split: (word ids (n, max_length), labels)}: the sentences split by
    text_data.split_indices, the vocabulary built from the training split alone (words only
    seen in the validation or test split are unknown to the model, as new text would be), and
    every sentence padded with 0 or cut after max_length words."""
    indices = dict(zip(SPLITS, text_data.split_indices(len(sentences.labels), seed)))
    if sentences.ids is not None:  # word ids already: only padding to do
        return {split: (text_data.pad([sentences.ids[i] for i in rows], max_length),
                        sentences.labels[rows]) for split, rows in indices.items()}
    vocabulary = text_data.build_vocabulary([sentences.tokens[i] for i in indices["train"]],
                                            max_words)
    return {split: (text_data.encode([sentences.tokens[i] for i in rows], vocabulary, max_length),
                    sentences.labels[rows]) for split, rows in indices.items()}


def describe_splits(sentences, data):
    """'4,000 sentences, 3,200 to train, 400 to validate, 400 to test per seed'."""
    sizes = {split: len(labels) for split, (_, labels) in next(iter(data.values())).items()}
    return (f"{len(sentences.labels):,} sentences, {sizes['train']:,} to train, "
            f"{sizes['val']:,} to validate, {sizes['test']:,} to test per seed")


def describe_vocabulary(sentences, seed, max_words, max_length):
    """What --max-words and --max-length keep of the sentences, for one seed, in words."""
    lengths = np.array([len(tokens) for tokens in sentences.tokens])
    whole = f"{np.mean(lengths <= max_length):.1%} of the sentences have at most {max_length} words"
    train, _, test = text_data.split_indices(len(lengths), seed)
    counts = Counter(word for row in train for word in sentences.tokens[row])
    vocabulary = text_data.build_vocabulary([sentences.tokens[row] for row in train], max_words)
    covered = np.mean([word in vocabulary for row in test for word in sentences.tokens[row]])
    return (f"Seed {seed}: its {len(train):,} training sentences hold {len(counts):,} distinct "
            f"words, {sum(count >= 2 for count in counts.values()):,} of them at least twice; "
            f"the vocabulary of {len(vocabulary) + 2:,} ids covers {covered:.1%} of its test "
            f"sentences' words; {whole} (median {np.median(lengths):.0f})")


# ---------------------------------------------------------------- the flags


def add_arguments(parser, models, datasets=("polarity", "imdb")):
    """The flags of a sentiment run."""
    parser.add_argument("--dataset", choices=datasets, default="polarity",
                        help="polarity: Pang & Lee's 4,000 sentences (text_data.fetch)"
                             + ("; imdb: keras.datasets.imdb, downloaded by Keras on first use"
                                if "imdb" in datasets else ""))
    parser.add_argument("--data", metavar="FILE.csv",
                        help="your own CSV instead: label,text rows, or a header row "
                             "naming its label and text columns (two or more classes of "
                             f"{text_data.MIN_CLASS_ROWS} rows at least)")
    cli.add_corpus_package_argument(parser)
    parser.add_argument("--model", nargs="+", choices=models, default=list(models),
                        help="the models to train (the majority reference is always scored)")
    parser.add_argument("--epochs", type=cli.positive_int, default=20,
                        help="epochs of fit, each one pass over the training sentences")
    parser.add_argument("--batch-size", type=cli.positive_int, default=128,
                        help="sentences per Adam step")
    parser.add_argument("--units", type=cli.positive_int, default=16,
                        help="memory units in each LSTM (each direction of the BiLSTM)")
    parser.add_argument("--embedding-dim", type=cli.positive_int, default=16,
                        help="length of each word's embedding vector")
    parser.add_argument("--max-words", type=cli.int_at_least(3), default=5000,
                        help="vocabulary: the most frequent training words, ids 0 (padding) "
                             "and 1 (any other word) included")
    parser.add_argument("--max-length", type=cli.positive_int, default=40,
                        help="words per sentence: shorter ones are padded, longer ones cut")
    cli.add_seed_arguments(parser, repeats=30,
                           fixes="the split, initial weights, dropout and shuffling")
    cli.add_output_argument(parser)
    cli.add_quiet_argument(parser, help="print only the final tables")


def check_arguments(parser, args):
    """Refuse flags that cannot run together, in one line."""
    cli.check_distinct(parser, args, "model")
    if args.data and args.dataset == "imdb":
        parser.error("argument --data: give either --data or --dataset imdb, not both")


def memory(args):
    """What could outgrow the machine, for `cli.parse`: the embedding table, float32, with
    Adam's two moments and a gradient (at least two columns: the bag of words' Dense is as
    large as a table of two)."""
    table_bytes = 4 * 4 * args.max_words * max(args.embedding_dim, 2)
    return (table_bytes, "--max-words",
            "the embedding table of --max-words x --embedding-dim with its optimizer state")


def describe_run(args):
    return (f"{args.embedding_dim}-dimensional embedding, {args.units} units, "
            f"{args.max_words:,} words, {args.max_length} words a sentence at most, "
            f"{args.epochs} epochs of batch size {args.batch_size}, {cli.describe_seeds(args)}")


# ---------------------------------------------------------------- the results


def majority_scores(train_labels, labels, n_classes):
    """(loss, accuracy) on `labels` of the majority reference: it predicts the training split's
    class frequencies as probabilities (its loss) and so its most frequent class (its accuracy;
    a tie goes to the lower class number)."""
    counts = np.bincount(train_labels, minlength=n_classes)
    frequencies = counts / counts.sum()
    loss = -np.log(np.clip(frequencies[labels], 1e-7, 1.0)).mean()  # clipped as Keras clips
    return float(loss), float(np.mean(labels == np.argmax(counts)))


def summarise(per_epoch, data, seeds, params, seconds, n_classes):
    """Per model and seed, the scores after the last epoch and at the epoch of least validation
    loss (the first such epoch); the majority reference's scores beside them."""
    rows = []
    for (name, seed), run in per_epoch.groupby(["model", "seed"], sort=False):
        for stopped_at, position in zip(STOPPED_AT, (-1, int(np.argmin(run["val_loss"])))):
            row = run.iloc[position]
            rows.append({"model": name, "seed": seed, "stopped_at": stopped_at,
                         **{column: row[column] for column in per_epoch.columns[2:]},
                         "params": params[name], "train_seconds": seconds[name][seed]})
    for seed in seeds:
        train_labels = data[seed]["train"][1]
        scores = {split: majority_scores(train_labels, data[seed][split][1], n_classes)
                  for split in SPLITS}
        for stopped_at in STOPPED_AT:
            rows.append({"model": MAJORITY, "seed": seed, "stopped_at": stopped_at, "epoch": 0,
                         "loss": scores["train"][0], "accuracy": scores["train"][1],
                         "val_loss": scores["val"][0], "val_accuracy": scores["val"][1],
                         "test_loss": scores["test"][0], "test_accuracy": scores["test"][1],
                         "params": 0, "train_seconds": 0.0})
    return pd.DataFrame(rows)


def compare(summary, claims_to_test):
    """claims.compare after the last epoch and at the best one, in one table."""
    frames = []
    for stopped_at in STOPPED_AT:
        comparison = claims.compare(summary[summary["stopped_at"] == stopped_at], claims_to_test)
        comparison.insert(0, "stopped_at", stopped_at)
        frames.append(comparison)
    return pd.concat(frames, ignore_index=True)


def summary_table(summary):
    """Mean ± standard deviation over seeds, per model, after the last epoch and at the best."""
    from suite.tables import mean_and_spread

    rows = []
    for (stopped_at, name), group in summary.groupby(["stopped_at", "model"], sort=False):
        rows.append({"stopped_at": stopped_at, "model": name, "runs": len(group),
                     "params": f"{group['params'].iloc[0]:,}",
                     "epoch": mean_and_spread(group["epoch"], digits=1),
                     **{column: mean_and_spread(group[column])
                        for column in ("val_accuracy", "test_accuracy", "test_loss")}})
    return (pd.DataFrame(rows).to_string(index=False)
            + "\n(mean ± standard deviation over seeds; last_epoch: after the last epoch; "
            "best_val_epoch: at each seed's epoch of least validation loss, which early stopping "
            "would keep; majority: the training split's most frequent class, its loss that of "
            "predicting the class frequencies)")


def print_tables(title, args, summary, comparison, note=None):
    """What a run prints at its end: the summary table, then the claims' verdicts."""
    if not args.quiet:
        print()
        print(f"{title}; {describe_run(args)}")
    print(summary_table(summary))
    print()
    if note:
        print(note)
    print(claims.comparison_table(comparison))


def plot_curves(per_epoch, summary, title, dashed=("bow_logreg",)):
    """Learning curves: loss and accuracy on each split, mean over seeds with 95% bands; the
    models named in `dashed` (the bag of words) dashed and the majority class dotted, the
    references a model must beat."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    from suite import plotting

    fig, axes = plt.subplots(2, 3, figsize=(16, 9), sharex=True)
    names = {"train": "training (during each epoch, with dropout)", "val": "validation",
             "test": "test"}
    majority = summary[(summary["model"] == MAJORITY) & (summary["stopped_at"] == STOPPED_AT[0])]
    for row, measure in enumerate(("loss", "accuracy")):
        for column, split in enumerate(SPLITS):
            ax = axes[row, column]
            key = measure if split == "train" else f"{split}_{measure}"
            ax.axhline(majority[key].mean(), color="black", linestyle=":", linewidth=1.5,
                       label=f"{MAJORITY}: the training split's most frequent class")
            curves = {name: group.pivot(index="seed", columns="epoch", values=key)
                      for name, group in per_epoch.groupby("model", sort=False)}
            plotting.plot_runs(ax, curves, ylabel="cross-entropy" if measure == "loss"
                               else "accuracy", xlabel="epoch")
            for line in ax.get_lines():
                if line.get_label() in dashed:
                    line.set_linestyle("--")
            ax.set_title(f"{names[split]}: {measure}")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.get_legend().remove()
            if row == 0:
                ax.set_xlabel("")
    plotting.legend_below(axes[1, 1], title=plotting.band_title(
        {name: group["seed"].nunique() for name, group in per_epoch.groupby("model")}))
    fig.suptitle(title)
    fig.tight_layout()
    return fig
