"""text/text_classify.py and suite/sentiment.py: tiny end-to-end runs on CSVs written here, facts
checked by hand (bags of words, the majority class, padding, and every number a run reports), and
one-line refusals. No corpus and no network needed."""

import functools
import logging
import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from suite import environment, resources, sentiment, text_data, training
from text import text_classify

REPOSITORY = Path(__file__).resolve().parent.parent
TINY = ["--repeats", "2", "--epochs", "2", "--units", "2", "--embedding-dim", "2",
        "--max-words", "30", "--max-length", "8", "--batch-size", "8", "--quiet"]
PER_EPOCH_COLUMNS = ["model", "seed", "epoch", "loss", "accuracy", "val_loss", "val_accuracy",
                     "test_loss", "test_accuracy"]
SUMMARY_COLUMNS = ["model", "seed", "stopped_at", "epoch", "loss", "accuracy", "val_loss",
                   "val_accuracy", "test_loss", "test_accuracy", "params", "train_seconds"]
COMPARISON_COLUMNS = ["stopped_at", "pair", "measure", "expected", "difference", "ci_low",
                      "ci_high", "verdict"]
POSITIVE = ["a good film", "great acting and a fine story", "wonderful , moving",
            "the best film of the year", "fine and \"funny\""]
NEGATIVE = ["a bad film", "dull and long", "the worst acting", "boring , silly story",
            "not funny at all"]


def write_corpus_format(path, n_per_class=24):
    """A CSV as polarity-en-pang&lee2.csv is written: a byte-order mark, every field quoted
    (quotes doubled inside), each sentence ending in a line break inside its field, rows ended
    by CR LF, positives (1) first, then negatives (-1)."""
    rng = np.random.default_rng(1)
    rows = []
    for label, phrases in (("1", POSITIVE), ("-1", NEGATIVE)):
        for _ in range(n_per_class):
            text = " ".join(rng.choice(phrases, 2))
            rows.append(f'"{label}","{text.replace(chr(34), chr(34) * 2)} \n"\r\n')
    path.write_bytes("".join(rows).encode("utf-8-sig"))
    return path


