"""Part-of-speech tagging: where the words after a word matter.

Each word of a line gets one of 48 Penn Treebank tags. An Embedding turns the word ids into
vectors, an LSTM returns an output at every word, and a Dense softmax layer gives each word its tag.
Three readers are compared, trained on the same lines from the same initial weights for every seed:
the forward LSTM (`lstm_forw`, it knows the words before each word), the backward LSTM with its
outputs put back in time order (`lstm_back_aligned`, the words after it) and the BiLSTM
(`bilstm_con`, both). The reference a tagger must beat gives each word its most frequent tag in
the training lines, and an unknown word the most frequent tag overall (`most_frequent_tag`).
--model adds the merge modes, two BiLSTMs stacked (`bilstm_con_stacked`), one BiLSTM with as many
weights as those two (`bilstm_con_wide`) and a BiLSTM with a softmax head on each direction
(`bilstm_none`, merge_mode=None), scored per head and by the mean of the heads' probabilities.

Data: 20,000 lines of the Open American National Corpus with their tags, cut per seed into 80%
training, 10% validation and 10% test lines; the 1,001 Wall Street Journal lines are a second test
set. Both are fetched on first use (suite/text_data.py). Lines longer than --max-length are cut into
pieces of at most that many words, so no word is lost; each piece is padded to one of two widths
(--max-length / 2 or --max-length) and the padding is masked.

    KERAS_BACKEND=jax python -m text.pos_tagging            # about 6 minutes on 2 CPU cores
    python -m text.pos_tagging --model lstm_forw bilstm_con bilstm_sum --repeats 6
    KERAS_BACKEND=jax python -m text.pos_tagging --name pos_tagging_depth \
        --model lstm_forw bilstm_con bilstm_con_stacked bilstm_con_wide bilstm_none
"""

if not __package__:  # run as a file, not as a module: the imports below would fail
    import sys

    sys.stderr.write("error: run it from the repository root as a module: "
                     "python -m text.pos_tagging\n")
    raise SystemExit(2)

import functools
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from suite import claims, cli, environment, outputs, plotting, runner, tables, text_data
from suite.claims import Claim
from suite.heads import LAYERS, TWO_HEADS, layer_of, row_names, scored
from suite.layers import reverse_time
from suite.model_size import matching_units
from suite.weights import seed_stream

SCRIPT = "pos_tagging"
MERGE_MODES = {"bilstm_con": "concat", "bilstm_sum": "sum", "bilstm_mul": "mul",
               "bilstm_ave": "ave"}
MODELS = ("lstm_forw", "lstm_back_aligned", *MERGE_MODES, "bilstm_con_stacked",
          "bilstm_con_wide", TWO_HEADS)
DEFAULT_MODELS = ("lstm_forw", "lstm_back_aligned", "bilstm_con")
REFERENCE = "most_frequent_tag"
POSITIONS = 10  # accuracy by position counts words 1 to 9 from each end; 10 holds the rest
TAGS_PLOTTED = 16  # the most frequent tags in the by-tag panel


# ---------------------------------------------------------------- the models


def build_model(name, vocabulary_size, n_tags, embedding_dim=32, units=32, learning_rate=0.005):
    """Embedding(mask_zero) -> LSTM reading forward, backward or both -> Dense(n_tags, softmax)."""
    keras = environment.import_keras()  # as quiet as a script: TensorFlow's start-up log stays off
    from keras import layers

    if name == TWO_HEADS:
        return build_two_heads(vocabulary_size, n_tags, embedding_dim, units, learning_rate)
    if name == "bilstm_con_wide":
        # As many weights as two stacked BiLSTMs, in one: the control for depth.
        units = wide_units(vocabulary_size, n_tags, embedding_dim, units)
    if name == "lstm_forw":
        reader = [layers.LSTM(units, return_sequences=True)]
    elif name == "lstm_back_aligned":
        reader = [
            # go_backwards reads the last word first, so its output i belongs to word T-1-i.
            layers.LSTM(units, return_sequences=True, go_backwards=True),
            # Flipping the outputs lines each one up with the word it tags. The LSTM's mask is
            # in time order already, so it stays as it is.
            layers.Lambda(reverse_time, mask=lambda outputs, mask: mask, name="reverse_time"),
        ]
    elif name in MERGE_MODES or name == "bilstm_con_wide":
        # Bidirectional puts its backward copy's outputs back in time order itself.
        reader = [layers.Bidirectional(layers.LSTM(units, return_sequences=True),
                                       merge_mode=MERGE_MODES.get(name, "concat"))]
    elif name == "bilstm_con_stacked":
        reader = [
            # The first BiLSTM gives an output at every word, so the second has a line to read.
            layers.Bidirectional(layers.LSTM(units, return_sequences=True)),
            # The second reads both directions' outputs of the first, in both directions again.
            layers.Bidirectional(layers.LSTM(units, return_sequences=True)),
        ]
    else:
        raise ValueError(f"unknown model {name!r}: choose from {', '.join(MODELS)}")
    model = keras.Sequential(
        [
            keras.Input(shape=(None,), dtype="int32"),  # any line length: one model per reader
            # Id 0 pads a line to its batch's width; mask_zero makes the LSTMs step over it, so
            # the backward LSTM starts at the line's last word, not at the padding after it.
            layers.Embedding(vocabulary_size, embedding_dim, mask_zero=True),
            *reader,
            # The same Dense layer tags every word from the LSTM's output there.
            layers.Dense(n_tags, activation="softmax"),
        ],
        name=name,
    )
    # Pads get sample weight 0, and the loss is the mean over the weighted (real) words.
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(reduction="mean_with_sample_weight"),
        weighted_metrics=["accuracy"],
    )
    return model


