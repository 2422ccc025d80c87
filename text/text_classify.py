"""Sentiment with a bidirectional LSTM: the text tutorial's classifier on movie-review sentences.

The fourth tutorial's model, as it describes it: sentences tokenised and padded, an Embedding,
SpatialDropout1D(0.4), Bidirectional(LSTM(units)) and Dense(2, softmax), trained with categorical
cross-entropy and Adam by `fit` for 20 epochs with batch size 128; and the same with a forward
LSTM. Each seed splits the 4,000 sentences of Pang & Lee's polarity sample into its own training
(80%), validation (10%) and test (10%) sets and draws its own initial weights. Two references a
model must beat: the majority class, and a bag-of-words logistic regression trained the same way.
The run reports test loss and accuracy after the last epoch and at the epoch of least validation
loss (what early stopping gets), and tests "bidirectional LSTMs can enhance performance on
sequence classification" seed by seed.

    python -m text.text_classify                           # 30 seeds (make text runs it on JAX)
    python -m text.text_classify --repeats 6 --model bilstm_con lstm_forw
    python -m text.text_classify --data reviews.csv        # your own label,text rows
    python -m text.text_classify --dataset imdb --max-length 200   # keras.datasets.imdb
"""

import concurrent.futures
import functools
import math
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from suite import text_data
from suite import cli, environment, resources
from suite.weights import seed_stream

MODELS = ("bilstm_con", "lstm_forw", "bow_logreg")
MAJORITY = "majority"  # the reference that predicts the training split's most frequent class
EVAL_BATCH = 1000  # validation and test sentences scored per batch: one compiled shape
STOPPED_AT = ("last_epoch", "best_val_epoch")
# Streams of a seed's SeedSequence: 3 draws the initial weights (suite/weights.py), 4 splits the
# sentences (text_data.SPLIT_STREAM), 5 shuffles the training sentences every epoch.
SHUFFLE_STREAM = 5
SPLITS = ("train", "val", "test")


# ---------------------------------------------------------------- data


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


def load_corpus(args):
    """The sentences the flags name; a corpus that cannot be had raises text_data.CorpusError."""
    if args.dataset == "imdb":
        return load_imdb(args.max_words)
    path = args.data or text_data.fetch("polarity", package_file=args.corpus_package)
    texts, labels = text_data.read_labelled(path)
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


def load_imdb(max_words):
    """keras.datasets.imdb, both halves pooled (50,000 reviews), ids in text_data's convention:
    0 pads, 1 stands for any word outside the `max_words` most frequent, words from 2 up."""
    keras = environment.import_keras()
    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.imdb.load_data(
            num_words=max_words, start_char=None, oov_char=text_data.UNKNOWN, index_from=1)
    except Exception as error:  # noqa: BLE001 (get_file raises a bare Exception on failure)
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise text_data.CorpusError(
            f"keras.datasets.imdb could not be loaded ({reason}): Keras downloads it on first "
            "use, so this needs the network once") from None
    ids = [list(review) for review in x_train] + [list(review) for review in x_test]
    labels = np.concatenate([y_train, y_test]).astype(np.int32)
    return Sentences("keras.datasets.imdb (50,000 movie reviews, Keras's word ranks)", labels,
                     ["negative", "positive"], ids=ids)


def encode_splits(sentences, seed, max_words, max_length):
    """A seed's own {split: (word ids (n, max_length), labels)}: the sentences split by
    text_data.split_indices, the vocabulary built from the training split alone (words only
    seen in the validation or test split are unknown to the model, as new text would be), and
    every sentence padded with 0 or cut after max_length words."""
    indices = dict(zip(SPLITS, text_data.split_indices(len(sentences.labels), seed)))
    if sentences.ids is not None:  # word ids already: only padding to do
        keras = environment.import_keras()
        return {split: (keras.utils.pad_sequences([sentences.ids[i] for i in rows], max_length,
                                                  padding="post", truncating="post"),
                        sentences.labels[rows]) for split, rows in indices.items()}
    vocabulary = text_data.build_vocabulary([sentences.tokens[i] for i in indices["train"]],
                                            max_words)
    return {split: (text_data.encode([sentences.tokens[i] for i in rows], vocabulary, max_length),
                    sentences.labels[rows]) for split, rows in indices.items()}


def describe_vocabulary(sentences, seed, max_words, max_length):
    """What --max-words and --max-length keep of the sentences, for one seed, in words."""
    from collections import Counter

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


# ---------------------------------------------------------------- models


