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

if not __package__:  # run as a file, not as a module: the imports below would fail
    import sys

    sys.stderr.write("error: run it from the repository root as a module: "
                     "python -m text.text_classify\n")
    raise SystemExit(2)

import contextlib
import functools
import logging
import math
import threading
import time

import numpy as np
import pandas as pd

from suite import cli, environment, outputs, runner, sentiment, tables, text_data
from suite.claims import Claim
from suite.sentiment import MAJORITY, SPLITS
from suite.weights import seed_stream

MODELS = ("bilstm_con", "lstm_forw", "bow_logreg")
EVAL_BATCH = 1000  # validation and test sentences scored per batch: one compiled shape
RETRACING_ALARM = "triggered tf.function retracing"  # in TensorFlow's warning, kept off stderr


# ---------------------------------------------------------------- data


def load_corpus(args):
    """The sentences the flags name; a corpus that cannot be had raises text_data.CorpusError."""
    if args.dataset == "imdb":
        return load_imdb(args.max_words)
    return sentiment.read_sentences(args)


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
    return sentiment.Sentences("keras.datasets.imdb (50,000 movie reviews, Keras's word ranks)",
                               labels, ["negative", "positive"], ids=ids)


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
    keras = environment.import_keras()  # as quiet as a script: TensorFlow's start-up log stays off
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


# ---------------------------------------------------------------- training


def shuffled_batches(X, y, batch_size, seed):
    """The training sentences in batches of batch_size, in a new order every epoch, as fit's
    shuffle=True gives them; the order is drawn from stream SHUFFLE_STREAM of the seed rather
    than NumPy's global generator, so models that train side by side keep their own orders."""
    keras = environment.import_keras()

    class ShuffledBatches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.rng = seed_stream(seed, sentiment.SHUFFLE_STREAM)
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
    What TensorFlow logs meanwhile is its caller's to keep off the terminal (`train_models`).
    """
    keras = environment.import_keras()
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
        model.fit(shuffled_batches(X, one_hot["train"], args.batch_size, seed),
                  epochs=args.epochs, shuffle=False,  # ShuffledBatches shuffles itself
                  validation_data=(X_val, one_hot["val"]), validation_batch_size=EVAL_BATCH,
                  callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=score_test)],
                  verbose=0)
        seconds.append(time.perf_counter() - start)
        scoring.append(sum(scoring_seconds))
        runner.check_finite([row["loss"] for row in rows[-args.epochs:]], name, seed)
        if done is not None:
            done()
    return rows, np.array(seconds), np.array(scoring), model.count_params()


@contextlib.contextmanager
def retracing_alarm_filtered():
    """Keep TensorFlow's warning "5 out of the last 5 calls to <function ...> triggered
    tf.function retracing" off stderr inside the block; any other warning passes.

    Here it is a false alarm: no function traces twice (tests/test_text_classify.py counts the
    traces), each model traces its training step and its test step once. But TensorFlow counts
    together the traces of every tf.function made from the same Python function, and Keras makes
    every model's steps from one, so three models starting side by side on a small file, with
    few steps between their first traces, reach its threshold of 5 traces among 10 calls.
    """
    logger = logging.getLogger("tensorflow")  # where tf_logging writes

    def keep(record):
        return RETRACING_ALARM not in record.getMessage()

    logger.addFilter(keep)
    try:
        yield
    finally:
        logger.removeFilter(keep)


def trained_side_by_side(names, data, seeds, args):
    """Yield (name, what train_seeds returns) for every model, in the order of `names`, trained
    side by side, one per core (`runner.in_order`); Ctrl-C ends the runs after their current
    seed."""
    keras = environment.import_keras()
    # suite/training.py makes the backend's settings (TensorFlow's deterministic kernels, JAX's
    # compilation cache) as it is imported: here, once, before the runs start.
    from suite import training  # noqa: F401

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

    return runner.in_order(names, train, stop=stop)


def train_models(data, seeds, args):
    """Every model of the run on every seed: (per-epoch rows, {model: parameters},
    {model: {seed: seconds}}, the timing table)."""
    keras = environment.import_keras()
    frames, params, seconds, timings = [], {}, {}, []
    # Every model finishes before the first line about one is printed: the progress bar
    # counts the runs of all of them. On TensorFlow, fit and evaluate feed the data through
    # tf.data, whose runtime logs native lines on stderr at every call: they are kept off the
    # terminal here, once for all the training threads, since stderr (file descriptor 2) is the
    # process's: a thread that pointed it elsewhere and back for its own fit alone would end
    # another's redirection, or leave stderr pointing at a closed file once they all end.
    with environment.native_log_filtered(), retracing_alarm_filtered():
        trained = list(trained_side_by_side(args.model, data, seeds, args))
    for name, (rows, run_seconds, scoring, params[name]) in trained:
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
    return pd.concat(frames, ignore_index=True), params, seconds, pd.DataFrame(timings)


# ---------------------------------------------------------------- output


# The claims tested, each after the last epoch and at the epoch of least validation loss.
def claims_to_test():
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


# ---------------------------------------------------------------- command line


def parse_args(argv=None):
    parser = cli.ArgumentParser(__name__, description=__doc__)
    sentiment.add_arguments(parser, MODELS)
    return cli.parse(parser, argv, check=functools.partial(sentiment.check_arguments, parser),
                     memory=sentiment.memory)


def main(argv=None):
    args = parse_args(argv)
    sentences = text_data.loaded(functools.partial(load_corpus, args), args.output_dir)
    args.n_classes = sentences.n_classes  # the models are built for the data's classes
    seeds = tables.seeds_of(args)
    if not args.quiet:
        print(f"Data: {sentences.source}")
        if sentences.tokens is not None:
            print(sentiment.describe_vocabulary(sentences, seeds[0], args.max_words,
                                                args.max_length))
    start = time.perf_counter()
    data = {seed: sentiment.encode_splits(sentences, seed, args.max_words, args.max_length)
            for seed in seeds}
    encode_seconds = time.perf_counter() - start
    title = f"Sentiment: {sentiment.describe_splits(sentences, data)}"

    with outputs.kept_on_interrupt():
        per_epoch, params, seconds, timing = train_models(data, seeds, args)
        timing.loc[len(timing)] = {"model": "encoding", "total_seconds": encode_seconds}
        summary = sentiment.summarise(per_epoch, data, seeds, params, seconds, args.n_classes)
        comparison = sentiment.compare(summary, claims_to_test())
        figure = sentiment.plot_curves(per_epoch, summary,
                                       f"{title}\n{sentiment.describe_run(args)}")
        outputs.write_results(args.output_dir, {
            "results/text_classify.csv": per_epoch,
            "results/text_classify_summary.csv": summary,
            "results/text_classify_comparison.csv": comparison,
            "results/text_classify_timing.csv": timing,
        }, {"plots/text_classify.png": figure}, name="text_classify", quiet=args.quiet, run=args)
    sentiment.print_tables(title, args, summary, comparison)
    return summary, comparison


if __name__ == "__main__":
    main()