def build_two_heads(vocabulary_size, n_tags, embedding_dim=32, units=32, learning_rate=0.005):
    """Embedding(mask_zero) -> Bidirectional(LSTM, merge_mode=None) -> a Dense(n_tags, softmax)
    head on each direction: two outputs, one loss each, which Keras adds."""
    keras = environment.import_keras()
    from keras import layers

    words = keras.Input(shape=(None,), dtype="int32")
    vectors = layers.Embedding(vocabulary_size, embedding_dim, mask_zero=True)(words)
    # merge_mode=None gives the two directions' outputs as two tensors, both in word order.
    forward, backward = layers.Bidirectional(layers.LSTM(units, return_sequences=True),
                                             merge_mode=None)(vectors)
    # The forward head tags a word from the words up to it, the backward head from the words
    # from it to the end: each direction's weights learn from its own head's loss alone.
    heads = [layers.Dense(n_tags, activation="softmax", name=LAYERS[head])(outputs)
             for head, outputs in (("forw", forward), ("back", backward))]
    model = keras.Model(words, heads, name=TWO_HEADS)
    loss = keras.losses.SparseCategoricalCrossentropy(reduction="mean_with_sample_weight")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=[loss, loss],
                  weighted_metrics=[["accuracy"], ["accuracy"]])
    return model


def wide_units(vocabulary_size, n_tags, embedding_dim, units):
    """The units of one BiLSTM whose tagger's weights come nearest the stacked tagger's.

    The embedding holds as many weights whatever the units, so the taggers are counted with a
    vocabulary of two words: the same difference, without building 20,000-word tables.
    """
    def weights_with(name, units):
        return build_model(name, 2, n_tags, embedding_dim, units).count_params()

    return matching_units(lambda wide: weights_with("bilstm_con", wide),
                          weights_with("bilstm_con_stacked", units), units)


# ---------------------------------------------------------------- the reference


def most_frequent_tags(sentences):
    """({word: its most frequent tag}, the most frequent tag overall) over (word, tag) lines.

    Ties go to the tag more frequent overall, then to the first in alphabetical order.
    """
    overall = Counter(tag for sentence in sentences for _, tag in sentence)
    per_word = defaultdict(Counter)
    for sentence in sentences:
        for word, tag in sentence:
            per_word[word][tag] += 1
    table = {word: min(counts, key=lambda tag: (-counts[tag], -overall[tag], tag))
             for word, counts in per_word.items()}
    return table, min(overall, key=lambda tag: (-overall[tag], tag))


def reference_tags(words, table, unknown_tag):
    return [table.get(word, unknown_tag) for word in words]


# ---------------------------------------------------------------- data


MIN_LINES = 10  # a split of fewer lines leaves a part empty


@dataclass
class Corpora:
    """The tagged lines of a run, each a list of (word, tag) pairs, and their files."""

    lines: list
    path: Path
    wsj_lines: list = None  # the second test set; None with --no-wsj
    wsj_path: Path = None


def read_corpora(args):
    """The lines the flags name, fetched or read; a corpus that cannot be had, or too small to
    split, raises text_data.CorpusError."""
    path = args.corpus or text_data.fetch("oanc", args.corpus_package)
    lines = text_data.read_tagged(path)
    if len(lines) < MIN_LINES:
        raise text_data.CorpusError(f"{path} has {len(lines)} tagged lines; the split into "
                                    f"training, validation and test lines needs at least "
                                    f"{MIN_LINES}")
    if args.no_wsj:
        return Corpora(lines, path)
    wsj_path = args.wsj or text_data.fetch("wsj", args.corpus_package)
    return Corpora(lines, path, text_data.read_tagged(wsj_path), wsj_path)


