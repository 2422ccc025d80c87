"""The sentiment classifier in plain PyTorch (pytorch/text_classify_pytorch.py) against Keras's.

Skipped without PyTorch (`make test-torch` installs it). The draws made without Keras against
Keras's; the weight mapping on a hand-made layout; one forward pass of both models against
Keras's with the same weights, padding and an empty sentence included; SpatialDropout1D's
masks; a whole training run with dropout off against Keras's `fit` on JAX, number for number;
the one place where Keras on TensorFlow trains differently; the script's files, its comparison
with a Keras run, and that it never imports Keras. No corpus and no network needed.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest

from suite import pytorch_port, sentiment, weights
from text import text_classify
from test_text_classify import PER_EPOCH_COLUMNS, SUMMARY_COLUMNS, write_corpus_format

REPOSITORY = Path(__file__).resolve().parent.parent
# A small run: 48 sentences written in the corpus's format, batches of 5 (the last one short).
SMALL = ["--repeats", "1", "--epochs", "3", "--units", "3", "--embedding-dim", "4",
         "--max-words", "30", "--max-length", "8", "--batch-size", "5", "--quiet"]
SCORES = PER_EPOCH_COLUMNS[3:]


@pytest.fixture(scope="module")
def port():
    pytest.importorskip("torch", reason="PyTorch is optional: make test-torch installs it")
    from pytorch import text_classify_pytorch

    return text_classify_pytorch


@pytest.fixture(scope="module")
def sentences(tmp_path_factory):
    return write_corpus_format(tmp_path_factory.mktemp("sentences") / "sentences.csv")


@pytest.fixture(scope="module")
def small(port, sentences, tmp_path_factory):
    """The small run's parsed flags and seed 0's splits."""
    args = port.parse_args(SMALL + ["--data", str(sentences), "--output-dir",
                                    str(tmp_path_factory.mktemp("unused"))])
    read = sentiment.read_sentences(args)
    args.n_classes = read.n_classes
    return args, sentiment.encode_splits(read, 0, args.max_words, args.max_length)


def keras_model(name, args, dropout=0.4):
    return text_classify.build_model(name, args.max_words, args.max_length, args.embedding_dim,
                                     args.units, args.n_classes, dropout=dropout)


def load(port, name, args, keras_weights):
    model = port.SentimentModel(name, args.max_words, args.embedding_dim, args.units,
                                args.n_classes)
    model.load_state_dict({key: port.torch.from_numpy(value) for key, value in
                           pytorch_port.torch_text_state(name, keras_weights).items()})
    return model


def probabilities(port, model, ids, keep=None):
    model.eval()
    with port.torch.no_grad():
        return model(port.torch.from_numpy(ids.astype(np.int64)), keep).numpy()


# ---------------------------------------------------------------- weights


@pytest.mark.parametrize("name", list(pytorch_port.TEXT_MODELS))
def test_the_draws_without_keras_equal_keras_draws(port, small, name):
    args, _ = small
    model = keras_model(name, args)
    for seed in (0, 7):
        drawn = pytorch_port.keras_text_initial_weights(
            name, seed, args.max_words, args.embedding_dim, args.units, args.n_classes)
        for ours, theirs in zip(drawn, weights.initial_weights(model, seed), strict=True):
            np.testing.assert_array_equal(ours, theirs)


def test_the_mapping_keeps_the_embedding_table_and_transposes_the_rest():
    """Hand-made values that name their place: the table's row i is word id i's vector in both
    libraries; every LSTM and Dense matrix is transposed."""
    table = np.arange(5 * 2, dtype=np.float32).reshape(5, 2)
    units = 3
    lstm = [np.arange(2 * 4 * units, dtype=np.float32).reshape(2, 4 * units),
            np.arange(units * 4 * units, dtype=np.float32).reshape(units, 4 * units),
            -np.arange(4 * units, dtype=np.float32)]
    dense = [np.arange(2 * units * 2, dtype=np.float32).reshape(2 * units, 2),
             np.array([7.0, 8.0], np.float32)]
    state = pytorch_port.torch_text_state("bilstm_con", [table, *lstm, *[w + 0.5 for w in lstm],
                                                         *dense])
    np.testing.assert_array_equal(state["embedding.weight"], table)
    np.testing.assert_array_equal(state["lstm.weight_ih_l0"], lstm[0].T)
    np.testing.assert_array_equal(state["lstm.weight_hh_l0_reverse"], lstm[1].T + 0.5)
    np.testing.assert_array_equal(state["lstm.bias_hh_l0_reverse"], np.zeros(4 * units))
    np.testing.assert_array_equal(state["dense.weight"], dense[0].T)
    with pytest.raises(ValueError, match="lstm_forw has 6 Keras weights"):
        pytorch_port.torch_text_state("lstm_forw", [table, *lstm, *lstm, *dense])


# ---------------------------------------------------------------- the models against Keras's


@pytest.mark.parametrize("name", list(pytorch_port.TEXT_MODELS))
def test_one_forward_pass_equals_the_keras_model_with_the_same_weights(port, small, name):
    """Padded sentences of every length, an empty one among them (Keras's masked LSTM keeps its
    zero state), with the initial weights and with random ones everywhere."""
    args, splits = small
    ids = splits["train"][0][:12].copy()
    ids[0] = 0  # a sentence with no word
    ids[1] = np.arange(2, 2 + args.max_length)  # one with no padding
    model = keras_model(name, args)
    rng = np.random.default_rng(3)
    initial = pytorch_port.keras_text_initial_weights(name, 4, args.max_words,
                                                      args.embedding_dim, args.units)
    for keras_weights in (initial, [rng.normal(0, 0.5, w.shape).astype(np.float32)
                                    for w in initial]):
        model.set_weights(keras_weights)
        expected = keras.ops.convert_to_numpy(model(ids, training=False))
        np.testing.assert_allclose(probabilities(port, load(port, name, args, keras_weights), ids),
                                   expected, atol=1e-6, rtol=0)


def test_padding_never_reaches_the_lstm(port, small):
    """The pad's row of the table changed to anything: no prediction changes."""
    args, splits = small
    keras_weights = pytorch_port.keras_text_initial_weights("bilstm_con", 0, args.max_words,
                                                            args.embedding_dim, args.units)
    ids = splits["train"][0]
    assert (ids == 0).any()
    before = probabilities(port, load(port, "bilstm_con", args, keras_weights), ids)
    keras_weights[0][0] = 9.0
    after = probabilities(port, load(port, "bilstm_con", args, keras_weights), ids)
    np.testing.assert_allclose(after, before, atol=1e-7)