def bag_of_words(ids, max_words):
    """(sentences, max_words - 1) uint8: column j is 1 where word id j + 1 occurs in the sentence.

    Id 0 pads a sentence and is no word, so it has no column; id 1 (any word outside the
    vocabulary) has one.
    """
    bags = np.zeros((len(ids), max_words), dtype=np.uint8)
    bags[np.arange(len(ids))[:, None], ids] = 1
    return bags[:, 1:]


def model_inputs(name, ids, max_words):
    """What model `name` reads: word ids for an LSTM, bags of words for the logistic regression."""
    return bag_of_words(ids, max_words) if name == "bow_logreg" else ids


def build_model(name, max_words=5000, max_length=40, embedding_dim=16, units=16, n_classes=2,
                dropout=0.4):
    """One of MODELS, compiled as the tutorial compiles its classifier (`dropout`: the rate of
    its SpatialDropout1D, 0.4 in the tutorial)."""
    environment.import_keras()  # as quiet as a script: TensorFlow's start-up log is kept off the terminal
    import keras
    from keras import layers

    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}: choose from {', '.join(MODELS)}")
    if name == "bow_logreg":
        # It reads which words occur in the sentence, whatever their order (`bag_of_words`).
        inputs, body = keras.Input(shape=(max_words - 1,)), []
    else:
        inputs = keras.Input(shape=(max_length,), dtype="int32")
        # The forward LSTM reads the sentence from its first word; the bidirectional one also
        # reads it from its last word and concatenates the two final states.
        recurrent = layers.LSTM(units)
        body = [
            # Id 0 pads a sentence to max_length; mask_zero makes the LSTMs step over the pads,
            # so how much padding a sentence gets cannot change its prediction.
            layers.Embedding(max_words, embedding_dim, mask_zero=True),
            # Drops whole embedding channels (the same ones for every word of a sentence).
            layers.SpatialDropout1D(dropout),
            layers.Bidirectional(recurrent) if name == "bilstm_con" else recurrent,
        ]
    model = keras.Sequential(
        [inputs, *body,
         # One probability per class: softmax, with categorical cross-entropy as the loss.
         layers.Dense(n_classes, activation="softmax")],
        name=name,
    )
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def majority_scores(train_labels, labels, n_classes):
    """(loss, accuracy) on `labels` of the majority reference: it predicts the training split's
    class frequencies as probabilities (its loss) and so its most frequent class (its accuracy;
    a tie goes to the lower class number)."""
    counts = np.bincount(train_labels, minlength=n_classes)
    frequencies = counts / counts.sum()
    loss = -np.log(np.clip(frequencies[labels], 1e-7, 1.0)).mean()  # clipped as Keras clips
    return float(loss), float(np.mean(labels == np.argmax(counts)))


# ---------------------------------------------------------------- training


def shuffled_batches(X, y, batch_size, seed):
    """The training sentences in batches of batch_size, in a new order every epoch, as fit's
    shuffle=True gives them; the order is drawn from stream SHUFFLE_STREAM of the seed rather
    than NumPy's global generator, so models that train side by side keep their own orders."""
    environment.import_keras()  # TensorFlow's start-up log kept off the terminal
    import keras

    class ShuffledBatches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.rng = seed_stream(seed, SHUFFLE_STREAM)
            self.on_epoch_end()

        def __len__(self):
            return math.ceil(len(X) / batch_size)

        def __getitem__(self, index):
            rows = self.order[index * batch_size : (index + 1) * batch_size]
            return X[rows], y[rows]

        def on_epoch_end(self):
            self.order = self.rng.permutation(len(X))

    return ShuffledBatches()