def bucket_widths(max_length):
    """The padded widths of the batches: half of --max-length and --max-length."""
    return sorted({max(1, max_length // 2), max_length})


@dataclass
class Tokens:
    """Every word of a set of lines, in line order, with what the scores need to know of it."""

    words: list
    tags: np.ndarray  # tag ids; -1 for a tag the tag set lacks (never predicted, always wrong)
    unseen: np.ndarray  # the word is not in the training lines
    from_start: np.ndarray  # 1 for a line's first word, 2 for the second, ...
    from_end: np.ndarray  # 1 for a line's last word, ...
    # The lines cut into pieces, padded: {width: (word ids, tag ids, token index)}, each
    # (pieces, width); token index is -1 at pads.
    buckets: dict = field(default_factory=dict)


def encode_lines(sentences, vocabulary, tag_ids, training_words, max_length):
    """`Tokens` of `sentences`: pieces of at most max_length words, each in its bucket width."""
    words, tags, starts, ends, pieces = [], [], [], [], []
    for sentence in sentences:
        first = len(words)
        for position, (word, tag) in enumerate(sentence):
            words.append(word)
            tags.append(tag_ids.get(tag, -1))
            starts.append(position + 1)
            ends.append(len(sentence) - position)
        for begin in range(0, len(sentence), max_length):
            pieces.append(range(first + begin, first + min(begin + max_length, len(sentence))))
    tags = np.array(tags, dtype=np.int64)
    ids = np.array([vocabulary.get(word, text_data.UNKNOWN) for word in words], dtype=np.int32)
    widths = bucket_widths(max_length)
    width_of = np.array(widths)[np.searchsorted(widths, [len(piece) for piece in pieces])]
    buckets = {}
    for width in widths:
        chosen = [pieces[i] for i in np.flatnonzero(width_of == width)]
        index = np.full((len(chosen), width), -1, dtype=np.int64)
        for row, piece in enumerate(chosen):
            index[row, : len(piece)] = piece
        real = index >= 0
        buckets[width] = (np.where(real, ids[index], text_data.PAD).astype(np.int32),
                          np.where(real, np.maximum(tags[index], 0), 0).astype(np.int32), index)
    return Tokens(words, tags, np.array([w not in training_words for w in words]),
                  np.array(starts), np.array(ends), buckets)


@dataclass
class SeedData:
    """One seed's split of the lines, its vocabulary, and the lines encoded with it."""

    seed: int
    train: Tokens
    validation: Tokens
    test: Tokens
    wsj: Tokens  # None without a second test set
    reference: dict  # {set name: reference tag ids of its words}


def prepare_seed(seed, sentences, wsj_sentences, tag_ids, args):
    """Split the lines with `seed`, build the vocabulary of its training lines, encode."""
    train, validation, test = text_data.split_indices(len(sentences), seed)
    if args.train_lines:
        train = train[: args.train_lines]
    train_lines = [sentences[i] for i in train]
    vocabulary = text_data.build_vocabulary([[w for w, _ in s] for s in train_lines],
                                            max_words=args.max_words, min_count=args.min_count)
    training_words = {word for sentence in train_lines for word, _ in sentence}
    table, unknown_tag = most_frequent_tags(train_lines)

    def encoded(lines):
        return encode_lines(lines, vocabulary, tag_ids, training_words, args.max_length)

    data = SeedData(seed, encoded(train_lines), encoded([sentences[i] for i in validation]),
                    encoded([sentences[i] for i in test]),
                    encoded(wsj_sentences) if wsj_sentences else None, {})
    for name in ("validation", "test", "wsj"):
        tokens = getattr(data, name)
        if tokens is not None:
            data.reference[name] = np.array(
                [tag_ids.get(tag, -1) for tag in reference_tags(tokens.words, table, unknown_tag)])
    return data


def prepare_seeds(corpora, args, timing):
    """The tag set of the lines, and every seed's `SeedData`."""
    tag_names = sorted({tag for line in corpora.lines for _, tag in line})
    tag_ids = {tag: i for i, tag in enumerate(tag_names)}
    start = time.perf_counter()
    seed_data = [prepare_seed(seed, corpora.lines, corpora.wsj_lines, tag_ids, args)
                 for seed in tables.seeds_of(args)]
    timing["splitting, vocabularies, encoding, reference"] += time.perf_counter() - start
    timing["start: Python, flags, corpora, Keras"] = start - args.started
    return tag_names, seed_data


def training_batches(tokens, batch_size, rng):
    """One epoch of (word ids, tag ids, weights) batches in a seeded random order.

    Every batch of a width has batch_size rows (the last one is filled with empty rows of weight
    0), so each width is one compiled program. Keras's TensorFlow data adapter reads the shapes
    of the first two batches to allow for the rest, so they are of different widths.
    """
    batches = []
    for X, Y, _ in tokens.buckets.values():
        order = rng.permutation(len(X))
        batches += padded_batches(X[order], Y[order], batch_size)
    batches = [batches[i] for i in rng.permutation(len(batches))]
    for j in range(1, len(batches)):
        if batches[j][0].shape[1] != batches[0][0].shape[1]:
            batches[1], batches[j] = batches[j], batches[1]
            break
    return batches


def padded_batches(X, Y, batch_size):
    """(X, Y, weights) batches of batch_size rows, the last one filled with pads."""
    batches = []
    for begin in range(0, len(X), batch_size):
        x = np.zeros((batch_size, X.shape[1]), dtype=np.int32)
        y = np.zeros_like(x)
        rows = len(X[begin : begin + batch_size])
        x[:rows], y[:rows] = X[begin : begin + batch_size], Y[begin : begin + batch_size]
        batches.append((x, y, (x != text_data.PAD).astype(np.float32)))
    return batches


# ---------------------------------------------------------------- training and scoring


def word_probabilities(model, tokens, batch_size):
    """(words, n_tags) softmax outputs for every word of `tokens`, in line order; for a model
    with a head on each direction, (words, n_tags, 2), the forward head's first."""
    n_tags = model.outputs[0].shape[-1]
    heads = () if len(model.outputs) == 1 else (len(model.outputs),)
    probabilities = np.zeros((len(tokens.words), n_tags, *heads), dtype=np.float32)
    for X, Y, index in tokens.buckets.values():
        for begin in range(0, len(X), batch_size):
            (x, _, _), = padded_batches(X[begin : begin + batch_size],
                                        Y[begin : begin + batch_size], batch_size)
            rows = index[begin : begin + batch_size]
            out = model.predict_on_batch(x)
            out = np.stack(out, axis=-1) if heads else np.asarray(out)
            probabilities[rows[rows >= 0]] = out[: len(rows)][rows >= 0]
    return probabilities


def log_loss(probabilities, tags):
    """Mean cross-entropy of the true tags over the words, clipped at 1e-7 as Keras's loss is."""
    chosen = probabilities[np.arange(len(tags)), tags]
    return float(-np.log(np.clip(chosen, 1e-7, 1 - 1e-7)).mean())


def accuracy(predicted, tags, where=None):
    right = predicted == tags
    if where is not None:
        right = right[where]
    return float(right.mean()) if len(right) else float("nan")


def as_dataset(batches, heads=1):
    """The batches as a keras.utils.PyDataset, which `fit` takes batch by batch; for a model
    with several heads, each head gets the same tags and weights."""
    keras = environment.import_keras()

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return len(batches)

        def __getitem__(self, i):
            x, y, weights = batches[i]
            return (x, y, weights) if heads == 1 else (x, (y,) * heads, (weights,) * heads)

    return Batches()


def history_of(history, model, row_name):
    """(loss, accuracy) of a row's epoch from fit's history: the model's, or one head's (NaN for
    the mean of the heads, which has no training loss of its own)."""
    logs = {name: values[0] for name, values in history.history.items()}
    if len(model.outputs) == 1:
        return logs["loss"], logs["accuracy"]
    head = layer_of(row_name)
    if head is None:
        return np.nan, np.nan
    return logs[f"{head}_loss"], logs[f"{head}_accuracy"]


def train_seed(model, data, args, optimizer_initial, timing):
    """Train `model` from `data.seed`'s initial weights. Returns, for each row the model gives
    (`heads.scored`: one, or three for the two-headed model), its per-epoch rows and the test
    words' predicted tags."""
    from suite import training

    training.reset(model, data.seed, optimizer_initial)
    rng = seed_stream(data.seed, text_data.SPLIT_STREAM + 1)
    rows = {row_name: [] for row_name in row_names(model.name)}
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        # shuffle=False: the batches come shuffled from this seed's own generator; fit's own
        # shuffle would reorder them with Python's global one, differently on every run.
        history = model.fit(as_dataset(training_batches(data.train, args.batch_size, rng),
                                       len(model.outputs)),
                            epochs=1, verbose=0, shuffle=False)
        trained = time.perf_counter()
        # The loss fit reports (for two heads, the sum of theirs) stops the run if not finite.
        runner.check_finite(history.history["loss"], model.name, data.seed)
        probabilities = word_probabilities(model, data.validation, args.batch_size)
        done = time.perf_counter()
        timing["training"] += trained - start
        timing["validation scoring"] += done - trained
        for row_name, scores in scored(model.name, probabilities).items():
            loss, train_accuracy = history_of(history, model, row_name)
            rows[row_name].append({
                "epoch": epoch, "loss": loss, "accuracy": train_accuracy,
                "val_loss": log_loss(scores, data.validation.tags),
                "val_accuracy": accuracy(scores.argmax(-1), data.validation.tags),
                "seconds": round(done - start, 2)})
    start = time.perf_counter()
    predicted = {row_name: {} for row_name in rows}
    for name in ("test", "wsj"):
        if getattr(data, name) is not None:
            probabilities = word_probabilities(model, getattr(data, name), args.batch_size)
            for row_name, scores in scored(model.name, probabilities).items():
                predicted[row_name][name] = scores.argmax(-1)
    timing["test and WSJ scoring"] += time.perf_counter() - start
    return rows, predicted


def compile_programs(model, data, args):
    """One training step and one prediction per batch width, so every program is compiled
    before the timed runs (each seed then starts from its own weights and optimizer state)."""
    first = {}
    for X, Y, _ in data.train.buckets.values():
        if len(X):
            first[X.shape[1]] = padded_batches(X[:1], Y[:1], args.batch_size)[0]
    batches = list(first.values())
    model.fit(as_dataset(batches, len(model.outputs)), epochs=1, verbose=0, shuffle=False)
    for x, _, _ in batches:
        model.predict_on_batch(x)


MEASURES = {"test": ("test_accuracy", "unseen_accuracy"),
            "wsj": ("wsj_accuracy", "wsj_unseen_accuracy")}


def summary_row(model_name, data, predicted, params, seconds):
    """Accuracy on every word and on the unseen words of each test set, for one seed."""
    row = {"model": model_name, "seed": data.seed, "params": params}
    for name, (overall, unseen) in MEASURES.items():
        tokens = getattr(data, name)
        if tokens is not None:
            row[overall] = accuracy(predicted[name], tokens.tags)
            row[unseen] = accuracy(predicted[name], tokens.tags, tokens.unseen)
    row["train_seconds"] = seconds
    return row


def breakdown_rows(model_name, data, predicted, tag_names):
    """Tidy test accuracy by tag and by position from each end of the line."""
    tokens = data.test
    right = predicted == tokens.tags
    by_tag = [{"model": model_name, "seed": data.seed, "tag": tag_names[t],
               "count": int(n), "accuracy": float(right[tokens.tags == t].mean())}
              for t, n in zip(*np.unique(tokens.tags[tokens.tags >= 0], return_counts=True))]
    by_position = []
    for counted_from, positions in (("start", tokens.from_start), ("end", tokens.from_end)):
        capped = np.minimum(positions, POSITIONS)
        for position in range(1, POSITIONS + 1):
            at = capped == position
            by_position.append({"model": model_name, "seed": data.seed,
                                "counted_from": counted_from, "position": position,
                                "count": int(at.sum()),
                                "accuracy": float(right[at].mean()) if at.any() else np.nan})
    return by_tag, by_position


@dataclass
class Rows:
    """A run's tidy rows as they come, one list per table."""

    epochs: list = field(default_factory=list)
    summary: list = field(default_factory=list)
    by_tag: list = field(default_factory=list)
    by_position: list = field(default_factory=list)

    def add_scores(self, model_name, data, predicted, tag_names, params, seconds):
        """One seed's scores of a model (or of the reference) on the test sets."""
        self.summary.append(summary_row(model_name, data, predicted, params, seconds))
        by_tag, by_position = breakdown_rows(model_name, data, predicted["test"], tag_names)
        self.by_tag += by_tag
        self.by_position += by_position


def score_reference(seed_data, tag_names, rows):
    """The reference's scores, as one more model in every table; its validation accuracy, the
    mean over the seeds, is returned for the plot."""
    for data in seed_data:
        predicted = {name: data.reference[name] for name in ("test", "wsj")
                     if name in data.reference}
        rows.add_scores(REFERENCE, data, predicted, tag_names, 0, 0.0)
    return np.mean([accuracy(data.reference["validation"], data.validation.tags)
                    for data in seed_data])


def train_model(name, seed_data, tag_names, args, rows, timing):
    """Build model `name` once, then train it from every seed's initial weights; its rows go
    into `rows`."""
    from suite import training  # Keras, with the backend's settings

    start = time.perf_counter()
    model = build_model(name, args.max_words, len(tag_names), args.embedding_dim, args.units,
                        args.learning_rate)
    optimizer_initial = training.optimizer_state(model)
    compile_programs(model, seed_data[0], args)
    timing["building and compiling the models"] += time.perf_counter() - start
    for data in seed_data:
        start = time.perf_counter()
        epochs, predicted = train_seed(model, data, args, optimizer_initial, timing)
        seconds = time.perf_counter() - start
        for row_name in epochs:
            rows.epochs += [{"model": row_name, "seed": data.seed, **row}
                            for row in epochs[row_name]]
            rows.add_scores(row_name, data, predicted[row_name], tag_names, model.count_params(),
                            round(seconds, 2))
            if not args.quiet:
                print(f"Trained {row_name}, seed {data.seed}: {args.epochs} epochs in "
                      f"{seconds:.1f} s; val_accuracy {epochs[row_name][-1]['val_accuracy']:.4f}"
                      f", test accuracy {rows.summary[-1]['test_accuracy']:.4f}", flush=True)


# ---------------------------------------------------------------- claims


def claims_for(models):
    """The claims tested, for the models of this run."""
    found = [
        # "A BiLSTM suits part-of-speech tagging": it tags held-out words better than a reader of
        # one direction, known words and unseen ones, on the OANC and on the WSJ lines.
        *[Claim("bilstm_con", other, measure)
          for other in ("lstm_forw", "lstm_back_aligned")
          for measure in ("test_accuracy", "unseen_accuracy", "wsj_accuracy")],
        # Every reader against the reference it must beat.
        *[Claim(name, REFERENCE, measure)
          for name in DEFAULT_MODELS
          for measure in ("test_accuracy", "unseen_accuracy", "wsj_accuracy")],
        # Does the direction matter for one LSTM?
        Claim("lstm_back_aligned", "lstm_forw", "test_accuracy", "similar"),
        # The merge modes, when a run includes them.
        *[Claim(name, "bilstm_con", "test_accuracy", "similar")
          for name in MERGE_MODES if name != "bilstm_con"],
        # Depth: two BiLSTMs against one, and against one with as many weights as the two.
        *[Claim(first, second, measure)
          for first, second in (("bilstm_con_stacked", "bilstm_con"),
                                ("bilstm_con_wide", "bilstm_con"),
                                ("bilstm_con_stacked", "bilstm_con_wide"),
                                # One head on the merged outputs against a head on each direction.
                                ("bilstm_con", "bilstm_none_ave"),
                                ("bilstm_con", "bilstm_none_forw"),
                                ("bilstm_none_ave", "bilstm_none_forw"))
          for measure in ("test_accuracy", "unseen_accuracy", "wsj_accuracy")],
        # With a head each, the forward half trains as a forward LSTM alone would.
        Claim("bilstm_none_forw", "lstm_forw", "test_accuracy", "similar"),
    ]
    present = {row for name in models for row in row_names(name)} | {REFERENCE}
    return [claim for claim in found if claim.first in present and claim.second in present]


# ---------------------------------------------------------------- output


def plot(epochs, summary, by_tag, by_position, reference_validation, title):
    """Learning curves, accuracy by position from each end and by tag, from the tidy tables."""
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(15, 15))
    grid = fig.add_gridspec(3, 2)
    panels = [fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1]),
              fig.add_subplot(grid[1, 0]), fig.add_subplot(grid[1, 1]),
              fig.add_subplot(grid[2, :])]
    colors = dict(zip(epochs["model"].unique(), plotting.colors()))

    def curves(table, column, index="epoch"):
        return {name: group.pivot(index="seed", columns=index, values=column)
                for name, group in table.groupby("model", sort=False)}

    ax = panels[0]
    ax.axhline(reference_validation, color="black", linestyle="--", linewidth=1.2,
               label=f"{REFERENCE} ({reference_validation:.3f})")
    plotting.plot_runs(ax, curves(epochs, "val_accuracy"), ylabel="validation accuracy (words)")
    ax.set_title("(a) Validation accuracy per epoch")

    ax = panels[1]
    plotting.plot_runs(ax, curves(epochs, "val_loss"), ylabel="cross-entropy")
    for name, table in curves(epochs, "loss").items():
        ax.plot(table.columns, table.mean(), color=colors[name], linestyle=":", linewidth=1.5)
    ax.plot([], [], color="grey", linestyle=":", label="training loss (dotted)")
    plotting.legend_below(ax, title=plotting.band_title(
        {name: len(table) for name, table in curves(epochs, "val_loss").items()}))
    ax.set_title("(b) Validation loss (bands) and training loss (dotted)")

    for ax, counted_from in zip(panels[2:4], ("start", "end")):
        table = by_position[by_position["counted_from"] == counted_from]
        lines = curves(table, "accuracy", "position")
        reference = lines.pop(REFERENCE, None)  # in black, so each model keeps its colour
        if reference is not None:
            ax.plot(reference.columns, reference.mean(), color="black", linestyle="--",
                    marker=".", linewidth=1.2, label=REFERENCE)
        plotting.plot_runs(ax, lines,
                           ylabel="test accuracy (words)",
                           xlabel=f"position from the line's {counted_from} "
                                  f"(1 = {'first' if counted_from == 'start' else 'last'} word; "
                                  f"{POSITIONS} = {POSITIONS} or more)")
        ax.set_xticks(range(1, POSITIONS + 1))
        ax.set_title(f"({'c' if counted_from == 'start' else 'd'}) Test accuracy by position "
                     f"from the {counted_from}")

    ax = panels[4]
    counts = (by_tag[by_tag["model"] == REFERENCE].groupby("tag")["count"].mean()
              .sort_values(ascending=False))
    tags = list(counts.index[:TAGS_PLOTTED])
    names = list(by_tag["model"].unique())
    width = 0.8 / len(names)
    for k, name in enumerate(names):
        table = by_tag[by_tag["model"] == name].pivot(index="seed", columns="tag",
                                                       values="accuracy")[tags]
        mean, half = plotting.mean_and_ci(table.to_numpy())
        color = "black" if name == REFERENCE else colors[name]
        ax.bar(np.arange(len(tags)) + (k - (len(names) - 1) / 2) * width, mean, width,
               yerr=half, color=color, alpha=0.8 if name != REFERENCE else 0.35, label=name,
               capsize=2)
    ax.set_xticks(range(len(tags)), [f"{tag}\n{counts[tag]:.0f}" for tag in tags])
    ax.set_xlabel(f"tag, with its words per test set (the {TAGS_PLOTTED} most frequent tags)")
    ax.set_ylabel("test accuracy (words)")
    ax.set_ylim(max(0.0, by_tag["accuracy"].min() - 0.05), 1.0)
    ax.grid(alpha=0.3, axis="y")
    plotting.legend_below(ax, title=plotting.band_title(
        {name: by_tag.loc[by_tag["model"] == name, "seed"].nunique() for name in names}))
    ax.set_title("(e) Test accuracy by tag")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def summary_table(summary):
    measures = [c for c in ("test_accuracy", "unseen_accuracy", "wsj_accuracy",
                            "wsj_unseen_accuracy", "train_seconds") if c in summary]
    rows = [{"model": name, **{m: tables.mean_and_spread(group[m]) for m in measures}}
            for name, group in summary.groupby("model", sort=False)]
    return (pd.DataFrame(rows).to_string(index=False)
            + "\n(mean ± standard deviation over seeds; accuracy = share of words tagged right; "
              "unseen = words not in the seed's training lines)")


