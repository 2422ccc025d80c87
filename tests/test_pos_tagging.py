"""text/pos_tagging.py: the reference, the cutting of lines, padding and masking, the backward
model's time order, a tiny run end to end and its command line, on small files written here in
the corpus's format (word/TAG separated by spaces, words that hold slashes included); and every
number the script reports, computed by hand on a few made-up lines."""

from collections import Counter
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from text import pos_tagging
from suite import text_data

WORDS = {"DT": ["the", "a", "every"], "NN": ["dog", "park", "walk", "fish"],
         "VBZ": ["walks", "sees", "fishes"], "JJ": ["big", "old"], "IN": ["in", "near"],
         "CD": ["1/2", "3/4", "12"], "CC": ["and/or", "and"], "NNP": ["Anna", "Ben"],
         "VB": ["walk", "fish"], "MD": ["can", "will"]}
PATTERNS = [["DT", "NN", "VBZ", "NNP", "IN", "DT", "JJ", "NN", "."],
            ["NNP", "MD", "VB", "IN", "DT", "NN", "."],
            ["CD", "NN", "CC", "NNP", "VBZ", "IN", "DT", "JJ", "JJ", "NN", "."]]


def tagged_lines(n_lines, seed=0):
    """Lines in the corpus's format from a small grammar; 'walk' and 'fish' are nouns and verbs,
    and every line names someone no other line names (a word unseen in training)."""
    rng = np.random.default_rng(seed)
    lines = []
    for line in range(n_lines):
        tags = PATTERNS[rng.integers(len(PATTERNS))] * int(rng.integers(1, 3))
        words = [{".": ".", "NNP": f"Name{seed}x{line}"}.get(tag) or rng.choice(WORDS[tag])
                 for tag in tags]
        lines.append(" ".join(f"{word}/{tag}" for word, tag in zip(words, tags)))
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpora")
    (folder / "tagged.txt").write_text(tagged_lines(40))
    (folder / "second.txt").write_text(tagged_lines(12, seed=1).replace("/NN ", "/NX ", 1))
    return folder


TINY = ["--epochs", "2", "--repeats", "2", "--units", "4", "--embedding-dim", "4",
        "--batch-size", "8", "--max-length", "16", "--max-words", "30", "--min-count", "1",
        "--quiet"]


# ---------------------------------------------------------------- the reference


def test_most_frequent_tag_with_ties_and_unknown_words():
    lines = [[("run", "DT"), ("run", "NN"), ("the", "DT"), ("dog", "NN")],
             [("set", "VB"), ("set", "VBN"), ("dog", "NN"), ("dog", "VB")],
             [("the", "DT"), ("cat", "NN")]]
    table, unknown_tag = pos_tagging.most_frequent_tags(lines)
    # Tags overall: NN 4, DT 3, VB 2, VBN 1.
    assert unknown_tag == "NN"
    assert table["dog"] == "NN"  # 2 of 3
    assert table["run"] == "NN"  # a tie (1 and 1) goes to the tag more frequent overall, not DT
    assert table["set"] == "VB"  # VB 2 overall, VBN 1
    assert pos_tagging.reference_tags(["the", "unicorn", "run"], table, unknown_tag) == [
        "DT", "NN", "NN"]


def test_ties_overall_go_to_the_first_tag_in_alphabetical_order():
    lines = [[("a", "X"), ("a", "B"), ("b", "B"), ("b", "X")]]
    table, unknown_tag = pos_tagging.most_frequent_tags(lines)
    assert unknown_tag == "B" and table == {"a": "B", "b": "B"}


# ---------------------------------------------------------------- cutting and padding


def test_long_lines_are_cut_into_pieces_and_no_word_is_lost():
    lines = [[(f"w{i}", "NN") for i in range(n)] for n in (20, 3, 8, 9)]
    vocabulary = {f"w{i}": i + 2 for i in range(20)}
    tokens = pos_tagging.encode_lines(lines, vocabulary, {"NN": 0}, set(), max_length=8)
    assert sorted(tokens.buckets) == [4, 8]
    index = np.concatenate([bucket[2][bucket[2] >= 0] for bucket in tokens.buckets.values()])
    assert sorted(index) == list(range(40))  # every word once
    pieces = sorted(int((bucket[2] >= 0).sum(axis=1)[row]) for bucket in tokens.buckets.values()
                    for row in range(len(bucket[2])))
    assert pieces == [1, 3, 4, 8, 8, 8, 8]  # 20 = 8 + 8 + 4, 9 = 8 + 1
    for X, _, idx in tokens.buckets.values():
        assert ((X != text_data.PAD) == (idx >= 0)).all()  # pads where no word is
    # Positions count from the ends of the whole line, not of its piece.
    assert tokens.from_start[:20].tolist() == list(range(1, 21))
    assert tokens.from_end[:20].tolist() == list(range(20, 0, -1))