class TracesRecorded:
    """Stands in for TensorFlow's record of the tf.function calls that traced (what its warning
    "N out of the last M calls to <function> triggered tf.function retracing" reads), counting
    the traces of each function."""

    def __init__(self):
        self.traces, self.lock = Counter(), threading.Lock()

    def called_with_tracing(self, key, function, omit_warning):
        with self.lock:
            self.traces[function] += 1

    def called_without_tracing(self, key):
        pass


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One run of the three models and the majority reference on 48 sentences; with it, what
    the run did below Keras: the traces of each tf.function, the threads that pointed stderr
    (file descriptor 2) elsewhere, and whether stderr is the same file after the run."""
    from tensorflow.python.eager.polymorphic_function import polymorphic_function

    folder = tmp_path_factory.mktemp("text_classify")
    data = write_corpus_format(folder / "sentences.csv")
    output_dir = folder / "out"
    seen = SimpleNamespace(recorded=TracesRecorded(), redirected_by=[])
    dup2, stderr_before = os.dup2, os.fstat(2)

    def recording_dup2(fd, fd2, *args, **kwargs):
        if fd2 == 2:
            seen.redirected_by.append(threading.current_thread().name)
        return dup2(fd, fd2, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "dup2", recording_dup2)
        patch.setattr(polymorphic_function, "_frequent_tracing_detector_manager", seen.recorded)
        summary, comparison = text_classify.main(TINY + ["--data", str(data),
                                                         "--output-dir", str(output_dir)])
    stderr_after = os.fstat(2)
    seen.same_stderr = ((stderr_after.st_dev, stderr_after.st_ino)
                        == (stderr_before.st_dev, stderr_before.st_ino))
    return data, output_dir, summary, comparison, seen


def test_tiny_run_writes_every_table_and_the_plot(tiny_run):
    _, output_dir, summary, _, _ = tiny_run
    results = output_dir / "results"
    per_epoch = pd.read_csv(results / "text_classify.csv")
    assert list(per_epoch.columns) == PER_EPOCH_COLUMNS
    assert len(per_epoch) == 3 * 2 * 2  # models x seeds x epochs
    assert list(per_epoch["model"].unique()) == list(text_classify.MODELS)
    assert sorted(per_epoch["seed"].unique()) == [0, 1]
    for column in PER_EPOCH_COLUMNS[3:]:
        assert np.isfinite(per_epoch[column]).all()
        if column.endswith("accuracy"):
            assert per_epoch[column].between(0, 1).all()
    # 48 sentences: 38 to train, 5 to validate and 5 to test, so accuracies are fifths.
    assert np.allclose(per_epoch["test_accuracy"] * 5, np.round(per_epoch["test_accuracy"] * 5))

    written = pd.read_csv(results / "text_classify_summary.csv")
    assert list(written.columns) == SUMMARY_COLUMNS
    assert len(written) == 4 * 2 * 2  # three models and the majority x seeds x stopping points
    pd.testing.assert_frame_equal(written, summary, check_dtype=False)
    best = written[(written["stopped_at"] == "best_val_epoch") & (written["model"] != "majority")]
    for row in best.itertuples():
        run = per_epoch[(per_epoch["model"] == row.model) & (per_epoch["seed"] == row.seed)]
        assert row.val_loss == pytest.approx(run["val_loss"].min())
        assert row.test_accuracy == pytest.approx(
            run.loc[run["val_loss"].idxmin(), "test_accuracy"])
    last = written[(written["stopped_at"] == "last_epoch") & (written["model"] != "majority")]
    assert (last["epoch"] == 2).all()

    table = pd.read_csv(results / "text_classify_comparison.csv")
    assert list(table.columns) == COMPARISON_COLUMNS
    assert len(table) == 2 * len(text_classify.claims_to_test())
    assert set(table["verdict"]) == {"too few seeds"}  # 2 seeds: no verdict
    assert (results / "text_classify_run.csv").exists()
    assert (output_dir / "plots" / "text_classify.png").stat().st_size > 20_000


def test_tiny_run_is_reproducible_whatever_trains_beside_it(tiny_run, tmp_path):
    """The forward LSTM alone gives the numbers it gave training beside the other models: each
    seed has its own weights, split, shuffling and dropout generator."""
    data, output_dir, _, _, _ = tiny_run
    text_classify.main(TINY + ["--data", str(data), "--model", "lstm_forw",
                               "--output-dir", str(tmp_path)])
    first = pd.read_csv(output_dir / "results" / "text_classify.csv")
    again = pd.read_csv(tmp_path / "results" / "text_classify.csv")
    first = first[first["model"] == "lstm_forw"].reset_index(drop=True)
    pd.testing.assert_frame_equal(first, again, check_exact=True)


def test_stderr_is_pointed_elsewhere_by_the_main_thread_alone(tiny_run):
    """TensorFlow's native log is kept off the terminal by pointing file descriptor 2, the
    process's stderr, at a file and back: the main thread does it, once around the models that
    train side by side. A training thread that did it around its own fit would undo another's
    redirection, and could leave stderr pointing at a closed file after the run, where every
    later line, an error message included, would be lost."""
    seen = tiny_run[4]
    assert seen.redirected_by and set(seen.redirected_by) == {threading.main_thread().name}
    assert seen.same_stderr


def test_user_csv_with_a_header_naming_its_columns_and_three_labels(tmp_path, capsys):
    """A header row text,label (the columns in the other order) and ten rows of each label."""
    data = tmp_path / "mine.csv"
    lines = ["text,label"] + [f"{text},{label}" for label, text in
                              [("pos", "good fun"), ("neg", "bad dull"), ("mixed", "good but dull")]
                              * 10]
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary, _ = text_classify.main(TINY + ["--data", str(data), "--model", "bow_logreg",
                                            "--output-dir", str(tmp_path / "out")])
    per_epoch = pd.read_csv(tmp_path / "out" / "results" / "text_classify.csv")
    assert set(per_epoch["model"]) == {"bow_logreg"}
    # Three classes: a softmax over three, fed by the 29 words of the vocabulary besides padding.
    assert set(summary.loc[summary["model"] == "bow_logreg", "params"]) == {29 * 3 + 3}
    assert "bow_logreg" in capsys.readouterr().out


@pytest.mark.skipif(environment.requested_backend() != "tensorflow",
                    reason="tf.function is TensorFlow's")
def test_each_model_traces_its_two_steps_once(tiny_run, monkeypatch):
    """Counted with TensorFlow's own record of traces: in the tiny run (three models side by
    side, two seeds, a short last batch of 6 of 38 sentences), and for the bag of words over
    two seeds with validation and test sets of different sizes, each model traces one training
    step and one test step, once each. So TensorFlow's warning that calls "triggered
    tf.function retracing", which counts the traces of every model's steps together (Keras makes
    them all from one Python function), is a false alarm here."""
    from tensorflow.python.eager.polymorphic_function import polymorphic_function

    assert list(tiny_run[4].recorded.traces.values()) == [1] * 2 * len(text_classify.MODELS)
    recorded = TracesRecorded()
    monkeypatch.setattr(polymorphic_function, "_frequent_tracing_detector_manager", recorded)
    rng = np.random.default_rng(0)
    sizes = {"train": 21, "val": 3, "test": 2}  # batches of 8, 8 and 5
    data = {seed: {split: (rng.integers(0, 6, (size, 4)).astype(np.int32), np.arange(size) % 2)
                   for split, size in sizes.items()} for seed in (0, 1)}
    args = SimpleNamespace(max_words=6, n_classes=2, batch_size=8, epochs=2)
    build = functools.partial(text_classify.build_model, "bow_logreg", max_words=6)
    text_classify.train_seeds("bow_logreg", build, data, [0, 1], args)
    assert list(recorded.traces.values()) == [1, 1]


def test_tensorflows_retracing_warning_is_kept_off_while_the_models_train():
    """The warning as TensorFlow raises it, from its own detector told of 5 traces in 5 calls:
    left out inside retracing_alarm_filtered (train_models trains in it), shown outside it (the
    control); any other warning of TensorFlow's passes."""
    from tensorflow.python.eager.polymorphic_function import polymorphic_function

    def alarm():
        detector = polymorphic_function._FrequentTracingDetector()
        for _ in range(5):
            detector.called_with_tracing("one_step_on_data", omit_warning=False)

    logger, records = logging.getLogger("tensorflow"), []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        with text_classify.retracing_alarm_filtered():
            alarm()
            logger.warning("another warning")
        alarm()
    finally:
        logger.removeHandler(handler)
    messages = [record.getMessage() for record in records]
    assert len(messages) == 2 and messages[0] == "another warning"
    assert messages[1].startswith("5 out of the last 5 calls to one_step_on_data triggered "
                                  "tf.function retracing")