def tag_gain_table(by_tag, first="bilstm_con", second="lstm_forw", rows=10):
    """The tags where `first` gains the most words over `second` on the test lines."""
    both = by_tag[by_tag["model"].isin([first, second])]
    if both["model"].nunique() < 2:
        return None
    table = both.pivot_table(index=["seed", "tag"], columns="model", values=["accuracy", "count"])
    # A seed whose test lines hold none of a tag counts 0 words and 0 gained for it; accuracy
    # is the mean over the seeds that have the tag.
    every = pd.MultiIndex.from_product([both["seed"].unique(), both["tag"].unique()],
                                       names=["seed", "tag"])
    table = table.reindex(every)
    gained = ((table["accuracy"][first] - table["accuracy"][second])
              * table["count"][first]).fillna(0).groupby("tag").mean()
    accuracy_of = table["accuracy"].groupby("tag").mean()
    shown = pd.DataFrame({"words": table["count"][first].fillna(0).groupby("tag").mean().round(1),
                          second: accuracy_of[second].round(3),
                          first: accuracy_of[first].round(3),
                          "words_gained": gained.round(1)}).sort_values("words_gained",
                                                                         ascending=False)
    total = gained.sum()
    return (shown.head(rows).to_string()
            + f"\n(mean over seeds; words_gained = accuracy gain x words of the tag; "
              f"{total:.1f} words gained in all per test set)")


