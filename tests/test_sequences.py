"""Your own sequences: the CSV format and its refusals, padding and masking, the training paths,
a model kept and reloaded, and the commands end to end (suite/sequence_data.py,
suite/sequence_models.py, sequences/)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from suite import sequence_data
from suite.sequence_data import DataError
from tests.conftest import script_command

REPOSITORY = Path(__file__).resolve().parent.parent
EXAMPLE = REPOSITORY / "sequences" / "example.csv"
GOOD = """sequence,step,x1,x2,label
a,0,0.1,0.2,walk
a,1,0.3,0.4,walk
b,1,0.5,0.6,run
b,2,0.7,0.8,run
b,3,0.7,0.9,run
c,0,1.0,1.5,run
d,0,1.0,2.0,walk
e,0,1.5,2.0,walk
f,0,3.0,2.0,run
"""


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def replaced(old, new, text=GOOD):
    assert old in text
    return text.replace(old, new, 1)


# ---------------------------------------------------------------- reading a CSV


def test_a_hand_written_file_is_read_by_its_header_in_any_row_order(tmp_path):
    rows = GOOD.splitlines()
    shuffled = "\n".join([rows[0].replace("x1,x2", "x2,x1")] + [
        ",".join([r.split(",")[0], r.split(",")[1], r.split(",")[3], r.split(",")[2],
                  r.split(",")[4]]) for r in reversed(rows[1:])]) + "\n"
    for text in (GOOD, shuffled):
        sequences = sequence_data.read_csv(write(tmp_path, text))
        assert sequences.ids == (["a", "b", "c", "d", "e", "f"] if text == GOOD
                                 else ["f", "e", "d", "c", "b", "a"])
        by_id = dict(zip(sequences.ids, sequences.features))
        assert sequences.classes == ["run", "walk"]
        assert list(sequences.lengths) == [2, 3, 1, 1, 1, 1][:: 1 if text == GOOD else -1]
        columns = [0, 1] if text == GOOD else [1, 0]
        np.testing.assert_array_equal(by_id["b"][:, columns[0]], [0.5, 0.7, 0.7])
        assert dict(zip(sequences.ids, sequences.labels))["b"] == 0


@pytest.mark.parametrize("text, named", [
    (replaced("sequence,step", "id,step"), "no column 'sequence'"),
    (replaced(",label\n", ",class\n"), "no column 'label'"),
    ("sequence,step,label\na,0,x\n", "no feature column"),
    (replaced("0.3,0.4", "0.3,abc"), "row 3, column 'x2': 'abc' is not a number"),
    (replaced("0.3,0.4", "0.3,nan"), "row 3, column 'x2': 'nan' is not a finite number"),
    (replaced("0.3,0.4", "0.3,inf"), "row 3, column 'x2': 'inf' is not a finite number"),
    (replaced("0.3,0.4", "0.3,"), "row 3, column 'x2': nan is empty"),
    (replaced("b,2,0.7,0.8", "b,1,0.7,0.8"), "row 5: sequence 'b' has step 1 twice"),
    (replaced("b,3,0.7,0.9", "b,5,0.7,0.9"), "step 3 is missing"),
    (replaced("b,2,0.7,0.8", "b,2.5,0.7,0.8"), "'2.5' is not a whole number"),
    (replaced("a,1,0.3,0.4,walk", "a,1,0.3,0.4,run"), "the label of sequence 'a' changes"),
    (replaced("f,0,3.0,2.0,run", "f,0,3.0,2.0,jump"), "class 'jump' has 1 sequences, too few"),
    (GOOD.replace("run", "walk"), "at least two classes"),
    ("sequence,step,x,label\n", "no rows below the header"),
    ("sequence,step,x,x,label\na,0,1,2,u\n", "column 'x' appears twice"),
])
def test_a_bad_file_is_one_line_naming_the_row_or_column(tmp_path, text, named):
    with pytest.raises(DataError) as error:
        sequence_data.read_csv(write(tmp_path, text))
    assert named in str(error.value) and "\n" not in str(error.value)


def test_a_split_column_and_a_label_per_step(tmp_path):
    text = GOOD.replace(",label\n", ",label,split\n")
    lines = text.splitlines()
    lines = [lines[0]] + [line + (",test" if line.startswith(("e,", "f,")) else ",train")
                          for line in lines[1:]]
    sequences = sequence_data.read_csv(write(tmp_path, "\n".join(lines) + "\n"))
    parts = sequence_data.split_indices(sequences, seed=0)
    assert [sequences.ids[i] for i in parts["test"]] == ["e", "f"]
    assert sorted(np.concatenate([parts["train"], parts["val"]])) == [0, 1, 2, 3]
    with pytest.raises(DataError, match="neither train nor test"):
        sequence_data.read_csv(write(tmp_path, text.replace("walk\n", "walk,maybe\n", 1)
                                     .replace(",label\n", ",label,split\n")))
    per_step = sequence_data.read_csv(
        write(tmp_path, replaced("a,1,0.3,0.4,walk", "a,1,0.3,0.4,run")), labels="step")
    np.testing.assert_array_equal(per_step.labels[0], [1, 0])


def test_the_tutorials_problem_written_and_read_back_is_the_same_data(tmp_path):
    sample = sequence_data.tutorial_sequences(40, 10, min_length=5, seed=3)
    sequence_data.write_csv(sample, tmp_path / "sample.csv")
    read = sequence_data.read_csv(tmp_path / "sample.csv", labels="step")
    assert read.ids == sample.ids and read.classes == sample.classes
    for mine, theirs in zip(read.features + read.labels, sample.features + sample.labels):
        np.testing.assert_array_equal(mine, theirs)
    # Lengths drawn from 5 to 10, and labels that flip where the running sum reaches 10 / 4.
    assert sample.lengths.min() >= 5 and sample.lengths.max() <= 10
    for features, labels in zip(sample.features, sample.labels):
        np.testing.assert_array_equal(labels, np.cumsum(features[:, 0]) >= 2.5)


def test_padding_puts_the_real_steps_at_the_end_or_the_start_and_weights_only_them():
    sample = sequence_data.tutorial_sequences(3, 6, min_length=2, seed=1)
    for padding in sequence_data.PADDINGS:
        X, y, weights = sequence_data.padded(sample, [0, 1, 2], 6, padding)
        for row, features in enumerate(sample.features):
            real = weights[row] == 1
            assert real.sum() == len(features)
            steps = np.arange(6) if padding == "post" else np.arange(6 - len(features), 6)
            np.testing.assert_array_equal(np.flatnonzero(real), steps[: len(features)])
            np.testing.assert_allclose(X[row, real, 0], features[:, 0], rtol=1e-6)
            assert (X[row, ~real] == sequence_data.PAD_VALUE).all()


# ---------------------------------------------------------------- the models


def _sequences(n_features):
    rng = np.random.default_rng(0)
    lengths = [3, 7, 5, 10]
    return sequence_data.Sequences(
        [rng.standard_normal((n, n_features)) for n in lengths],
        [rng.integers(0, 3, n) for n in lengths], ["a", "b", "c"], True,
        list("wxyz"), [f"f{i}" for i in range(n_features)], "made up")


@pytest.mark.backend
@pytest.mark.parametrize("per_step", [True, False])
def test_padding_never_changes_a_prediction_on_a_real_step(per_step):
    """For every model: the same sequences padded to 10 or 14 steps, at the end or the start,
    give the same probabilities on their real steps (or for the sequence)."""
    from suite import sequence_models

    sequences = _sequences(3)
    for name in sequence_models.MODELS:
        outputs = {}
        for n_timesteps in (10, 14):
            model = sequence_models.build_model(name, n_timesteps, 3, 3, units=4,
                                                per_step=per_step)
            if n_timesteps == 10:
                weights = model.get_weights()
            model.set_weights(weights)
            for padding in sequence_data.PADDINGS:
                X, _, real = sequence_data.padded(sequences, range(4), n_timesteps, padding)
                probabilities = np.asarray(model.predict_on_batch(X))
                outputs[n_timesteps, padding] = (
                    [probabilities[i][real[i] == 1] for i in range(4)] if per_step
                    else probabilities)
        first = outputs[10, "post"]
        for key, other in outputs.items():
            for mine, theirs in zip(first, other):
                np.testing.assert_allclose(mine, theirs, atol=1e-6, err_msg=f"{name} {key}")


@pytest.mark.backend
def test_without_the_mask_padding_would_change_the_predictions():
    """The check above can fail: the same forward LSTM without its Masking layer predicts
    differently once the padding at the end grows. (Zeros before the first step would not show
    it: an LSTM whose biases are still zero stays at state zero on them.)"""
    from keras import layers, ops

    from suite import sequence_models

    sequences = _sequences(2)
    model = sequence_models.build_model("lstm_forw", 14, 2, 3, units=4)
    unmasked = [layer for layer in model.layers if not isinstance(layer, layers.Masking)]
    X10 = sequence_data.padded(sequences, range(4), 10, "post")[0]
    X14 = sequence_data.padded(sequences, range(4), 14, "post")[0]
    zeros = [np.where(X == sequence_data.PAD_VALUE, 0.0, X).astype("float32") for X in (X10, X14)]

    def run(X):
        for layer in unmasked:
            X = layer(X)
        return ops.convert_to_numpy(X)

    assert not np.allclose(run(zeros[0]), run(zeros[1]), atol=1e-4)


@pytest.mark.backend
def test_the_compiled_path_takes_the_same_steps_as_train_on_batch():
    import keras

    from suite import sequence_models

    if keras.backend.backend() != "jax":
        pytest.skip("the compiled path is JAX's")
    sample = sequence_data.tutorial_sequences(60, 8, min_length=4, seed=0)
    splits = []
    for seed in (0, 1):
        parts = sequence_data.split_indices(sample, seed)
        scale = sequence_data.scaling(sample, parts["train"])
        splits.append(sequence_models.Split(
            seed, {k: sequence_data.padded(sample, v, 8, "post", scale) for k, v in parts.items()},
            sequence_data.batch_orders(len(parts["train"]), 8, 3, seed)))
    for name in ("bilstm_con",):  # both directions; the other models share its code
        def build(name=name):
            return sequence_models.build_model(name, 8, 1, 2, units=4, per_step=True)

        fast = sequence_models.train_seeds(build, name, splits, "compiled")
        literal = sequence_models.train_seeds(build, name, splits, "train_on_batch")
        np.testing.assert_allclose(fast.train_loss, literal.train_loss, atol=1e-5)
        np.testing.assert_allclose(fast.val_loss, literal.val_loss, atol=1e-5)
        np.testing.assert_array_equal(fast.best_epoch, literal.best_epoch)
        np.testing.assert_allclose(np.array(fast.test_probabilities),
                                   np.array(literal.test_probabilities), atol=1e-5)


def test_the_references_count_by_hand():
    from suite import sequence_models

    y = np.array([[0, 0, 1], [0, 1, 1], [1, 1, 0]])
    w = np.array([[1, 1, 1], [1, 1, 1], [1, 1, 0]], dtype=float)
    majority = sequence_models.majority_probabilities(y, w, 2, (1,))
    np.testing.assert_allclose(majority[0], [3 / 8, 5 / 8])  # the last step of row 3 is padding
    position = sequence_models.position_probabilities(y, w, 2, np.zeros((1, 3), dtype=int),
                                                      np.ones((1, 3)))
    np.testing.assert_allclose(position[0], [[2 / 3, 1 / 3], [1 / 3, 2 / 3], [0, 1]])
    # Pre-padded, the steps are counted from each sequence's first real step: the same
    # frequencies, at the positions where the real steps now sit.
    pre_y, pre_w = np.array([[0, 0, 1], [0, 1, 1], [0, 1, 1]]), w[:, ::-1].copy()
    pre_w[2] = [0, 1, 1]
    shifted = sequence_models.position_probabilities(pre_y, pre_w, 2, np.zeros((1, 3), dtype=int),
                                                     np.array([[0.0, 1.0, 1.0]]))
    np.testing.assert_allclose(shifted[0, 1:], [[2 / 3, 1 / 3], [1 / 3, 2 / 3]])
    # Log loss and accuracy over the weighted outputs only.
    probabilities = np.array([[[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]]])
    truth, weights = np.array([[0, 1, 1]]), np.array([[1.0, 1.0, 0.0]])
    assert sequence_models.log_loss(probabilities, truth, weights) == pytest.approx(
        -(np.log(0.9) + np.log(0.8)) / 2)
    assert sequence_models.accuracy(probabilities, truth, weights) == 1.0


# ---------------------------------------------------------------- the commands


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """The tutorial's problem written as a sample CSV, then run through --data and through the
    built-in path with the same flags."""
    from sequences import classify_sequences

    folder = tmp_path_factory.mktemp("sequences")
    flags = ["--sequences", "48", "--timesteps", "8", "--min-length", "4", "--repeats", "2",
             "--epochs", "2", "--batch-size", "8", "--units", "3", "--quiet"]
    classify_sequences.main(flags + ["--write-sample", str(folder / "sample.csv"),
                                     "--output-dir", str(folder / "unused")])
    built_in = classify_sequences.main(flags + ["--output-dir", str(folder / "built_in")])
    from_file = classify_sequences.main(flags + ["--data", str(folder / "sample.csv"),
                                                 "--labels", "step",
                                                 "--output-dir", str(folder / "from_file")])
    return folder, built_in, from_file


def test_the_sample_file_through_data_gives_the_built_in_numbers(tiny_run):
    _, (built_in, _), (from_file, _) = tiny_run
    numbers = ["test_loss", "test_accuracy", "test_sequence_accuracy", "val_loss", "epoch"]
    pd.testing.assert_frame_equal(built_in[["model", "seed"] + numbers],
                                  from_file[["model", "seed"] + numbers])
    assert set(built_in["model"]) == {"lstm_forw", "lstm_back", "bilstm_con", "majority",
                                      "position"}


def test_a_run_writes_its_tables_plot_time_and_models(tiny_run):
    folder = tiny_run[0] / "from_file"
    timing = pd.read_csv(folder / "results" / "sequences_sample_timing.csv")
    assert timing.loc[timing["part"] == "total", "seconds"].iloc[0] > 0
    assert (folder / "plots" / "sequences_sample.png").stat().st_size > 0
    comparison = pd.read_csv(folder / "results" / "sequences_sample_comparison.csv")
    assert "bilstm_con - lstm_forw" in set(comparison["pair"])
    description = json.loads((folder / "models" / "sequences_sample_bilstm_con.json").read_text())
    assert description["classes"] == ["0", "1"] and description["per_step"]


def test_a_saved_model_labels_new_sequences_as_it_predicted_them(tiny_run, tmp_path):
    """label_sequences on the sample file: its labels are the saved model's own predictions,
    and the file's labels give the accuracy it prints."""
    from sequences import label_sequences
    from suite import saving

    folder = tiny_run[0]
    model_path = folder / "from_file" / "models" / "sequences_sample_lstm_back.keras"
    unlabelled = pd.read_csv(folder / "sample.csv").drop(columns="label")
    unlabelled.to_csv(tmp_path / "new.csv", index=False)
    rows, score = label_sequences.main([str(model_path), str(tmp_path / "new.csv"),
                                        "--output", str(tmp_path / "labels.csv")])
    assert score is None and len(rows) == len(unlabelled)
    model, description = saving.load(model_path)
    sample = sequence_data.read_csv(folder / "sample.csv", labels="step")
    X, _, real = sequence_data.padded(sample, [0], description["n_timesteps"], "post",
                                      (np.array(description["mean"]), np.array(description["std"])))
    probabilities = np.asarray(model.predict(X, verbose=0))[0][real[0] == 1]
    first = rows[rows["sequence"] == sample.ids[0]]
    np.testing.assert_allclose(first["probability"], probabilities.max(axis=-1), rtol=1e-6)
    _, score = label_sequences.main([str(model_path), str(folder / "sample.csv"),
                                     "--output", str(tmp_path / "labels.csv")])
    assert 0.0 <= score <= 1.0