def test_imdb_reviews_are_split_and_padded_like_sentences(monkeypatch):
    """--dataset imdb with keras.datasets.imdb.load_data replaced by a tiny stand-in that keeps
    its contract: word ids from index_from + 1, words beyond num_words as oov_char."""
    import keras

    asked = {}

    def load_data(num_words, start_char, oov_char, index_from, **kwargs):
        asked.update(num_words=num_words, start_char=start_char, oov_char=oov_char,
                     index_from=index_from)
        rng = np.random.default_rng(0)
        reviews = [list(rng.integers(2, num_words, rng.integers(3, 12))) for _ in range(40)]
        labels = np.arange(40) % 2
        return ((np.array(reviews[:20], dtype=object), labels[:20]),
                (np.array(reviews[20:], dtype=object), labels[20:]))

    monkeypatch.setattr(keras.datasets.imdb, "load_data", load_data)
    sentences = text_classify.load_imdb(30)
    # Ids as text_data numbers words: 0 pads, 1 is any other word, the most frequent is 2.
    assert asked == {"num_words": 30, "start_char": None, "oov_char": 1, "index_from": 1}
    assert sentences.n_classes == 2 and len(sentences.labels) == 40
    splits = sentiment.encode_splits(sentences, seed=0, max_words=30, max_length=8)
    assert [len(splits[split][1]) for split in sentiment.SPLITS] == [32, 4, 4]
    train_rows = text_data.split_indices(40, 0)[0]
    for row, ids in zip(train_rows, splits["train"][0]):
        review = sentences.ids[row][:8]  # cut after 8 words, padded with 0 after the review
        assert list(ids) == review + [0] * (8 - len(review))