def position_table(by_position):
    table = by_position.groupby(["counted_from", "position", "model"], sort=False)["accuracy"]
    return (table.mean().unstack("model").round(3).to_string()
            + f"\n(mean test accuracy over seeds; position {POSITIONS} holds every word "
              f"{POSITIONS} or more from that end)")


@dataclass
class Results:
    """What a run measured: the tables it writes."""

    epochs: pd.DataFrame
    summary: pd.DataFrame
    comparison: pd.DataFrame
    by_tag: pd.DataFrame
    by_position: pd.DataFrame
    timing: pd.DataFrame

    def files(self, name=SCRIPT):
        """{file under the output folder: table}, named after the run (--name)."""
        return {f"results/{name}.csv": self.epochs,
                f"results/{name}_summary.csv": self.summary,
                f"results/{name}_comparison.csv": self.comparison,
                f"results/{name}_by_tag.csv": self.by_tag,
                f"results/{name}_by_position.csv": self.by_position,
                f"results/{name}_timing.csv": self.timing}


def tabulate(rows, reference_validation, corpora, args, timing):
    """The run's `Results` and its plot, from its rows."""
    start = time.perf_counter()
    epochs, summary = pd.DataFrame(rows.epochs), pd.DataFrame(rows.summary)
    by_tag, by_position = pd.DataFrame(rows.by_tag), pd.DataFrame(rows.by_position)
    comparison = claims.compare(summary, [claim for claim in claims_for(args.model)
                                          if claim.measure in summary])
    title = (f"Part-of-speech tagging on {corpora.path.name}: {args.units} units, "
             f"embedding {args.embedding_dim}, {args.epochs} epochs, {cli.describe_seeds(args)}")
    figure = plot(epochs, summary, by_tag, by_position, reference_validation, title)
    timing["tables and plot"] += time.perf_counter() - start
    timing_table = pd.DataFrame(
        [{"phase": phase, "seconds": round(seconds, 1)} for phase, seconds in timing.items()])
    return Results(epochs, summary, comparison, by_tag, by_position, timing_table), figure


