"""Your own sequences: a long-form CSV, the tutorial's problem exported, Japanese Vowels.

The format, one row per step (tidy long form):

    sequence,step,x1,x2,label
    a,0,0.13,0.90,walk
    a,1,0.52,0.11,walk
    b,0,0.77,0.35,run

- `sequence`: the sequence's id (any text); `step`: its steps numbered 0, 1, 2, ... or 1, 2, 3, ...
  in any row order, none missing and none twice;
- every other column but `label` and `split` is a feature, read as a number (one or many);
- `label`: a class name (any text), the same on every step of a sequence (one label per sequence,
  the default) or one per step (`--labels step`);
- `split` (optional): `train` or `test` per sequence, the held-out part you chose; without it
  each seed holds out its own TEST_FRACTION of the sequences, stratified by class.

Sequences can differ in length: they are padded to the longest with PAD_VALUE, which the models'
Masking layer turns into a mask, so the LSTMs step over the padding. Features are standardised with
the mean and standard deviation of the training part's real steps only. A bad file raises
DataError, whose message is one line naming the row or column and what is wrong.
"""

import csv
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from suite.weights import seed_stream

# Padding steps hold this value in every feature; no real step holds it after standardisation
# (`padded` checks), and the models' Masking layer skips the steps that do.
PAD_VALUE = -1.0e4
PADDINGS = ("post", "pre")
LABELS = ("sequence", "step")
TEST_FRACTION = 0.2  # of the sequences, held out for the test when the file has no split column
VALIDATION_FRACTION = 0.2  # of the training part, for choosing the epoch (early stopping)
SPLIT_STREAM = 7  # seed streams: weights.seed_stream (0-6 are taken)
SHUFFLE_STREAM = 8
RESERVED = ("sequence", "step", "label", "split")


class DataError(ValueError):
    """A file or data set that cannot be used, with a one-line reason."""


@dataclass
class Sequences:
    """Sequences of feature vectors with their labels.

    features: one float array (length, n_features) per sequence; labels: one class index per
    sequence, or per step (an int array of the sequence's length) when per_step; classes: the
    class names, index by index; split: "train" or "test" per sequence, or None (each seed draws
    its own held-out part).
    """

    features: list
    labels: list
    classes: list
    per_step: bool
    ids: list
    feature_names: list
    source: str
    split: np.ndarray = None
    notes: list = field(default_factory=list)

    @property
    def lengths(self):
        return np.array([len(f) for f in self.features])

    @property
    def n_features(self):
        return self.features[0].shape[1]

    @property
    def n_classes(self):
        return len(self.classes)

    def sequence_labels(self):
        """One class per sequence: its label, or with a label per step its most frequent one
        (what stratifies the split)."""
        if not self.per_step:
            return np.asarray(self.labels)
        return np.array([np.bincount(labels).argmax() for labels in self.labels])

    def describe(self):
        lengths = self.lengths
        span = (f"{lengths.min()} to {lengths.max()} steps" if lengths.min() < lengths.max()
                else f"{lengths.max()} steps")
        return (f"{len(self.features):,} sequences of {span}, {self.n_features} feature(s), "
                f"{self.n_classes} classes, one label per {'step' if self.per_step else 'sequence'}")


# ---------------------------------------------------------------- reading a CSV


def _class_order(name):
    """Class names in numeric order when they are numbers, else in text order."""
    try:
        return (0, float(name), name)
    except ValueError:
        return (1, 0.0, name)


def _refuse(frame, column, bad, what):
    """DataError naming the first row of `frame` where `bad` holds (rows counted as in the file,
    the header being row 1); nothing when it holds nowhere."""
    bad = np.asarray(bad, dtype=bool)
    if not bad.any():
        return
    row = int(np.flatnonzero(bad)[0])
    raise DataError(f"row {frame.index[row] + 2}, column {column!r}: "
                    f"{frame[column].iloc[row]!r} {what}")


def _numbers(frame, column):
    """The column as floats; text, NaN or inf is a DataError naming the first row."""
    text = frame[column].str.strip()
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    _refuse(frame, column, text.isna(), "is empty")
    _refuse(frame, column, np.isnan(values) & ~text.str.lower().isin(["nan", "-nan", "+nan"]),
            "is not a number")
    _refuse(frame, column, ~np.isfinite(values), "is not a finite number (NaN or inf)")
    # Parsed again by Python's own float(), which reads back every digit a float was written
    # with (pandas' faster parser can miss the last one).
    return text.to_numpy().astype(np.float64)