def test_training_batches_fill_whole_batches_and_start_with_two_widths():
    lines = [[("w", "NN")] * n for n in [2] * 13 + [7] * 5]
    tokens = pos_tagging.encode_lines(lines, {"w": 2}, {"NN": 0}, set(), max_length=8)
    batches = pos_tagging.training_batches(tokens, 4, np.random.default_rng(0))
    assert [x.shape[0] for x, _, _ in batches] == [4] * len(batches)
    assert sorted(x.shape[1] for x, _, _ in batches) == [4] * 4 + [8] * 2
    assert batches[0][0].shape[1] != batches[1][0].shape[1]
    # Every word once, weight 1 on words and 0 on pads.
    assert sum(w.sum() for _, _, w in batches) == 13 * 2 + 5 * 7
    assert all(((x != 0) == (w == 1)).all() for x, _, w in batches)


# ---------------------------------------------------------------- the models


def tiny_model(name, seed=0):
    from suite import training

    return training.load_initial(pos_tagging.build_model(name, 12, 5, embedding_dim=3, units=4),
                                 seed)


SENTENCE = np.array([[5, 2, 9, 3, 7]], dtype=np.int32)


def predicted(model, batch):
    """The model's softmax outputs, heads stacked on a last axis (as word_probabilities does)."""
    out = model.predict_on_batch(batch)
    return np.stack(out, axis=-1) if isinstance(out, list) else np.asarray(out)[..., None]


def scored_on(model, batch, tags, weights):
    """Keras's loss (summed over the heads) and each head's accuracy, forward head first, as
    training counts them."""
    heads = len(model.outputs)
    if heads == 1:
        logs = model.test_on_batch(batch, tags, sample_weight=weights, return_dict=True)
        return logs["loss"], [logs["accuracy"]]
    logs = model.test_on_batch(batch, (tags,) * heads, sample_weight=(weights,) * heads,
                               return_dict=True)
    return logs["loss"], [logs[f"{layer}_accuracy"] for layer in ("forward_head",
                                                                  "backward_head")]


@pytest.mark.parametrize("name", pos_tagging.MODELS)
def test_pads_change_no_prediction_loss_or_accuracy(name):
    model = tiny_model(name)
    alone = predicted(model, SENTENCE)
    # The same sentence in a batch padded to 11 words beside a longer one and an empty row.
    batch = np.zeros((3, 11), dtype=np.int32)
    batch[0, :5] = SENTENCE[0]
    batch[1] = np.arange(1, 12)
    padded = predicted(model, batch)
    np.testing.assert_allclose(padded[0, :5], alone[0], atol=1e-6)
    # Loss and accuracy as training counts them: pads weigh nothing.
    tags = np.array([[1, 0, 4, 2, 1]], dtype=np.int32)
    loss_alone, right_alone = scored_on(model, SENTENCE, tags, np.ones((1, 5), "float32"))
    y = np.zeros_like(batch)
    y[0, :5] = tags[0]
    weights = np.zeros((3, 11), dtype="float32")
    weights[0, :5] = 1
    loss_padded, right_padded = scored_on(model, batch, y, weights)
    np.testing.assert_allclose([loss_padded, *right_padded], [loss_alone, *right_alone],
                               rtol=1e-5)
    # The script's own scores of the words agree with Keras's: the loss is the sum of the
    # heads' losses, and each head's accuracy its own.
    heads = [alone[0, ..., k] for k in range(alone.shape[-1])]  # forward head first
    loss = sum(pos_tagging.log_loss(head, tags[0]) for head in heads)
    right = [pos_tagging.accuracy(head.argmax(-1), tags[0]) for head in heads]
    np.testing.assert_allclose([loss, *right], [loss_alone, *right_alone], rtol=1e-5)


def test_word_probabilities_do_not_depend_on_the_padding():
    model = tiny_model("bilstm_con")
    lines = [[(f"w{i}", "NN") for i in range(n)] for n in (3, 6, 2, 5)]
    vocabulary = {f"w{i}": i + 2 for i in range(6)}

    def probabilities(max_length, batch_size):
        tokens = pos_tagging.encode_lines(lines, vocabulary, {"NN": 0}, set(), max_length)
        return pos_tagging.word_probabilities(model, tokens, batch_size)

    np.testing.assert_allclose(probabilities(6, 3), probabilities(12, 2), atol=1e-6)