# ---------------------------------------------------------------- facts checked by hand


def test_bag_of_words_by_hand():
    ids = np.array([[2, 3, 3, 0], [1, 5, 0, 0], [0, 0, 0, 0]])
    expected = np.array([[0, 1, 1, 0, 0],    # columns: word ids 1 (unknown), 2, 3, 4, 5
                         [1, 0, 0, 0, 1],
                         [0, 0, 0, 0, 0]])   # padding alone is no word
    np.testing.assert_array_equal(text_classify.bag_of_words(ids, max_words=6), expected)


def test_bag_of_words_model_is_a_logistic_regression():
    model = text_classify.build_model("bow_logreg", max_words=6, n_classes=2)
    kernel = np.arange(10, dtype=np.float32).reshape(5, 2) / 10 - 0.4
    bias = np.array([0.3, -0.2], dtype=np.float32)
    model.set_weights([kernel, bias])
    bags = np.array([[0, 1, 1, 0, 0], [1, 0, 0, 0, 1]], dtype=np.float32)
    logits = bags @ kernel + bias
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(np.asarray(model(bags)), expected, rtol=1e-6)


def test_majority_class_by_hand():
    loss, accuracy = sentiment.majority_scores(np.array([0, 1, 1]), np.array([1, 0, 1, 1]), 2)
    assert accuracy == 0.75
    assert loss == pytest.approx(-(np.log(1 / 3) + 3 * np.log(2 / 3)) / 4)
    # A tie goes to the lower class; a class never seen in training costs the clipped log.
    loss, accuracy = sentiment.majority_scores(np.array([0, 1]), np.array([1, 2]), 3)
    assert accuracy == 0.0
    assert loss == pytest.approx(-(np.log(0.5) + np.log(1e-7)) / 2)


@pytest.mark.parametrize("name", ["bilstm_con", "lstm_forw"])
def test_padding_cannot_change_a_prediction(name):
    """The same sentence padded to 6 and to 15 words gets the same probabilities: the mask makes
    the LSTMs step over the pads. Without it (the control) the pads change them."""
    sentence = [7, 3, 9, 2]
    short, long = np.zeros((1, 6), dtype=np.int32), np.zeros((1, 15), dtype=np.int32)
    short[0, :4] = long[0, :4] = sentence
    masked = [text_classify.build_model(name, max_words=12, max_length=length, units=3,
                                        embedding_dim=4) for length in (6, 15)]
    unmasked = [without_mask(model) for model in masked]
    for models in (masked, unmasked):
        for model in models:
            training.load_initial(model, seed=5)  # the same weights: no shape depends on length
    np.testing.assert_allclose(np.asarray(masked[0](short)), np.asarray(masked[1](long)),
                               atol=1e-6)
    assert not np.allclose(np.asarray(unmasked[0](short)), np.asarray(unmasked[1](long)),
                           atol=1e-4)