def print_results(results, args):
    print()
    print(summary_table(results.summary))
    print()
    print(claims.comparison_table(results.comparison))
    if args.quiet:
        return
    gains = tag_gain_table(results.by_tag)
    if gains is not None:
        print("\nWhere the BiLSTM gains over the forward LSTM, by tag:")
        print(gains)
    print("\nTest accuracy by position in the line:")
    print(position_table(results.by_position))
    print("\nTime spent (s):")
    print(results.timing.to_string(index=False))


# ---------------------------------------------------------------- command line


def memory_needed(args):
    """What could outgrow the machine: the embedding table, float32, with Adam's two moments
    and a gradient."""
    return (4 * 4 * args.max_words * args.embedding_dim, "--max-words",
            "the embedding table of --max-words x --embedding-dim with its optimizer state")


def run_name(text):
    """--name: pos_tagging, or pos_tagging_ followed by letters, digits and underscores, so that
    it is one file name on every system and names no other script's files."""
    import argparse
    import re

    if not re.fullmatch(rf"{SCRIPT}(_[A-Za-z0-9_]+)?", text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a run name: use {SCRIPT} or {SCRIPT}_ followed by letters, digits "
            "and underscores")
    return text


def parse_args(argv=None):
    parser = cli.ArgumentParser(__name__, description=__doc__)
    parser.add_argument("--model", nargs="+", choices=MODELS, default=list(DEFAULT_MODELS),
                        metavar="NAME", help=f"models to train, from {', '.join(MODELS)}")
    parser.add_argument("--epochs", type=cli.positive_int, default=4,
                        help="passes over the training lines")
    parser.add_argument("--units", type=cli.positive_int, default=32,
                        help="memory units in each LSTM (each direction of the BiLSTM)")
    parser.add_argument("--embedding-dim", type=cli.positive_int, default=32,
                        help="size of each word's vector")
    parser.add_argument("--batch-size", type=cli.positive_int, default=64,
                        help="lines (or pieces of lines) per optimizer step")
    parser.add_argument("--learning-rate", type=float, default=0.005, help="Adam's step size")
    parser.add_argument("--max-words", type=cli.int_at_least(3), default=20_000,
                        help="vocabulary size: the most frequent training words get their own "
                             "vector, the rest share the unknown word's (ids 0 and 1 included)")
    parser.add_argument("--min-count", type=cli.positive_int, default=2,
                        help="words seen fewer times in the training lines share the unknown "
                             "word's vector, which so learns to stand for words never seen")
    parser.add_argument("--max-length", type=cli.int_at_least(2), default=64,
                        help="longer lines are cut into pieces of at most this many words")
    parser.add_argument("--train-lines", type=cli.non_negative_int, default=0,
                        help="train on only this many of each seed's training lines (0: all)")
    parser.add_argument("--corpus", type=Path, metavar="FILE",
                        help="a word/TAG file to use instead of the OANC lines")
    parser.add_argument("--wsj", type=Path, metavar="FILE",
                        help="a word/TAG file to score as the second test set instead of the WSJ "
                             "lines")
    parser.add_argument("--no-wsj", action="store_true", help="score no second test set")
    cli.add_corpus_package_argument(parser)
    cli.add_seed_arguments(parser, repeats=6, fixes="the split, initial weights and batch order")
    cli.add_output_argument(parser)
    parser.add_argument("--name", type=run_name, default=SCRIPT,
                        help="the run's name, pos_tagging_...: it writes results/NAME*.csv and "
                             "plots/NAME.png, so a run of other models keeps the default run's "
                             "files")
    cli.add_quiet_argument(parser, help="print only the final tables")

    def check(args):
        cli.check_distinct(parser, args, "model")
        if not 0 < args.learning_rate < 1:
            parser.error(f"argument --learning-rate: must be between 0 and 1, got "
                         f"{args.learning_rate}")

    return cli.parse(parser, argv, check=check, memory=memory_needed)


def main(argv=None):
    args = parse_args(argv)
    corpora = text_data.loaded(functools.partial(read_corpora, args), args.output_dir)
    keras = environment.import_keras()  # now that the flags and the corpora are good
    timing = Counter()
    with outputs.kept_on_interrupt():
        tag_names, seed_data = prepare_seeds(corpora, args, timing)
        if not args.quiet:
            print(f"{len(corpora.lines):,} lines from {corpora.path.name}, {len(tag_names)} "
                  f"tags; {cli.describe_seeds(args)}; backend {keras.backend.backend()}",
                  flush=True)
        rows = Rows()
        reference_validation = score_reference(seed_data, tag_names, rows)
        for name in args.model:
            train_model(name, seed_data, tag_names, args, rows, timing)
        results, figure = tabulate(rows, reference_validation, corpora, args, timing)
        outputs.write_results(args.output_dir, results.files(args.name),
                              {f"plots/{args.name}.png": figure},
                              name=args.name, quiet=args.quiet, run=args)
    print_results(results, args)
    return results


if __name__ == "__main__":
    main()