def test_the_dropout_drops_whole_embedding_channels(port, small):
    """A mask that keeps channel 0 only gives the predictions of a table whose other columns are
    zero, at every word (SpatialDropout1D's noise_shape (batch, 1, channels)), scaled by the mask's
    1 / (1 - rate)."""
    args, splits = small
    keras_weights = pytorch_port.keras_text_initial_weights("lstm_forw", 0, args.max_words,
                                                            args.embedding_dim, args.units)
    ids = splits["train"][0]
    keep = np.zeros((len(ids), 1, args.embedding_dim), np.float32)
    keep[..., 0] = 2.5
    dropped = probabilities(port, load(port, "lstm_forw", args, keras_weights), ids,
                            port.torch.from_numpy(keep))
    keras_weights[0][:, 1:] = 0
    keras_weights[0][:, 0] *= 2.5
    np.testing.assert_allclose(dropped, probabilities(
        port, load(port, "lstm_forw", args, keras_weights), ids), atol=1e-7)


def test_a_dropout_mask_is_one_per_sentence_and_channel(port):
    mask = port.spatial_dropout_mask(np.random.default_rng(0), 500, 16, 0.4).numpy()
    assert mask.shape == (500, 1, 16)
    assert set(np.unique(mask)) == {0.0, np.float32(1 / 0.6)}
    assert abs((mask == 0).mean() - 0.4) < 0.02
    assert port.spatial_dropout_mask(np.random.default_rng(0), 5, 16, 0.0) is None