def read_csv(path, labels="sequence", labelled=True):
    """Sequences from a long-form CSV (see the module docstring); DataError if it cannot be used.
    `labels` is "sequence" (one label per sequence) or "step" (one per step). With labelled=False
    (new sequences to label) the label column may be left out."""
    try:
        with open(path, newline="", encoding="utf-8") as file:
            header = [name.strip() for name in next(csv.reader(file), [])]
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""],
                            skipinitialspace=True)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, not a CSV file") from None
    except (UnicodeDecodeError, csv.Error, pd.errors.ParserError,
            pd.errors.EmptyDataError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else "empty"
        raise DataError(f"{path}: not a UTF-8 CSV file with a header row ({reason})") from None
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise DataError(f"{path}: column {repeated[0]!r} appears twice in the header")
    frame.columns = [str(c).strip() for c in frame.columns]
    try:
        if not labelled and "label" not in frame.columns:
            frame["label"] = "unlabelled"
        return _sequences_of(frame, labels, f"{path}", labelled)
    except DataError as error:
        raise DataError(f"{path}: {error}") from None


def _sequences_of(frame, labels, source, labelled=True):
    columns = list(frame.columns)
    for column in ("sequence", "step", "label"):
        if column not in columns:
            raise DataError(f"no column {column!r} (the header has: {', '.join(columns)}); the "
                            "columns are sequence, step, one or more features, label")
    feature_names = [c for c in columns if c not in RESERVED]
    if not feature_names:
        raise DataError("no feature column: give one or more numeric columns besides "
                        "sequence, step, label and split")
    if frame.empty:
        raise DataError("no rows below the header")
    for column in ("sequence", "label"):
        empty = frame[column].isna() | (frame[column].str.strip() == "")
        _refuse(frame, column, empty, "is empty")
    frame["sequence"] = frame["sequence"].str.strip()
    frame["label"] = frame["label"].str.strip()
    steps = _numbers(frame, "step")
    _refuse(frame, "step", steps != np.round(steps), "is not a whole number")
    frame["step"] = steps.astype(np.int64)
    values = np.stack([_numbers(frame, column) for column in feature_names], axis=1)

    repeated_step = frame.duplicated(["sequence", "step"], keep="first").to_numpy()
    if repeated_step.any():
        row = int(np.flatnonzero(repeated_step)[0])
        raise DataError(f"row {frame.index[row] + 2}: sequence {frame['sequence'].iloc[row]!r} "
                        f"has step {frame['step'].iloc[row]} twice")
    if "split" in columns:
        frame["split"] = frame["split"].fillna("").str.strip().str.lower()
        _refuse(frame, "split", ~frame["split"].isin(["train", "test"]),
                "is neither train nor test")

    classes = sorted(frame["label"].unique(), key=_class_order)
    class_index = {name: i for i, name in enumerate(classes)}
    features, label_list, ids, split = [], [], [], []
    frame["_row"] = np.arange(len(frame))
    for sequence_id, rows in frame.groupby("sequence", sort=False):
        rows = rows.sort_values("step")
        first = rows["step"].iloc[0]
        expected = np.arange(first, first + len(rows))
        if first not in (0, 1) or not np.array_equal(rows["step"].to_numpy(), expected):
            gap = int(np.flatnonzero(rows["step"].to_numpy() != expected)[0]) if first in (0, 1) \
                else 0
            raise DataError(f"sequence {sequence_id!r}: its steps must run 0, 1, 2, ... or 1, 2, "
                            f"3, ... without a gap; step {expected[gap]} is missing")
        row_labels = rows["label"].to_numpy()
        if not labels == "step" and (row_labels != row_labels[0]).any():
            change = int(np.flatnonzero(row_labels != row_labels[0])[0])
            raise DataError(
                f"row {rows.index[change] + 2}: the label of sequence {sequence_id!r} changes "
                f"from {row_labels[0]!r} to {row_labels[change]!r}; one label per sequence "
                "must be the same on every step (give --labels step for a label per step)")
        if "split" in columns:
            splits = rows["split"].unique()
            if len(splits) > 1:
                raise DataError(f"sequence {sequence_id!r} is in both the train and the test "
                                "split: give each sequence one split")
            split.append(splits[0])
        indices = np.array([class_index[name] for name in row_labels])
        label_list.append(indices if labels == "step" else int(indices[0]))
        features.append(values[rows["_row"].to_numpy()])
        ids.append(sequence_id)
    sequences = Sequences(features, label_list, classes, labels == "step", ids, feature_names,
                          source, np.array(split) if split else None)
    if labelled:
        check_splittable(sequences)
    return sequences


def check_splittable(sequences):
    """DataError unless every class can be in the training, validation and test parts: with a
    split column, two training sequences of each class and a test part; without one, three.
    With a label per step, three sequences at least."""
    if sequences.n_classes < 2:
        raise DataError(f"every label is {sequences.classes[0]!r}: at least two classes are "
                        "needed to classify")
    by_class = sequences.sequence_labels()
    if sequences.per_step:  # steps of every class in every part cannot be promised: parts at all
        if len(by_class) < 3:
            raise DataError(f"{len(by_class)} sequences, too few to split: at least 3 are needed "
                            "(training, validation, test)")
        return
    if sequences.split is not None:
        if not (sequences.split == "test").any() or not (sequences.split == "train").any():
            raise DataError("the split column needs sequences in both train and test")
        by_class, needed, where = by_class[sequences.split == "train"], 2, "training sequences"
    else:
        needed, where = 3, "sequences"
    counts = np.bincount(by_class, minlength=sequences.n_classes)
    if counts.min() < needed:
        small = int(np.argmin(counts))
        raise DataError(
            f"class {sequences.classes[small]!r} has {counts[small]} {where}, too few to split: "
            f"each class needs at least {needed} (training, validation"
            f"{', test' if needed == 3 else ''})")


def write_csv(sequences, path):
    """Write `sequences` in the long form `read_csv` reads (a split column if they have one)."""
    rows = []
    for i, (features, labels) in enumerate(zip(sequences.features, sequences.labels)):
        frame = pd.DataFrame(features, columns=sequences.feature_names)
        frame.insert(0, "step", np.arange(len(features)))
        frame.insert(0, "sequence", sequences.ids[i])
        names = np.asarray(sequences.classes, dtype=object)
        frame["label"] = names[labels]  # one name per step, or the sequence's on every step
        if sequences.split is not None:
            frame["split"] = sequences.split[i]
        rows.append(frame)
    pd.concat(rows, ignore_index=True).to_csv(path, index=False)


# ---------------------------------------------------------------- data sets the suite ships


def tutorial_sequences(n_sequences=1000, n_timesteps=10, min_length=None, seed=0):
    """The tutorial's problem as a data set: n_sequences sequences of the cumulative-sum
    problem with a label per step. With `min_length`, each sequence's length is drawn uniformly
    from min_length to n_timesteps and it is the first steps of a tutorial sequence: the label
    still flips where the running sum reaches n_timesteps / 4, so a short sequence may never
    flip."""
    from cumsum_data import get_sequences

    rng = np.random.default_rng(seed)
    X, y = get_sequences(n_sequences, n_timesteps, rng)
    lengths = (np.full(n_sequences, n_timesteps) if min_length is None
               else rng.integers(min_length, n_timesteps + 1, size=n_sequences))
    X, y = X.reshape(n_sequences, n_timesteps, 1), y.reshape(n_sequences, n_timesteps)
    varying = "" if min_length is None else f" cut to {min_length} to {n_timesteps} steps"
    return Sequences(
        [X[i, :n].astype(np.float64) for i, n in enumerate(lengths)],
        [y[i, :n].astype(np.int64) for i, n in enumerate(lengths)],
        ["0", "1"], True, [f"s{i}" for i in range(n_sequences)], ["x"],
        f"the tutorial's cumulative-sum problem: {n_sequences:,} sequences of {n_timesteps} "
        f"steps{varying} drawn from seed {seed}")


def japanese_vowels():
    """Japanese Vowels from sktime's bundled copy, with the archive's split (270 training and
    370 test utterances of 9 speakers, 12 cepstrum coefficients per step, 7 to 29 steps)."""
    import sktime
    from sktime.datasets import load_japanese_vowels

    features, labels, split = [], [], []
    for part in ("train", "test"):
        X, y = load_japanese_vowels(split=part, return_X_y=True)
        features += [np.stack([X.iloc[i, j].to_numpy(dtype=float) for j in range(X.shape[1])],
                              axis=1) for i in range(len(X))]
        labels += list(y)
        split += [part] * len(X)
    classes = sorted(set(labels), key=_class_order)
    return Sequences(
        features, [classes.index(label) for label in labels], classes, False,
        [f"{part}{i}" for i, part in enumerate(split)],
        [f"coefficient{j + 1}" for j in range(features[0].shape[1])],
        f"Japanese Vowels (M. Kudo, J. Toyama, M. Shimbo, Pattern Recognition Letters 20, 1999; "
        f"UCI Machine Learning Repository; the UEA archive's split), read with sktime "
        f"{sktime.__version__}'s load_japanese_vowels", np.array(split))


# ---------------------------------------------------------------- splits, scaling, padding


def split_indices(sequences, seed, validation=VALIDATION_FRACTION):
    """{"train", "val", "test"}: indices of the sequences in each part for this seed. The test
    part is the file's split column, or TEST_FRACTION of each class drawn from the seed; the
    validation part is `validation` of each class of the rest. With validation 0 there is none:
    the training part is all of the rest, and "val" names it too (scored, never chosen from)."""
    rng = seed_stream(seed, SPLIT_STREAM)
    by_class = sequences.sequence_labels()

    def stratified(indices, fraction):
        held = []
        for label in np.unique(by_class[indices]):
            members = rng.permutation(indices[by_class[indices] == label])
            held.append(members[: max(1, math.floor(fraction * len(members)))])
        held = np.sort(np.concatenate(held))
        return np.setdiff1d(indices, held), held

    everything = np.arange(len(sequences.features))
    if sequences.split is not None:
        rest, test = everything[sequences.split == "train"], everything[sequences.split == "test"]
    else:
        rest, test = stratified(everything, TEST_FRACTION)
    if not validation:
        return {"train": rest, "val": rest, "test": test}
    train, val = stratified(rest, validation)
    return {"train": train, "val": val, "test": test}


def scaling(sequences, indices):
    """(mean, std) of each feature over the real steps of the sequences at `indices`; a feature
    that never changes gets std 1."""
    steps = np.concatenate([sequences.features[i] for i in indices])
    std = steps.std(axis=0)
    return steps.mean(axis=0), np.where(std > 0, std, 1.0)


def padded(sequences, indices, n_timesteps, padding="post", scale=None):
    """(X, y, weights) for the sequences at `indices`, padded to n_timesteps with PAD_VALUE at
    the end ("post") or the start ("pre"). X is (n, n_timesteps, n_features) float32; y holds a
    class per sequence (n,) or per step (n, n_timesteps); weights is 1 on every labelled output
    and 0 on padding (the per-step loss weights)."""
    mean, std = scale if scale is not None else (0.0, 1.0)
    n = len(indices)
    X = np.full((n, n_timesteps, sequences.n_features), PAD_VALUE, dtype=np.float32)
    real = np.zeros((n, n_timesteps), dtype=bool)
    y = np.zeros((n, n_timesteps) if sequences.per_step else n, dtype=np.int64)
    for row, i in enumerate(indices):
        features = sequences.features[i][:n_timesteps]
        length = len(features)
        where = slice(0, length) if padding == "post" else slice(n_timesteps - length, n_timesteps)
        X[row, where] = (features - mean) / std
        real[row, where] = True
        if sequences.per_step:
            y[row, where] = sequences.labels[i][:n_timesteps]
        else:
            y[row] = sequences.labels[i]
    if (X[real] == PAD_VALUE).all(axis=-1).any():
        raise DataError(f"a real step holds the padding value {PAD_VALUE} in every feature")
    weights = real.astype(np.float32) if sequences.per_step else np.ones(n, dtype=np.float32)
    return X, y, weights


def batch_orders(n_train, batch_size, epochs, seed):
    """(epochs, batches, batch_size) indices into the training part: each epoch in a new order
    drawn from the seed, in whole batches (the last few sequences of an epoch's order, fewer than
    a batch, wait for the next epoch's)."""
    rng = seed_stream(seed, SHUFFLE_STREAM)
    n_batches = max(1, n_train // batch_size)
    orders = [rng.permutation(n_train)[: n_batches * batch_size] for _ in range(epochs)]
    return np.stack(orders).reshape(epochs, n_batches, -1)