def numpy_lstm(inputs, kernel, recurrent_kernel, bias):
    """Keras's LSTM written out: gates input, forget, cell, output; one output per input row."""
    units = recurrent_kernel.shape[0]
    h, c, outputs = np.zeros(units), np.zeros(units), []

    def sigmoid(z):
        return 1 / (1 + np.exp(-z))

    for x in inputs:
        z = x @ kernel + h @ recurrent_kernel + bias
        i, f, g, o = (z[k * units : (k + 1) * units] for k in range(4))
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        outputs.append(h)
    return np.array(outputs)


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("name", ["lstm_forw", "lstm_back_aligned", "bilstm_con"])
def test_outputs_are_in_time_order_against_a_numpy_lstm(name):
    model = tiny_model(name, seed=3)
    weights = [np.asarray(w, dtype=np.float64) for w in model.get_weights()]
    table, *lstm_weights, dense_kernel, dense_bias = weights
    embedded = table[SENTENCE[0]]
    # Each word's state after the words before it, and after the words after it (read from the
    # last word back), lined up with the word itself.
    forward = numpy_lstm(embedded, *lstm_weights[:3])
    backward = numpy_lstm(embedded[::-1], *lstm_weights[-3:])[::-1]
    states = {"lstm_forw": forward, "lstm_back_aligned": backward,
              "bilstm_con": np.concatenate([forward, backward], axis=1)}[name]
    expected = softmax(states @ dense_kernel + dense_bias)
    batch = np.zeros((2, 9), dtype=np.int32)  # padded after the words, as the batches are
    batch[0, :5] = SENTENCE[0]
    batch[1] = 4
    predicted = np.asarray(model.predict_on_batch(batch))[0, :5]
    np.testing.assert_allclose(predicted, expected, atol=1e-5)


# ---------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def tiny_run(corpora, tmp_path_factory):
    output = tmp_path_factory.mktemp("run")
    results = pos_tagging.main(TINY + ["--corpus", str(corpora / "tagged.txt"), "--wsj",
                                       str(corpora / "second.txt"), "--output-dir", str(output)])
    return output, results


def test_tiny_run_writes_the_tables_and_the_plot(tiny_run):
    output, results = tiny_run
    models = ["lstm_forw", "lstm_back_aligned", "bilstm_con"]
    epochs = pd.read_csv(output / "results" / "pos_tagging.csv")
    assert list(epochs.columns) == ["model", "seed", "epoch", "loss", "accuracy", "val_loss",
                                    "val_accuracy", "seconds"]
    assert list(epochs["model"].unique()) == models
    assert len(epochs) == 3 * 2 * 2 and epochs["epoch"].max() == 2
    assert epochs[["accuracy", "val_accuracy"]].stack().between(0, 1).all()
    summary = pd.read_csv(output / "results" / "pos_tagging_summary.csv")
    assert list(summary.columns) == ["model", "seed", "params", "test_accuracy",
                                     "unseen_accuracy", "wsj_accuracy", "wsj_unseen_accuracy",
                                     "train_seconds"]
    assert list(summary["model"].unique()) == ["most_frequent_tag"] + models
    assert summary["test_accuracy"].between(0, 1).all()
    comparison = pd.read_csv(output / "results" / "pos_tagging_comparison.csv")
    assert list(comparison.columns) == ["pair", "measure", "expected", "difference", "ci_low",
                                        "ci_high", "verdict"]
    assert len(comparison) == len(pos_tagging.claims_for(models))
    assert set(comparison["verdict"]) == {"too few seeds"}  # 2 seeds: no verdict
    by_tag = pd.read_csv(output / "results" / "pos_tagging_by_tag.csv")
    assert list(by_tag.columns) == ["model", "seed", "tag", "count", "accuracy"]
    by_position = pd.read_csv(output / "results" / "pos_tagging_by_position.csv")
    assert set(by_position["counted_from"]) == {"start", "end"}
    assert by_position["position"].max() == pos_tagging.POSITIONS
    assert (output / "plots" / "pos_tagging.png").stat().st_size > 10_000
    assert (output / "results" / "pos_tagging_run.csv").exists()
    assert (output / "results" / "pos_tagging_timing.csv").exists()


@pytest.mark.slow
def test_a_named_run_of_the_deeper_and_two_headed_taggers(corpora, tmp_path):
    """--name keeps the default run's files; the two-headed tagger gives three rows per seed
    (each head, and the mean of their probabilities), all with the whole model's weights; the
    wide BiLSTM has about as many weights as the stacked one."""
    models = ["bilstm_con", "bilstm_con_stacked", "bilstm_con_wide", "bilstm_none"]
    pos_tagging.main(TINY + ["--corpus", str(corpora / "tagged.txt"), "--no-wsj", "--model",
                             *models, "--name", "pos_tagging_depth", "--output-dir",
                             str(tmp_path)])
    assert not (tmp_path / "results" / "pos_tagging.csv").exists()
    assert (tmp_path / "plots" / "pos_tagging_depth.png").is_file()
    summary = pd.read_csv(tmp_path / "results" / "pos_tagging_depth_summary.csv")
    rows = ["most_frequent_tag", "bilstm_con", "bilstm_con_stacked", "bilstm_con_wide",
            "bilstm_none_forw", "bilstm_none_back", "bilstm_none_ave"]
    assert list(summary["model"].unique()) == rows
    params = summary.groupby("model", sort=False)["params"].first()
    assert params["bilstm_none_forw"] == params["bilstm_none_back"] == params["bilstm_none_ave"]
    assert params["bilstm_con"] < params["bilstm_con_wide"]
    assert abs(params["bilstm_con_wide"] - params["bilstm_con_stacked"]) < (
        params["bilstm_con_stacked"] - params["bilstm_con"]) / 4
    epochs = pd.read_csv(tmp_path / "results" / "pos_tagging_depth.csv")
    ave = epochs[epochs["model"] == "bilstm_none_ave"]
    assert ave["loss"].isna().all() and ave["val_loss"].notna().all()
    assert epochs[epochs["model"] == "bilstm_none_forw"]["loss"].notna().all()
    comparison = pd.read_csv(tmp_path / "results" / "pos_tagging_depth_comparison.csv")
    assert "bilstm_con_stacked - bilstm_con_wide" in set(comparison["pair"])
    assert "bilstm_con - bilstm_none_ave" in set(comparison["pair"])