def without_mask(model):
    """The same architecture with mask_zero off: the pads are read as words."""
    import keras

    config = model.get_config()
    for layer in config["layers"]:
        if layer["class_name"] == "Embedding":
            layer["config"]["mask_zero"] = False
    return keras.Sequential.from_config(config)


# ---------------------------------------------------------------- every reported number, by hand


def test_the_scores_of_every_split_by_hand():
    """The bag of words for one epoch in one batch, written out in NumPy: the training loss and
    accuracy are those of the seed's initial weights on the training sentences (fit logs them
    before its step); validation and test loss and accuracy those of the trained weights on the
    validation and on the test sentences."""
    from suite import weights

    split = {"train": ([[2, 3, 0, 0], [2, 4, 5, 0], [3, 3, 1, 0], [5, 0, 0, 0], [4, 2, 0, 0],
                        [1, 5, 0, 0]], [1, 1, 0, 0, 1, 0]),
             "val": ([[2, 5, 0, 0], [3, 1, 0, 0], [4, 0, 0, 0]], [1, 0, 0]),
             "test": ([[2, 2, 2, 0], [5, 3, 0, 0], [1, 0, 0, 0], [4, 5, 3, 2]], [1, 0, 1, 1])}
    data = {3: {name: (np.array(ids, dtype=np.int32), np.array(labels))
                for name, (ids, labels) in split.items()}}
    args = SimpleNamespace(max_words=6, n_classes=2, batch_size=8, epochs=1)
    built = []

    def build():
        built.append(text_classify.build_model("bow_logreg", max_words=6, n_classes=2))
        return built[-1]

    (row,), _, _, params = text_classify.train_seeds("bow_logreg", build, data, [3], args)
    initial = weights.initial_weights(built[0], 3)
    trained = [np.asarray(w) for w in built[0].get_weights()]

    def scores(kernel_and_bias, name):
        ids, labels = data[3][name]
        kernel, bias = (np.asarray(w, dtype=np.float64) for w in kernel_and_bias)
        bags = np.zeros((len(ids), 5))  # column j - 1 for word id j; pads (0) are no word
        for sentence, words in enumerate(ids):
            bags[sentence, [j - 1 for j in words if j > 0]] = 1
        logits = bags @ kernel + bias
        probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        chosen = probabilities[np.arange(len(labels)), labels]
        return [-np.log(chosen).mean(), np.mean(probabilities.argmax(axis=1) == labels)]

    assert (row["model"], row["seed"], row["epoch"], params) == ("bow_logreg", 3, 1, 5 * 2 + 2)
    np.testing.assert_allclose([row["loss"], row["accuracy"]], scores(initial, "train"),
                               rtol=1e-5)
    np.testing.assert_allclose([row["val_loss"], row["val_accuracy"]], scores(trained, "val"),
                               rtol=1e-5)
    np.testing.assert_allclose([row["test_loss"], row["test_accuracy"]],
                               scores(trained, "test"), rtol=1e-5)


# Two seeds of three epochs of one model; seed 1's least validation loss comes twice, at
# epochs 2 and 3; the least test loss comes at epoch 3 in both.
HAND_EPOCHS = pd.DataFrame(
    [("bilstm_con", 0, 1, 0.69, 0.50, 0.60, 0.55, 0.65, 0.50),
     ("bilstm_con", 0, 2, 0.50, 0.70, 0.40, 0.75, 0.45, 0.70),
     ("bilstm_con", 0, 3, 0.30, 0.90, 0.50, 0.70, 0.40, 0.60),
     ("bilstm_con", 1, 1, 0.68, 0.55, 0.50, 0.60, 0.52, 0.65),
     ("bilstm_con", 1, 2, 0.45, 0.75, 0.30, 0.80, 0.35, 0.80),
     ("bilstm_con", 1, 3, 0.25, 0.95, 0.30, 0.85, 0.30, 0.75)],
    columns=PER_EPOCH_COLUMNS)