def test_a_saved_model_reloads_on_another_backend_with_the_same_predictions(tiny_run, tmp_path):
    """Saved on this backend, reloaded in a new process on another one (JAX, or TensorFlow when
    this is JAX): the same probabilities, for the model with the suite's own layer too."""
    import keras

    from suite import saving

    folder = tiny_run[0] / "from_file" / "models"
    X = sequence_data.padded(sequence_data.tutorial_sequences(5, 8, 4, seed=9), range(5), 8)[0]
    np.save(tmp_path / "X.npy", X)
    names = ["lstm_back", "bilstm_con"]
    here = [np.asarray(saving.load(folder / f"sequences_sample_{name}.keras")[0].predict(
        X, verbose=0)) for name in names]
    code = ("import sys, numpy as np; from suite import saving; "
            f"X = np.load({str(tmp_path / 'X.npy')!r}); "
            f"np.save({str(tmp_path / 'there.npy')!r}, np.stack([np.asarray(saving.load(path)[0]"
            f".predict(X, verbose=0)) for path in sys.argv[1:]]))")
    other = "jax" if keras.backend.backend() != "jax" else "tensorflow"
    subprocess.run([sys.executable, "-c", code,
                    *[str(folder / f"sequences_sample_{name}.keras") for name in names]],
                   check=True, capture_output=True, env={**os.environ, "KERAS_BACKEND": other},
                   cwd=REPOSITORY)
    np.testing.assert_allclose(np.load(tmp_path / "there.npy"), np.stack(here), atol=1e-5)