def test_tiny_run_counts_every_test_word_once(tiny_run, corpora):
    output, _ = tiny_run
    sentences = text_data.read_tagged(corpora / "tagged.txt")
    by_tag = pd.read_csv(output / "results" / "pos_tagging_by_tag.csv", keep_default_na=False)
    by_position = pd.read_csv(output / "results" / "pos_tagging_by_position.csv")
    for seed in (0, 1):
        _, _, test = text_data.split_indices(len(sentences), seed)
        words = sum(len(sentences[i]) for i in test)
        for table in (by_tag, by_position[by_position["counted_from"] == "end"]):
            counts = table[(table["seed"] == seed)].groupby("model")["count"].sum()
            assert (counts == words).all()
    # The words holding slashes were read as words: 1/2 is a CD, and/or a CC.
    assert {"CD", "CC"} <= set(by_tag["tag"])


def test_tiny_run_reference_rows_equal_the_reference_by_hand(tiny_run, corpora):
    _, results = tiny_run
    sentences = text_data.read_tagged(corpora / "tagged.txt")
    train, _, test = text_data.split_indices(len(sentences), 0)
    table, unknown_tag = pos_tagging.most_frequent_tags([sentences[i] for i in train])
    pairs = [pair for i in test for pair in sentences[i]]
    right = [table.get(word, unknown_tag) == tag for word, tag in pairs]
    row = results.summary[(results.summary["model"] == "most_frequent_tag")
                          & (results.summary["seed"] == 0)]
    assert row["test_accuracy"].item() == pytest.approx(np.mean(right))
    # The second test set has a tag (NX) the tag set lacks: its word counts as wrong.
    assert results.summary["wsj_accuracy"].lt(1).all()
    assert results.summary["unseen_accuracy"].notna().all()


def test_a_run_without_the_second_test_set(corpora, tmp_path):
    results = pos_tagging.main(["--epochs", "1", "--repeats", "1", "--units", "2",
                                "--embedding-dim", "2", "--model", "lstm_forw", "--no-wsj",
                                "--quiet", "--corpus", str(corpora / "tagged.txt"),
                                "--output-dir", str(tmp_path)])
    assert "wsj_accuracy" not in results.summary
    assert set(results.comparison["measure"]) == {"test_accuracy", "unseen_accuracy"}


def test_a_seed_gives_the_same_run_whatever_pythons_global_generator_holds(corpora, tmp_path):
    """The batches come in the seed's own order: fit must not shuffle them again with Python's
    global `random` (which Keras's fit uses when it shuffles a PyDataset)."""
    import random

    runs = []
    for global_seed in (1, 2):
        random.seed(global_seed)
        folder = tmp_path / str(global_seed)
        pos_tagging.main(["--epochs", "2", "--repeats", "1", "--units", "2", "--embedding-dim",
                          "2", "--batch-size", "4", "--model", "lstm_forw", "--no-wsj",
                          "--quiet", "--corpus", str(corpora / "tagged.txt"),
                          "--output-dir", str(folder)])
        runs.append(pd.read_csv(folder / "results" / "pos_tagging.csv").drop(columns="seconds"))
    pd.testing.assert_frame_equal(runs[0], runs[1])


# ---------------------------------------------------------------- every reported number, by hand
#
# Each number the script reports, computed here by hand on a few made-up lines: the accuracy on
# every test word and on the unseen ones, on both test sets (`summary_row`); the tables by tag and
# by position (`breakdown_rows`); the reference (`prepare_seed`, `score_reference`); the scores of
# an epoch (`train_seed`); and the means the printed tables show.

TAG_IDS = {"DT": 0, "JJ": 1, "NN": 2, "VB": 3}
TAG_NAMES = list(TAG_IDS)


def pairs_of(line):
    """'the/DT dog/NN' as [('the', 'DT'), ('dog', 'NN')]."""
    return [tuple(token.rsplit("/", 1)) for token in line.split()]