# Labels per split; ids play no part in the majority's scores.
HAND_LABELS = {0: {"train": [0, 1, 1, 1], "val": [1, 0], "test": [0, 0, 1]},
               1: {"train": [1, 0, 0], "val": [0, 1, 1], "test": [0]}}


def hand_summary():
    data = {seed: {split: (None, np.array(labels)) for split, labels in splits.items()}
            for seed, splits in HAND_LABELS.items()}
    return sentiment.summarise(HAND_EPOCHS, data, [0, 1], {"bilstm_con": 100},
                               {"bilstm_con": {0: 1.5, 1: 2.5}}, n_classes=2)


def test_last_and_best_epoch_and_the_majority_by_hand():
    summary = hand_summary()
    assert list(summary.columns) == SUMMARY_COLUMNS
    rows = {(row.model, row.seed, row.stopped_at): row for row in summary.itertuples()}
    assert len(rows) == len(summary) == 2 * 2 * 2
    # After the last epoch: epoch 3's row; at the least validation loss: epoch 2 for seed 0
    # (0.40), and for seed 1 the first of its two epochs of 0.30.
    for seed, stopped_at, epoch in [(0, "last_epoch", 3), (0, "best_val_epoch", 2),
                                    (1, "last_epoch", 3), (1, "best_val_epoch", 2)]:
        row = rows["bilstm_con", seed, stopped_at]
        expected = HAND_EPOCHS[(HAND_EPOCHS["seed"] == seed) & (HAND_EPOCHS["epoch"] == epoch)]
        assert [getattr(row, column) for column in PER_EPOCH_COLUMNS[2:]] == pytest.approx(
            expected[PER_EPOCH_COLUMNS[2:]].iloc[0].tolist())
        assert (row.params, row.train_seconds) == (100, [1.5, 2.5][seed])
    # The majority: seed 0 trains on 1, 3 of 4 sentences, so its probabilities are 1/4, 3/4;
    # seed 1 on 0, 2 of 3, so 2/3, 1/3.
    log = np.log
    expected = {0: [-(log(1 / 4) + 3 * log(3 / 4)) / 4, 3 / 4,  # train: 1 0 1 1 right
                    -(log(3 / 4) + log(1 / 4)) / 2, 1 / 2,      # val: 1 right, 0 wrong
                    -(2 * log(1 / 4) + log(3 / 4)) / 3, 1 / 3],  # test: 0 0 wrong, 1 right
                1: [-(log(1 / 3) + 2 * log(2 / 3)) / 3, 2 / 3,
                    -(log(2 / 3) + 2 * log(1 / 3)) / 3, 1 / 3,
                    -log(2 / 3), 1.0]}
    for seed in (0, 1):
        for stopped_at in sentiment.STOPPED_AT:
            row = rows["majority", seed, stopped_at]
            assert (row.epoch, row.params, row.train_seconds) == (0, 0, 0.0)
            assert [row.loss, row.accuracy, row.val_loss, row.val_accuracy, row.test_loss,
                    row.test_accuracy] == pytest.approx(expected[seed])