def train_seeds(name, build, data, seeds, args, stop=None, done=None):
    """Train model `name` once per seed with `fit`; per-epoch rows and per-seed seconds.

    One model is built per architecture and every seed is loaded into it (`training.reset`).
    `stop`, a threading.Event, ends the runs between two seeds; done() is called after each seed.
    """
    environment.import_keras()  # TensorFlow's start-up log kept off the terminal
    import keras

    from suite import training

    model = build()
    optimizer_initial = training.optimizer_state(model)
    rows, seconds, scoring = [], [], []
    for seed in seeds:
        if stop is not None and stop.is_set():
            raise KeyboardInterrupt
        X, X_val, X_test = (model_inputs(name, data[seed][split][0], args.max_words)
                            for split in SPLITS)
        one_hot = {split: keras.utils.to_categorical(labels, args.n_classes)
                   for split, (_, labels) in data[seed].items()}
        training.reset(model, seed, optimizer_initial)
        scoring_seconds = []

        def score_test(epoch, logs, seed=seed, X_test=X_test, one_hot=one_hot,
                       scoring_seconds=scoring_seconds):
            start = time.perf_counter()
            test = model.evaluate(X_test, one_hot["test"], batch_size=EVAL_BATCH, verbose=0,
                                  return_dict=True)
            scoring_seconds.append(time.perf_counter() - start)
            rows.append({"model": name, "seed": seed, "epoch": epoch + 1,
                         "loss": logs["loss"], "accuracy": logs["accuracy"],
                         "val_loss": logs["val_loss"], "val_accuracy": logs["val_accuracy"],
                         "test_loss": test["loss"], "test_accuracy": test["accuracy"]})

        start = time.perf_counter()
        # On TensorFlow, fit and evaluate feed the data through tf.data, whose runtime logs
        # native lines on stderr at every call: they are kept off the terminal.
        with environment.native_log_filtered():
            model.fit(shuffled_batches(X, one_hot["train"], args.batch_size, seed),
                      epochs=args.epochs, shuffle=False,  # ShuffledBatches shuffles itself
                      validation_data=(X_val, one_hot["val"]), validation_batch_size=EVAL_BATCH,
                      callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=score_test)],
                      verbose=0)
        seconds.append(time.perf_counter() - start)
        scoring.append(sum(scoring_seconds))
        if not np.isfinite([row["loss"] for row in rows[-args.epochs:]]).all():
            raise SystemExit(f"error: {name} with seed {seed} produced a non-finite loss; "
                             "nothing was written")
        if done is not None:
            done()
    return rows, np.array(seconds), np.array(scoring), model.count_params()


def trained_side_by_side(names, data, seeds, args):
    """Yield (name, what train_seeds returns) for every model, in the order of `names`, trained
    in threads side by side, one per core: XLA and TensorFlow release Python's lock while they
    run, and each model's numbers are the same either way (each seed's own generators)."""
    environment.import_keras()  # TensorFlow's start-up log kept off the terminal
    import keras

    stop, lock = threading.Event(), threading.Lock()
    progbar = None if args.quiet else keras.utils.Progbar(len(names) * len(seeds), unit_name="run")

    def done():
        if progbar is not None:
            with lock:
                progbar.add(1)

    def train(name):
        build = functools.partial(build_model, name, args.max_words, args.max_length,
                                  args.embedding_dim, args.units, args.n_classes)
        return train_seeds(name, build, data, seeds, args, stop, done)

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=min(len(names), os.cpu_count() or 1))
    try:
        futures = {name: pool.submit(train, name) for name in names}
        for name in names:
            yield name, futures[name].result()
    finally:
        stop.set()  # Ctrl-C: the runs end after their current seed
        pool.shutdown(wait=True, cancel_futures=True)


def summarise(per_epoch, data, seeds, params, seconds, n_classes):
    """Per model and seed, the scores after the last epoch and at the epoch of least validation
    loss (the first such epoch); the majority reference's scores beside them."""
    import pandas as pd

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


# The claims tested, each after the last epoch and at the epoch of least validation loss.
def claims_to_test():
    from suite.claims import Claim

    pairs = [
        # "Bidirectional LSTMs are an extension to typical LSTMs that can enhance performance
        # of the model on sequence classification problems."
        ("bilstm_con", "lstm_forw"),
        # Each LSTM against the references a model must beat.
        ("bilstm_con", "bow_logreg"), ("lstm_forw", "bow_logreg"),
        ("bilstm_con", MAJORITY), ("lstm_forw", MAJORITY), ("bow_logreg", MAJORITY),
    ]
    return [Claim(first, second, measure) for first, second in pairs
            for measure in ("test_accuracy", "test_loss")]


def compare_models(summary):
    import pandas as pd

    from suite import claims

    frames = []
    for stopped_at in STOPPED_AT:
        comparison = claims.compare(summary[summary["stopped_at"] == stopped_at],
                                    claims_to_test())
        comparison.insert(0, "stopped_at", stopped_at)
        frames.append(comparison)
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------- output


def summary_table(summary):
    """Mean ± standard deviation over seeds, per model, after the last epoch and at the best."""
    import pandas as pd

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


def describe_run(args):
    return (f"{args.embedding_dim}-dimensional embedding, {args.units} units, "
            f"{args.max_words:,} words, {args.max_length} words a sentence at most, "
            f"{args.epochs} epochs of batch size {args.batch_size}, {cli.describe_seeds(args)}")


# ---------------------------------------------------------------- command line