def tokens_of(lines, training_words=(), max_length=8):
    return pos_tagging.encode_lines([pairs_of(line) for line in lines], {}, TAG_IDS,
                                    set(training_words), max_length)


def predictions(tokens, right):
    """Tag ids: the true one where `right` holds 1, another one where it holds 0."""
    wrong = (np.maximum(tokens.tags, 0) + 1) % len(TAG_IDS)
    return np.where(np.array(right, dtype=bool), tokens.tags, wrong)


def test_accuracy_on_every_word_and_on_the_unseen_ones_by_hand():
    training_words = {"the", "dog", "runs"}
    test = tokens_of(["the/DT cat/NN runs/VB", "a/DT dog/NN"], training_words)
    # VBZ is not in the tag set: no model predicts it, so its word is always wrong.
    wsj = tokens_of(["the/DT big/JJ dog/NN", "walks/VBZ fast/JJ"], training_words)
    validation = tokens_of(["the/DT dog/NN", "a/DT cat/NN"], training_words)
    assert test.unseen.tolist() == [False, True, False, True, False]  # cat, a
    assert wsj.unseen.tolist() == [False, True, False, True, True]  # big, walks, fast
    data = pos_tagging.SeedData(7, None, validation, test, wsj, {})
    predicted = {"test": predictions(test, [1, 0, 1, 1, 1]),  # cat wrong
                 "wsj": predictions(wsj, [1, 1, 0, 0, 1])}  # dog and walks wrong
    row = pos_tagging.summary_row("lstm_forw", data, predicted, params=12, seconds=3.5)
    assert list(row) == ["model", "seed", "params", "test_accuracy", "unseen_accuracy",
                         "wsj_accuracy", "wsj_unseen_accuracy", "train_seconds"]
    assert (row["model"], row["seed"], row["params"], row["train_seconds"]) == (
        "lstm_forw", 7, 12, 3.5)
    assert row["test_accuracy"] == pytest.approx(4 / 5)
    assert row["unseen_accuracy"] == pytest.approx(1 / 2)  # cat wrong, a right
    assert row["wsj_accuracy"] == pytest.approx(3 / 5)
    assert row["wsj_unseen_accuracy"] == pytest.approx(2 / 3)  # big and fast right, walks wrong
    # Without a second test set there are no WSJ columns.
    data.wsj = None
    row = pos_tagging.summary_row("lstm_forw", data, {"test": predicted["test"]}, 12, 3.5)
    assert "wsj_accuracy" not in row and row["test_accuracy"] == pytest.approx(4 / 5)


def test_accuracy_by_tag_and_by_position_by_hand():
    # The third line, of 11 words, is cut into pieces of 8 and 3 words, and its words 10 and 11
    # from either end count as position 10.
    lines = ["the/DT dog/NN runs/VB", "go/VB",
             "a/DT b/NN c/VB d/DT e/NN f/VB g/DT h/NN i/VB j/DT k/VB"]
    tokens = tokens_of(lines)
    right = [1, 0, 1,
             0,
             0, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0]
    data = pos_tagging.SeedData(0, None, None, tokens, None, {})
    by_tag, by_position = pos_tagging.breakdown_rows("bilstm_con", data,
                                                     predictions(tokens, right), TAG_NAMES)
    # DT: the, a, d, g, j (a wrong); NN: dog, b, e, h (dog wrong); VB: runs, go, c, f, i, k
    # (go, i and k wrong); no JJ in the test lines, so no JJ row.
    assert [(row["tag"], row["count"]) for row in by_tag] == [("DT", 5), ("NN", 4), ("VB", 6)]
    assert [row["accuracy"] for row in by_tag] == pytest.approx([4 / 5, 3 / 4, 3 / 6])
    assert {(row["model"], row["seed"]) for row in by_tag + by_position} == {("bilstm_con", 0)}
    table = {(row["counted_from"], row["position"]): (row["count"], row["accuracy"])
             for row in by_position}
    assert len(by_position) == len(table) == 2 * pos_tagging.POSITIONS
    expected = {
        # From the start: 1 = the, go, a; 2 = dog, b; 3 = runs, c; 4 to 9 = d to i;
        # 10 = j, k.
        ("start", 1): (3, 1 / 3), ("start", 2): (2, 1 / 2), ("start", 3): (2, 2 / 2),
        **{("start", position): (1, 1.0) for position in range(4, 9)},
        ("start", 9): (1, 0.0), ("start", 10): (2, 1 / 2),
        # From the end: 1 = runs, go, k; 2 = dog, j; 3 = the, i; 4 to 9 = h back to c;
        # 10 = b, a.
        ("end", 1): (3, 1 / 3), ("end", 2): (2, 1 / 2), ("end", 3): (2, 1 / 2),
        **{("end", position): (1, 1.0) for position in range(4, 10)},
        ("end", 10): (2, 1 / 2),
    }
    assert sorted(table) == sorted(expected)
    for key, (count, accuracy) in expected.items():
        assert table[key] == (count, pytest.approx(accuracy)), key
    # A position no word reaches has count 0 and no accuracy.
    _, by_position = pos_tagging.breakdown_rows("bilstm_con", pos_tagging.SeedData(
        0, None, None, tokens_of(["go/VB"]), None, {}), np.array([3]), TAG_NAMES)
    assert by_position[1]["count"] == 0 and np.isnan(by_position[1]["accuracy"])