def test_the_summary_table_and_the_comparison_show_means_over_seeds_by_hand():
    summary = hand_summary()
    lines = sentiment.summary_table(summary).splitlines()
    assert lines[0].split() == ["stopped_at", "model", "runs", "params", "epoch",
                                "val_accuracy", "test_accuracy", "test_loss"]
    table = {tuple(line.split()[:2]): line.split()[2:] for line in lines[1:5]}
    # Columns: runs, params, epoch, val_accuracy, test_accuracy, test_loss, each a mean over
    # the two seeds ± its standard deviation (ddof 1): |a - b| / sqrt(2).
    assert table["last_epoch", "bilstm_con"] == [
        "2", "100", "3.0", "±", "0.0", "0.775", "±", "0.106",  # 0.70, 0.85
        "0.675", "±", "0.106", "0.350", "±", "0.071"]  # 0.60, 0.75; 0.40, 0.30
    assert table["best_val_epoch", "bilstm_con"] == [
        "2", "100", "2.0", "±", "0.0", "0.775", "±", "0.035",  # 0.75, 0.80
        "0.750", "±", "0.071", "0.400", "±", "0.071"]  # 0.70, 0.80; 0.45, 0.35
    # The majority's test accuracy: (1/3 + 1) / 2 = 0.667, spread (2/3) / sqrt(2) = 0.471.
    assert table["best_val_epoch", "majority"][-6:-3] == ["0.667", "±", "0.471"]
    assert [line.split()[:2] for line in lines[1:5]] == [
        ["last_epoch", "bilstm_con"], ["best_val_epoch", "bilstm_con"],
        ["last_epoch", "majority"], ["best_val_epoch", "majority"]]
    # The claims: the mean over seeds of the paired difference, at each stopping point.
    from suite.claims import Claim

    comparison = sentiment.compare(summary, [Claim("bilstm_con", "majority", "test_accuracy")])
    assert comparison["stopped_at"].tolist() == list(sentiment.STOPPED_AT)
    assert comparison["difference"].tolist() == pytest.approx(
        [((0.60 - 1 / 3) + (0.75 - 1)) / 2, ((0.70 - 1 / 3) + (0.80 - 1)) / 2])


def test_what_a_run_prints_about_its_sentences_by_hand():
    """Seed 0 splits 10 sentences into rows 8 9 3 7 1 4 5 6 to train, 2 to validate and 0 to
    test; the sentences are put where that split takes them from."""
    texts = {0: "a good film with a twist", 2: "not good",
             8: "a good film", 9: "a bad film", 3: "good good fun", 7: "the film",
             1: "a dull plot", 4: "good acting", 5: "a film", 6: "long and dull"}
    assert [int(i) for i in np.concatenate(text_data.split_indices(10, 0))] == [
        8, 9, 3, 7, 1, 4, 5, 6, 2, 0]
    sentences = sentiment.Sentences("made up", np.arange(10) % 2, ["negative", "positive"],
                                    tokens=[texts[i].split() for i in range(10)])
    # Training words: a 4, film 4, good 4, dull 2 and seven words once, 11 in all. --max-words
    # 5 keeps 3 of them (a, film, good), which cover 4 of the test sentence's 6 words. 9 of the
    # 10 sentences have at most 3 words; the lengths' median is 3.
    assert sentiment.describe_vocabulary(sentences, 0, max_words=5, max_length=3) == (
        "Seed 0: its 8 training sentences hold 11 distinct words, 4 of them at least twice; "
        "the vocabulary of 5 ids covers 66.7% of its test sentences' words; 90.0% of the "
        "sentences have at most 3 words (median 3)")
    data = {0: sentiment.encode_splits(sentences, 0, 5, 3)}
    assert sentiment.describe_splits(sentences, data) == (
        "10 sentences, 8 to train, 1 to validate, 1 to test per seed")


# ---------------------------------------------------------------- refusals


def test_imdb_refused_in_one_line_when_its_download_fails(tmp_path):
    """keras.datasets.imdb with an empty Keras cache and every download sent to a closed port."""
    import keras

    proxy = "http://127.0.0.1:9"
    (tmp_path / "keras_home").mkdir()  # Keras would fall back to /tmp/.keras without it
    env = {**os.environ, "KERAS_HOME": str(tmp_path / "keras_home"),
           "KERAS_BACKEND": keras.backend.backend(), "TF_CPP_MIN_LOG_LEVEL": "3",
           "http_proxy": proxy, "https_proxy": proxy, "HTTP_PROXY": proxy, "HTTPS_PROXY": proxy,
           "no_proxy": "", "NO_PROXY": ""}
    completed = subprocess.run(
        [sys.executable, "-m", "text.text_classify", "--dataset", "imdb",
         "--output-dir", str(tmp_path / "out")],
        capture_output=True, text=True, env=env, timeout=300, check=False, cwd=REPOSITORY,
    )
    assert completed.returncode == 2, completed.stderr
    error = completed.stderr.strip()
    assert len(error.splitlines()) == 1, error
    assert "keras.datasets.imdb could not be loaded" in error and "network" in error
    assert not (tmp_path / "out").exists()