def test_a_bad_file_on_the_command_line_is_one_line_exit_2_and_nothing_written(tmp_path):
    bad = write(tmp_path, replaced("0.3,0.4", "0.3,abc"))
    result = subprocess.run(
        script_command("sequences.classify_sequences") + ["--data", str(bad), "--output-dir",
                                                           str(tmp_path / "out")],
        capture_output=True, text=True, cwd=REPOSITORY)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "python -m sequences.classify_sequences: error: "
        f"{bad}: row 3, column 'x2': 'abc' is not a number"]
    assert not (tmp_path / "out").exists()


def test_the_hand_written_example_runs_end_to_end(tmp_path):
    """sequences/example.csv, the page's example of a file written by hand: one command, one
    label per sequence, every model and the majority reference scored."""
    from sequences import classify_sequences

    summary, comparison = classify_sequences.main(
        ["--data", str(EXAMPLE), "--repeats", "1", "--epochs", "2", "--no-baselines", "--quiet",
         "--output-dir", str(tmp_path)])
    assert set(summary["model"]) == {"lstm_forw", "lstm_back", "bilstm_con", "majority"}
    assert (tmp_path / "results" / "sequences_example_summary.csv").is_file()
    assert (tmp_path / "models" / "sequences_example_bilstm_con.keras").is_file()