# Eight training lines, one validation line and one test line of a made-up corpus; `placed`
# puts each where seed 0's split of ten lines takes it from.
TRAINING_LINES = ["the/DT dog/NN runs/VB", "the/DT cat/NN sleeps/VB", "a/DT dog/NN walks/VB",
                  "dogs/NN run/VB", "the/DT run/NN ends/VB", "cats/NN run/VB fast/JJ",
                  "the/DT old/JJ dog/NN", "old/NN dogs/NN sleep/VB"]
VALIDATION_LINE = "a/DT run/NN ends/VB"
TEST_LINE = "the/DT old/JJ cat/NN sings/VB songs/NN"
WSJ_LINES = ["dogs/NN run/VB", "birds/NN fly/VB"]


def placed():
    """The ten lines in the order that makes seed 0's split what the names above say."""
    train, validation, test = text_data.split_indices(10, 0)
    lines = [None] * 10
    for index, line in zip([*train, *validation, *test],
                           [*TRAINING_LINES, VALIDATION_LINE, TEST_LINE]):
        lines[index] = pairs_of(line)
    return lines


def seed_args(**flags):
    return SimpleNamespace(**{"train_lines": 0, "max_words": 30, "min_count": 2,
                              "max_length": 8, "epochs": 1, "batch_size": 8, **flags})


def word_ids(tokens):
    """Every word's id in the padded pieces, in line order."""
    ids = np.full(len(tokens.words), -1)
    for X, _, index in tokens.buckets.values():
        ids[index[index >= 0]] = X[index >= 0]
    return ids


def test_the_reference_and_the_unseen_words_by_hand():
    """Tags in the training lines: NN 9, VB 7, DT 5, JJ 2, so an unknown word gets NN; `run` is
    VB twice and NN once; `old` is JJ once and NN once, a tie that goes to NN."""
    wsj = [pairs_of(line) for line in WSJ_LINES]
    data = pos_tagging.prepare_seed(0, placed(), wsj, TAG_IDS, seed_args())
    assert data.test.words == ["the", "old", "cat", "sings", "songs"]
    # cat is in one training line: too rare for the vocabulary (--min-count 2), but not unseen.
    assert data.test.unseen.tolist() == [False, False, False, True, True]
    assert word_ids(data.test)[2] == text_data.UNKNOWN
    assert data.wsj.unseen.tolist() == [False, False, True, True]
    ids = [TAG_IDS[tag] for tag in ("DT", "NN", "NN", "NN", "NN")]
    np.testing.assert_array_equal(data.reference["test"], ids)  # right: the, cat, songs
    np.testing.assert_array_equal(data.reference["validation"],
                                  [TAG_IDS[tag] for tag in ("DT", "VB", "VB")])  # run wrong
    np.testing.assert_array_equal(data.reference["wsj"],
                                  [TAG_IDS[tag] for tag in ("NN", "VB", "NN", "NN")])  # fly wrong
    rows = pos_tagging.Rows()
    # A second seed, made by hand, whose validation line the reference gets half right.
    second = pos_tagging.SeedData(1, None, tokens_of(["the/DT dog/NN"]), data.test, data.wsj,
                                  {**data.reference, "validation": np.array([0, 0])})
    validation_accuracy = pos_tagging.score_reference([data, second], TAG_NAMES, rows)
    assert validation_accuracy == pytest.approx((2 / 3 + 1 / 2) / 2)
    row = rows.summary[0]
    assert (row["model"], row["seed"], row["params"]) == ("most_frequent_tag", 0, 0)
    assert row["test_accuracy"] == pytest.approx(3 / 5)
    assert row["unseen_accuracy"] == pytest.approx(1 / 2)  # sings wrong, songs right
    assert row["wsj_accuracy"] == pytest.approx(3 / 4)
    assert row["wsj_unseen_accuracy"] == pytest.approx(1 / 2)
    assert [(r["tag"], r["count"], r["accuracy"]) for r in rows.by_tag if r["seed"] == 0] == [
        ("DT", 1, 1.0), ("JJ", 1, 0.0), ("NN", 2, 1.0), ("VB", 1, 0.0)]
    # With --train-lines 2 the run trains on the first two training lines only: a word of the
    # others is unseen.
    data = pos_tagging.prepare_seed(0, placed(), wsj, TAG_IDS, seed_args(train_lines=2))
    assert data.test.unseen.tolist() == [False, True, False, True, True]