def test_corpus_that_cannot_be_fetched_is_one_line(tmp_path, monkeypatch, assert_flag_error):
    monkeypatch.setenv("BILSTM_DATA", str(tmp_path / "empty_cache"))
    not_a_deb = tmp_path / "python3-pattern.deb"
    not_a_deb.write_text("not a package")
    assert_flag_error(text_classify.main, ["--corpus-package", str(not_a_deb)],
                      "is not a Debian package")


def test_parse_args_reads_no_corpus(tmp_path, monkeypatch):
    """Flags are parsed and checked without fetching or reading a corpus (main loads it): a
    missing --data file and an empty cache without apt-get are no concern of parse_args."""
    monkeypatch.setenv(text_data.CACHE_VARIABLE, str(tmp_path / "empty_cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "no_programs"))
    for flags in (["--data", str(tmp_path / "missing.csv")], []):
        args = text_classify.parse_args(flags + ["--output-dir", str(tmp_path / "out")])
        assert args.data == (flags[1] if flags else None)
    assert not (tmp_path / "empty_cache").exists()


def test_a_run_larger_than_the_memory_is_refused_before_the_data_is_read(
        tmp_path, monkeypatch, assert_flag_error):
    """The script's own estimate (sentiment.memory) against 1 GiB of memory, provoked: 10**8
    words of 16 floats, with Adam's two moments and a gradient, are about 24 GiB."""
    monkeypatch.setattr(resources, "available_memory", lambda: 2**30)
    assert_flag_error(text_classify.main, ["--max-words", str(10**8),
                                           "--data", str(tmp_path / "missing.csv")],
                      "argument --max-words: this run would hold about 23.8 GiB at once (the "
                      "embedding table")


def write_one_label(tmp_path):
    path = tmp_path / "one_label.csv"
    path.write_text("1,good\n1,fine\n")
    return path


@pytest.mark.parametrize("flags, named", [
    (["--epochs", "0"], "--epochs"),
    (["--batch-size", "none"], "--batch-size"),
    (["--units", "2.5"], "--units"),
    (["--embedding-dim", "0"], "--embedding-dim"),
    (["--max-words", "2"], "--max-words"),
    (["--max-words", str(10**13)], "--max-words"),
    (["--max-length", "-3"], "--max-length"),
    (["--repeats", "0"], "--repeats"),
    (["--seed", "-1"], "--seed"),
    (["--model", "gru"], "--model"),
    (["--model", "lstm_forw", "lstm_forw"], "--model"),
    (["--dataset", "mnist"], "--dataset"),
    (["--dataset", "imdb", "--data", "x.csv"], "--data"),
    (["--data", "no_such_file.csv"], "no_such_file.csv"),
    (["--no-such-flag"], "unrecognized"),
])
def test_bad_flags_exit_2_with_one_line_and_write_nothing(flags, named, assert_flag_error):
    assert_flag_error(text_classify.main, flags, named)


def test_data_with_one_label_is_refused(tmp_path, assert_flag_error):
    assert_flag_error(text_classify.main, ["--data", str(write_one_label(tmp_path))],
                      "at least two labels")


def test_data_too_small_to_split_is_refused(tmp_path, assert_flag_error):
    path = tmp_path / "small.csv"
    path.write_text("1,good\n-1,bad\n1,fine\n")
    assert_flag_error(text_classify.main, ["--data", str(path), *TINY], "too few")