# Keras's fit on JAX, in a process of its own whatever backend this test process has.
KERAS_ON_JAX = """
import functools, json, sys
from suite import sentiment
from text import text_classify
args = text_classify.parse_args(sys.argv[1:])
sentences = sentiment.read_sentences(args)
args.n_classes = sentences.n_classes
data = {0: sentiment.encode_splits(sentences, 0, args.max_words, args.max_length)}
rows = {}
for name in ("bilstm_con", "lstm_forw"):
    build = functools.partial(text_classify.build_model, name, args.max_words, args.max_length,
                              args.embedding_dim, args.units, args.n_classes, dropout=0.0)
    rows[name] = text_classify.train_seeds(name, build, data, [0], args)[0]
print(json.dumps(rows))
"""


def run_on(backend, program, *argv):
    completed = subprocess.run([sys.executable, "-c", program, *argv], capture_output=True,
                               text=True, cwd=REPOSITORY,
                               env={**os.environ, "KERAS_BACKEND": backend})
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_with_dropout_off_a_whole_run_equals_keras_fit(port, small, sentences, tmp_path):
    """Both models, 3 epochs of 8 batches (the last one short), from the same seed: every
    per-epoch score equals Keras's on JAX (the backend of the committed run). The batch orders,
    the masked LSTMs, the loss, Adam on the embedding table and the scoring all take part."""
    args, splits = small
    keras_rows = run_on("jax", KERAS_ON_JAX, *SMALL, "--data", str(sentences),
                        "--output-dir", str(tmp_path))
    for name in pytorch_port.TEXT_MODELS:
        rows, _ = port.train_seed(name, splits, 0, args, dropout=0.0)
        ours, theirs = pd.DataFrame(rows), pd.DataFrame(keras_rows[name])
        assert len(ours) == len(theirs) == args.epochs
        np.testing.assert_allclose(ours[SCORES].to_numpy(), theirs[SCORES].to_numpy(),
                                   atol=1e-5, rtol=0, err_msg=name)


KERAS_ADAM_ON_AN_EMBEDDING = """
import json
import numpy as np, keras
model = keras.Sequential([keras.Input((2,), dtype="int32"),
                          keras.layers.Embedding(3, 1, embeddings_initializer="ones"),
                          keras.layers.Flatten(),
                          keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")])
model.compile(optimizer="adam", loss="mse")
model.train_on_batch(np.array([[1, 1]]), np.array([[0.0]]))
velocity = [v for v in model.optimizer.variables if "embedding" in v.path and "velocity" in v.path]
print(json.dumps(float(np.asarray(velocity[0])[1, 0])))
"""


def test_keras_on_tensorflow_squares_a_repeated_words_gradients_one_by_one():
    """Why the equality above is against JAX. One sentence, the same word twice: loss (2e)^2
    with e = 1, so the word's gradient is 4 + 4 = 8 and Adam's first velocity is 0.001 x 8^2 =
    0.064, as on JAX (and in PyTorch). Keras on TensorFlow gets 0.001 x (4^2 + 4^2) = 0.032: it
    keeps the table's gradient as one slice per occurrence and squares the slices before adding
    them. If this test fails, Keras has changed, and docs/pytorch.md says otherwise."""
    assert run_on("jax", KERAS_ADAM_ON_AN_EMBEDDING) == pytest.approx(0.064, rel=1e-6)
    assert run_on("tensorflow", KERAS_ADAM_ON_AN_EMBEDDING) == pytest.approx(0.032, rel=1e-6)


# ---------------------------------------------------------------- the script