def numpy_tagger(weights, ids):
    """The forward tagger written out: embedding, LSTM, softmax over the tags."""
    table, kernel, recurrent_kernel, bias, dense_kernel, dense_bias = weights
    return softmax(numpy_lstm(table[ids], kernel, recurrent_kernel, bias) @ dense_kernel
                   + dense_bias)


def line_probabilities(weights, tokens):
    """Every word's probabilities, each line read alone, with no padding."""
    lines = np.split(word_ids(tokens), np.flatnonzero(tokens.from_start == 1)[1:])
    return np.concatenate([numpy_tagger(weights, ids) for ids in lines])


def test_the_scores_of_an_epoch_by_hand():
    """One epoch in one batch: training loss and accuracy are those of the initial weights on
    the training words; validation loss and accuracy, and the predicted tags of both test sets,
    those of the trained weights, each line read alone."""
    from suite import training

    args = seed_args(min_count=1)
    data = pos_tagging.prepare_seed(0, placed(), [pairs_of(line) for line in WSJ_LINES],
                                    TAG_IDS, args)
    model = pos_tagging.build_model("lstm_forw", args.max_words, len(TAG_IDS), embedding_dim=3,
                                    units=4)
    optimizer_initial = training.optimizer_state(model)
    initial = [np.asarray(w, dtype=np.float64)
               for w in training.load_initial(model, 0).get_weights()]
    rows, predicted = pos_tagging.train_seed(model, data, args, optimizer_initial, Counter())
    (row,), predicted = rows["lstm_forw"], predicted["lstm_forw"]
    trained = [np.asarray(w, dtype=np.float64) for w in model.get_weights()]

    def scores(weights, tokens):
        probabilities = line_probabilities(weights, tokens)
        chosen = probabilities[np.arange(len(tokens.tags)), tokens.tags]
        return -np.log(chosen).mean(), np.mean(probabilities.argmax(-1) == tokens.tags)

    assert len(data.train.tags) == 23 and len(data.validation.tags) == 3
    np.testing.assert_allclose([row["loss"], row["accuracy"]], scores(initial, data.train),
                               rtol=1e-5)
    np.testing.assert_allclose([row["val_loss"], row["val_accuracy"]],
                               scores(trained, data.validation), rtol=1e-5)
    for name in ("test", "wsj"):
        tokens = getattr(data, name)
        np.testing.assert_array_equal(predicted[name],
                                      line_probabilities(trained, tokens).argmax(-1))


def cells(line):
    """A printed row's cells, numbers as numbers."""
    def cell(text):
        try:
            return float(text)
        except ValueError:
            return text

    return [cell(text) for text in line.split()]


def test_the_printed_tables_show_the_means_over_seeds():
    summary = pd.DataFrame({"model": ["most_frequent_tag"] * 2 + ["bilstm_con"] * 2,
                            "seed": [0, 1, 0, 1], "params": [0, 0, 9, 9],
                            "test_accuracy": [1 / 2, 3 / 4, 3 / 5, 3 / 5],
                            "unseen_accuracy": [1 / 4, 1 / 2, 1 / 10, 3 / 10],
                            "train_seconds": [0.0, 0.0, 1.0, 3.0]})
    lines = pos_tagging.summary_table(summary).splitlines()
    # Means 0.625 and 0.375, standard deviations (ddof 1) 0.25 / sqrt(2) = 0.177.
    assert cells(lines[1]) == ["most_frequent_tag", 0.625, "±", 0.177, 0.375, "±", 0.177,
                               0.0, "±", 0.0]
    assert cells(lines[2]) == ["bilstm_con", 0.6, "±", 0.0, 0.2, "±", 0.141, 2.0, "±", 1.414]
    rows = [{"model": model, "seed": seed, "counted_from": counted_from, "position": position,
             "accuracy": accuracy}
            for model, seed, counted_from, position, accuracy in [
                ("bilstm_con", 0, "start", 1, 1 / 2), ("bilstm_con", 1, "start", 1, 1 / 4),
                ("bilstm_con", 0, "start", 2, 1.0), ("bilstm_con", 1, "start", 2, np.nan),
                ("bilstm_con", 0, "end", 1, 0.0), ("bilstm_con", 1, "end", 1, 1 / 3)]]
    lines = pos_tagging.position_table(pd.DataFrame(rows)).splitlines()
    # (1/2 + 1/4) / 2 = 0.375; a seed with no word at a position has no accuracy to average.
    assert [cells(line) for line in lines[2:5]] == [["start", 1, 0.375], [2, 1.0],
                                                    ["end", 1, 0.167]]


def by_tag_rows(rows):
    return pd.DataFrame([{"model": model, "seed": seed, "tag": tag, "count": count,
                          "accuracy": accuracy}
                         for model, seed, tag, count, accuracy in rows])