def test_one_nearest_neighbour_dtw_is_the_nearest_by_dynamic_time_warping():
    """sktime's 1-NN with dtaidistance's DTW against DTW computed here by hand (squared
    differences summed over the features, the square root of the cheapest path)."""
    pytest.importorskip("sktime")
    from suite import sequence_models

    sequences = sequence_data.read_csv(EXAMPLE)

    def dtw(a, b):
        cost = np.full((len(a) + 1, len(b) + 1), np.inf)
        cost[0, 0] = 0.0
        for i in range(len(a)):
            for j in range(len(b)):
                cost[i + 1, j + 1] = ((a[i] - b[j]) ** 2).sum() + min(
                    cost[i, j], cost[i, j + 1], cost[i + 1, j])
        return np.sqrt(cost[-1, -1])

    train, test = np.arange(0, 12, 2), np.arange(1, 12, 2)
    predicted = sequence_models.dtw_1nn_labels(sequences, train, test)
    labels = np.asarray(sequences.labels)
    by_hand = [labels[train[np.argmin([dtw(sequences.features[t], sequences.features[i])
                                      for i in train])]] for t in test]
    np.testing.assert_array_equal(predicted, by_hand)


def test_a_file_that_is_not_a_saved_model_is_one_line_exit_2(tmp_path, capsys):
    from sequences import label_sequences

    (tmp_path / "model.keras").write_text("not a model")
    (tmp_path / "model.json").write_text("{}")
    with pytest.raises(SystemExit) as exit_info:
        label_sequences.main([str(tmp_path / "model.keras"), str(EXAMPLE),
                              "--output", str(tmp_path / "labels.csv")])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "is not a model saved by classify_sequences" in error
    assert not (tmp_path / "labels.csv").exists()