def test_the_script_writes_the_keras_scripts_columns_and_compares_with_a_keras_run(
        port, sentences, tmp_path):
    flags = ["--repeats", "2", "--epochs", "2", "--units", "2", "--embedding-dim", "2",
             "--max-words", "30", "--max-length", "8", "--batch-size", "8", "--quiet",
             "--data", str(sentences)]
    text_classify.main(flags + ["--model", "bilstm_con", "lstm_forw",
                                "--output-dir", str(tmp_path / "keras")])
    summary, comparison = port.main(flags + ["--keras-run", str(tmp_path / "keras"),
                                             "--output-dir", str(tmp_path / "out")])
    results = tmp_path / "out" / "results"
    assert list(pd.read_csv(results / "text_classify_pytorch.csv").columns) == PER_EPOCH_COLUMNS
    assert list(summary.columns) == SUMMARY_COLUMNS
    assert set(summary["model"]) == {"bilstm_con", "lstm_forw", sentiment.MAJORITY}
    assert (tmp_path / "out" / "plots" / "text_classify_pytorch.png").stat().st_size > 0
    record = pd.read_csv(results / "text_classify_pytorch_run.csv")
    assert record["backend"].iloc[0].startswith("plain PyTorch")
    written = pd.read_csv(results / "text_classify_pytorch_comparison.csv")
    assert set(written["pair"]) == {"bilstm_con/pytorch - bilstm_con/keras",
                                    "lstm_forw/pytorch - lstm_forw/keras",
                                    "bilstm_con/pytorch - lstm_forw/pytorch"}
    similar = written[written["expected"] == "similar"]
    assert len(similar) == 2 * 2 * 2  # 2 models x 2 measures x 2 stopping points
    assert (written["verdict"] == "too few seeds").all()  # 2 seeds
    # The same Keras run against a PyTorch run of other settings: no comparison, and why.
    _, comparison = port.main([*flags[:-2], "--units", "3", "--data", str(sentences),
                               "--keras-run", str(tmp_path / "keras"),
                               "--output-dir", str(tmp_path / "other")])
    assert "/keras" not in " ".join(comparison["pair"])


def test_the_committed_keras_run_is_compared_only_with_its_own_settings(port):
    parser = port.cli.ArgumentParser()
    sentiment.add_arguments(parser, text_classify.MODELS)
    defaults = parser.parse_args([])
    assert port.committed_settings(defaults)
    assert not port.committed_settings(parser.parse_args(["--units", "32"]))
    assert not port.committed_settings(parser.parse_args(["--data", "mine.csv"]))
    args = parser.parse_args(["--epochs", "3"])
    args.keras_run = None
    kept, why_not = port.keras_run(args, [0])
    assert kept is None and "--keras-run" in why_not


def test_the_committed_comparison_follows_from_the_committed_summaries(port):
    """results/text_classify_pytorch_comparison.csv: its intervals and verdicts recomputed from
    the committed per-seed summaries of the PyTorch and the Keras runs."""
    results = REPOSITORY / "results"
    ours = pd.read_csv(results / "text_classify_pytorch_summary.csv")
    keras_summary = pd.read_csv(results / "text_classify_summary.csv")
    keras_summary = keras_summary[keras_summary["model"].isin(port.MODELS)]
    both = port.side_by_side(ours, keras_summary.assign(model=keras_summary["model"] + "/keras"))
    assert (both.groupby("model")["seed"].nunique() == 30).all()
    recomputed = sentiment.compare(both, port.claims_to_test(list(port.MODELS)))
    committed = pd.read_csv(results / "text_classify_pytorch_comparison.csv")
    pd.testing.assert_frame_equal(recomputed, committed, check_exact=False, atol=1e-12)
    accuracy = committed[committed["measure"] == "test_accuracy"]
    assert (accuracy[accuracy["expected"] == "similar"]["verdict"] == "supported").all()


def test_bad_flags_are_one_line(port, assert_flag_error):
    assert_flag_error(port.main, ["--model", "bow_logreg"], "--model")
    assert_flag_error(port.main, ["--dataset", "imdb"], "--dataset")


def test_the_script_never_imports_keras(port, sentences, tmp_path, without_keras):
    """A whole run, its files written, where importing keras, tensorflow or jax fails."""
    completed = subprocess.run(
        [sys.executable, "-m", "pytorch.text_classify_pytorch", "--repeats", "1", "--epochs", "1",
         "--units", "2", "--embedding-dim", "2", "--max-words", "30", "--max-length", "8",
         "--quiet", "--data", str(sentences), "--output-dir", str(tmp_path / "out")],
        capture_output=True, text=True, cwd=REPOSITORY,
        env=without_keras)
    assert completed.returncode == 0, completed.stderr
    assert (tmp_path / "out" / "results" / "text_classify_pytorch.csv").exists()