def add_arguments(parser, models=MODELS, datasets=("polarity", "imdb")):
    """The flags of a sentiment run, shared with pytorch/text_classify_pytorch.py."""
    parser.add_argument("--dataset", choices=datasets, default="polarity",
                        help="polarity: Pang & Lee's 4,000 sentences (text_data.fetch)"
                             + ("; imdb: keras.datasets.imdb, downloaded by Keras on first use"
                                if "imdb" in datasets else ""))
    parser.add_argument("--data", metavar="FILE.csv",
                        help="your own label,text CSV instead (two or more labels)")
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
    """Refuse flags that cannot run, in one line; load the sentences into args.sentences."""
    cli.check_distinct(parser, args, "model")
    if args.data and args.dataset == "imdb":
        parser.error("argument --data: give either --data or --dataset imdb, not both")
    table_bytes = 4 * 4 * args.max_words * max(args.embedding_dim, 2)  # weights, Adam, grad
    available = resources.available_memory()
    if available is not None and table_bytes > available:
        parser.error(f"argument --max-words: the embedding table would hold about "
                     f"{table_bytes / 2**30:,.1f} GiB with its optimizer state, more than "
                     f"the {available / 2**30:,.1f} GiB of memory available")
    try:
        args.sentences = load_corpus(args)
    except text_data.CorpusError as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    if len(args.sentences.labels) < 10:
        parser.error(f"argument --data: {len(args.sentences.labels)} rows are too few to "
                     "split into training, validation and test sentences (10 at least)")
    args.n_classes = args.sentences.n_classes


def parse_args(argv=None):
    parser = cli.ArgumentParser(description=__doc__)
    add_arguments(parser)
    return cli.parse(parser, argv, check=functools.partial(check_arguments, parser))


def main(argv=None):
    args = parse_args(argv)
    import pandas as pd

    from suite import claims, outputs, training

    keras = training.keras  # loaded now that the flags and the data are good
    seeds = list(range(args.seed, args.seed + args.repeats))
    sentences = args.sentences
    if not args.quiet:
        print(f"Data: {sentences.source}")
        if sentences.tokens is not None:
            print(describe_vocabulary(sentences, seeds[0], args.max_words, args.max_length))
    start = time.perf_counter()
    data = {seed: encode_splits(sentences, seed, args.max_words, args.max_length)
            for seed in seeds}
    encode_seconds = time.perf_counter() - start
    sizes = {split: len(data[seeds[0]][split][1]) for split in SPLITS}
    title = (f"Sentiment: {len(sentences.labels):,} sentences, {sizes['train']:,} to train, "
             f"{sizes['val']:,} to validate, {sizes['test']:,} to test per seed")

    with outputs.kept_on_interrupt():
        frames, params, seconds, timings = [], {}, {}, []
        # Every model finishes before the first line about one is printed: the progress bar
        # counts the runs of all of them.
        for name, (rows, run_seconds, scoring, params[name]) in list(trained_side_by_side(
                args.model, data, seeds, args)):
            frames.append(pd.DataFrame(rows))
            seconds[name] = dict(zip(seeds, run_seconds))
            timings.append({"model": name, "first_seed_seconds": run_seconds[0],
                            "later_seed_seconds": run_seconds[1:].mean() if len(seeds) > 1
                            else float("nan"),
                            "test_scoring_seconds": scoring.sum(),
                            "total_seconds": run_seconds.sum()})
            if not args.quiet:
                print(f"Trained {name}: {len(seeds)} run(s) x {args.epochs} epochs, backend "
                      f"{keras.backend.backend()}, {run_seconds.sum():.1f} s (first seed "
                      f"{run_seconds[0]:.1f} s with compiling; test scoring {scoring.sum():.1f} s)",
                      flush=True)
        per_epoch = pd.concat(frames, ignore_index=True)
        summary = summarise(per_epoch, data, seeds, params, seconds, args.n_classes)
        comparison = compare_models(summary)
        timing = pd.DataFrame(timings)
        timing.loc[len(timing)] = {"model": "encoding", "total_seconds": encode_seconds}
        figure = plot_curves(per_epoch, summary, f"{title}\n{describe_run(args)}")
        outputs.write_results(args.output_dir, {
            "results/text_classify.csv": per_epoch,
            "results/text_classify_summary.csv": summary,
            "results/text_classify_comparison.csv": comparison,
            "results/text_classify_timing.csv": timing,
        }, {"plots/text_classify.png": figure}, name="text_classify", quiet=args.quiet, run=args)
    if not args.quiet:
        print()
        print(f"{title}; {describe_run(args)}")
    print(summary_table(summary))
    print()
    print(claims.comparison_table(comparison))
    return summary, comparison


if __name__ == "__main__":
    main()