def test_tag_gain_table_by_hand():
    by_tag = by_tag_rows([
        ("bilstm_con", 0, "NN", 4, 3 / 4), ("lstm_forw", 0, "NN", 4, 2 / 4),
        ("bilstm_con", 1, "NN", 6, 5 / 6), ("lstm_forw", 1, "NN", 6, 3 / 6),
        ("bilstm_con", 0, "VB", 2, 1 / 2), ("lstm_forw", 0, "VB", 2, 1 / 2),
        ("bilstm_con", 1, "VB", 4, 4 / 4), ("lstm_forw", 1, "VB", 4, 1 / 4)])
    lines = pos_tagging.tag_gain_table(by_tag).splitlines()
    # NN: words (4 + 6) / 2 = 5; gained (3 - 2 + 5 - 3) / 2 = 1.5 words, accuracies
    # (1/2 + 1/2) / 2 = 0.5 and (3/4 + 5/6) / 2 = 0.792. VB: 3 words; gained (0 + 3) / 2 = 1.5;
    # (1/2 + 1/4) / 2 = 0.375 and (1/2 + 1) / 2 = 0.75.
    assert lines[0].split() == ["words", "lstm_forw", "bilstm_con", "words_gained"]
    assert [cells(line) for line in lines[2:4]] == [["NN", 5.0, 0.5, 0.792, 1.5],
                                                    ["VB", 3.0, 0.375, 0.75, 1.5]]
    assert "3.0 words gained in all per test set" in lines[-1]


def test_tag_gain_table_counts_a_tag_missing_from_a_test_set_as_no_words():
    by_tag = by_tag_rows([
        ("bilstm_con", 0, "NN", 4, 3 / 4), ("lstm_forw", 0, "NN", 4, 2 / 4),
        ("bilstm_con", 1, "NN", 4, 3 / 4), ("lstm_forw", 1, "NN", 4, 2 / 4),
        # Seed 0's test lines hold two FW words, the BiLSTM tags both right, the forward LSTM
        # neither; seed 1's hold none: per test set, 1 FW word and 1 word gained on average.
        ("bilstm_con", 0, "FW", 2, 1.0), ("lstm_forw", 0, "FW", 2, 0.0)])
    lines = pos_tagging.tag_gain_table(by_tag).splitlines()
    rows = {cells(line)[0]: cells(line) for line in lines[2:4]}
    assert rows["FW"][1] == 1.0 and rows["FW"][-1] == 1.0
    assert "2.0 words gained in all per test set" in lines[-1]  # 1 (NN) + 1 (FW)


# ---------------------------------------------------------------- command line


@pytest.mark.parametrize("flags, named", [
    (["--epochs", "0"], "--epochs"),
    (["--model", "lstm_back"], "--model"),
    (["--model", "lstm_forw", "lstm_forw"], "--model"),
    (["--max-length", "1"], "--max-length"),
    (["--learning-rate", "2"], "--learning-rate"),
    (["--batch-size", "x"], "--batch-size"),
    (["--name", "../results"], "--name"),
    (["--name", "text_classify"], "--name"),
])
def test_bad_flags_exit_2_with_one_line(flags, named, corpora, assert_flag_error):
    assert_flag_error(pos_tagging.main, flags + ["--corpus", str(corpora / "tagged.txt"),
                                                 "--no-wsj"], named)


@pytest.mark.parametrize("content, named", [
    (None, "missing.txt"),
    ("the/DT dog NN\n" * 20, "'dog'"),
    ("the/DT dog/NN\n" * 3, "at least 10"),
])
def test_bad_corpus_exits_2_with_one_line(content, named, tmp_path, assert_flag_error):
    path = tmp_path / "missing.txt"
    if content is not None:
        path = tmp_path / "bad.txt"
        path.write_text(content)
    assert_flag_error(pos_tagging.main, ["--corpus", str(path), "--no-wsj"], named)


def test_parse_args_reads_no_corpus(tmp_path, monkeypatch):
    """Flags are parsed and checked without fetching or reading a corpus (main loads them): a
    missing --corpus file and an empty cache without apt-get are no concern of parse_args."""
    monkeypatch.setenv(text_data.CACHE_VARIABLE, str(tmp_path / "empty_cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "no_programs"))
    for flags in (["--corpus", str(tmp_path / "missing.txt"), "--no-wsj"], []):
        args = pos_tagging.parse_args(flags + ["--output-dir", str(tmp_path / "out")])
        assert args.no_wsj == bool(flags)
    assert not (tmp_path / "empty_cache").exists()


def test_a_corpus_that_cannot_be_fetched_is_one_line(tmp_path, monkeypatch, assert_flag_error):
    """No corpus in the cache and no apt-get on PATH: one line that says what to do, exit 2."""
    monkeypatch.setenv(text_data.CACHE_VARIABLE, str(tmp_path / "empty_cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "no_programs"))
    assert_flag_error(pos_tagging.main, [], "apt-get is not on this machine")
    assert not (tmp_path / "empty_cache").exists() or not any((tmp_path / "empty_cache").iterdir())
