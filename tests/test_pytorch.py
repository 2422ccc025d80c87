"""The tutorial in plain PyTorch (pytorch/bilstm_pytorch.py): the same models, weights, steps and
losses.

PyTorch is optional: these tests are skipped without it (`make test-torch` installs it), except
the one-line message of the script run without it. They check the weight mapping against layouts
written by hand and an LSTM written out in NumPy; the draws made without Keras against Keras's;
one forward pass of every model against the Keras model with the same weights; Keras's Adam and
loss against their formulas; a short training run against the Keras path; and the committed Keras
losses of every model (the first and last seed of the comparisons, every epoch of the 1,000-epoch
runs; `python -m pytorch.bilstm_pytorch --check-committed` checks every seed).
"""

import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest

import compare_directions
import compare_merge_modes
from suite import pytorch_port, training, weights

REPOSITORY = Path(__file__).resolve().parent.parent
UNITS = 20
KERAS_MODELS = {**compare_directions.get_models(10, UNITS),
                **compare_merge_modes.get_models(10, UNITS, ["sum", "mul", "ave"])}


@pytest.fixture(scope="module")
def port():
    """The script as a module; the tests that use it are skipped without PyTorch."""
    pytest.importorskip("torch", reason="PyTorch is optional: make test-torch installs it")
    from pytorch import bilstm_pytorch

    return bilstm_pytorch


def test_the_port_covers_every_tutorial_model():
    assert list(pytorch_port.MODELS) == list(KERAS_MODELS)


def test_without_pytorch_the_script_says_how_to_install_it(tmp_path):
    """A Python without torch (provoked: sys.modules['torch'] = None hides it): one line naming
    the pinned build, exit status 2, no traceback, nothing written."""
    program = ("import runpy, sys\n"
               "sys.modules['torch'] = None\n"
               f"sys.argv = ['bilstm_pytorch.py', '--output-dir', {str(tmp_path / 'out')!r}]\n"
               "runpy.run_module('pytorch.bilstm_pytorch', run_name='__main__')\n")
    completed = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                               cwd=REPOSITORY)
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert len(completed.stderr.strip().splitlines()) == 1, completed.stderr
    assert "torch==2.13.0" in completed.stderr and "make test-torch" in completed.stderr
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- the weight mapping


def test_the_mapping_puts_each_keras_weight_where_pytorch_reads_it():
    """Hand-made Keras layouts whose values name their place: kernel[0, j] = j, recurrent_kernel
    [k, j] = 1000 k + j, bias[j] = -j; the backward direction's shifted by 0.5."""
    units = 3
    forward = [np.arange(4 * units, dtype=np.float32)[None],
               (1000 * np.arange(units)[:, None] + np.arange(4 * units)).astype(np.float32),
               -np.arange(4 * units, dtype=np.float32)]
    backward = [w + 0.5 for w in forward]
    dense = [np.arange(2 * units, dtype=np.float32)[:, None], np.array([7.0], np.float32)]
    state = pytorch_port.torch_state("bilstm_con", forward + backward + dense)
    assert set(state) == {f"lstm.{kind}_l0{suffix}" for kind in
                          ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
                          for suffix in ("", "_reverse")} | {"dense.weight", "dense.bias"}
    for suffix, shift in (("", 0.0), ("_reverse", 0.5)):
        # PyTorch's (4 units, inputs): row j is gate unit j, the same gate order as Keras.
        assert state[f"lstm.weight_ih_l0{suffix}"].shape == (4 * units, 1)
        np.testing.assert_array_equal(state[f"lstm.weight_ih_l0{suffix}"][:, 0],
                                      np.arange(4 * units) + shift)
        hh = state[f"lstm.weight_hh_l0{suffix}"]
        assert hh.shape == (4 * units, units)
        for j in range(4 * units):
            for k in range(units):
                assert hh[j, k] == 1000 * k + j + shift
        np.testing.assert_array_equal(state[f"lstm.bias_ih_l0{suffix}"],
                                      -np.arange(4 * units) + shift)
        assert not state[f"lstm.bias_hh_l0{suffix}"].any()
    np.testing.assert_array_equal(state["dense.weight"], [np.arange(2 * units)])
    np.testing.assert_array_equal(state["dense.bias"], [7.0])
    with pytest.raises(ValueError, match="8 Keras weights"):
        pytorch_port.torch_state("bilstm_con", forward + dense)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def keras_lstm(X, kernel, recurrent_kernel, bias):
    """Keras's LSTM written out in NumPy: z = x kernel + h recurrent_kernel + bias, split into
    the input, forget, cell and output gates in that order; sigmoid gates, tanh activation."""
    h = np.zeros((len(X), recurrent_kernel.shape[0]))
    c = np.zeros_like(h)
    outputs = []
    for t in range(X.shape[1]):
        i, f, g, o = np.split(X[:, t] @ kernel + h @ recurrent_kernel + bias, 4, axis=-1)
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs, axis=1)


def keras_model_by_hand(name, keras_weights, X):
    """What each tutorial model computes, from its Keras weights, in NumPy."""
    X = X.astype(np.float64)
    w = [value.astype(np.float64) for value in keras_weights]
    if name == "lstm_forw":
        outputs = keras_lstm(X, *w[:3])
    elif name == "lstm_back":  # go_backwards: outputs in reversed time order
        outputs = keras_lstm(X[:, ::-1], *w[:3])
    elif name == "lstm_back_aligned":
        outputs = keras_lstm(X[:, ::-1], *w[:3])[:, ::-1]
    else:
        forward, backward = keras_lstm(X, *w[:3]), keras_lstm(X[:, ::-1], *w[3:6])[:, ::-1]
        outputs = {"bilstm_con": np.concatenate([forward, backward], axis=-1),
                   "bilstm_sum": forward + backward, "bilstm_mul": forward * backward,
                   "bilstm_ave": (forward + backward) / 2}[name]
    return _sigmoid(outputs @ w[-2] + w[-1])[..., 0]


def random_keras_weights(name, seed):
    """Keras-shaped weights with every entry random, biases included (initial ones are zero)."""
    rng = np.random.default_rng(seed)
    return [rng.normal(0, 0.5, w.shape).astype(np.float32)
            for w in pytorch_port.keras_initial_weights(name, 0, UNITS)]


@pytest.mark.parametrize("name", list(pytorch_port.MODELS))
def test_every_model_computes_what_keras_layers_compute_by_hand(port, name):
    keras_weights = random_keras_weights(name, 1)
    model = port.TutorialModel(name, UNITS)
    model.load_state_dict({key: port.torch.from_numpy(value) for key, value in
                           pytorch_port.torch_state(name, keras_weights).items()})
    X = np.random.default_rng(2).random((5, 10, 1)).astype(np.float32)
    np.testing.assert_allclose(port.predict(model, X), keras_model_by_hand(name, keras_weights, X),
                               atol=1e-6)


@pytest.mark.parametrize("name", list(pytorch_port.MODELS))
def test_the_draws_without_keras_equal_keras_draws(port, name):
    model = KERAS_MODELS[name]()
    for seed in (0, 7):
        for drawn, keras_drawn in zip(pytorch_port.keras_initial_weights(name, seed, UNITS),
                                      weights.initial_weights(model, seed), strict=True):
            np.testing.assert_array_equal(drawn, keras_drawn)


# ---------------------------------------------------------------- the models against Keras's


@pytest.mark.parametrize("name", list(pytorch_port.MODELS))
def test_one_forward_pass_equals_the_keras_model_with_the_same_weights(port, name):
    keras_model = KERAS_MODELS[name]()
    X = np.random.default_rng(3).random((8, 10, 1)).astype(np.float32)
    for keras_weights in (pytorch_port.keras_initial_weights(name, 4, UNITS),
                          random_keras_weights(name, 5)):
        keras_model.set_weights(keras_weights)
        model = port.TutorialModel(name, UNITS)
        model.load_state_dict({key: port.torch.from_numpy(value) for key, value in
                               pytorch_port.torch_state(name, keras_weights).items()})
        expected = keras.ops.convert_to_numpy(keras_model(X))[..., 0]
        np.testing.assert_allclose(port.predict(model, X), expected, atol=1e-6, rtol=0)
    seeded = port.build_seeded(name, 4, UNITS)
    assert (sum(p.numel() for p in seeded.trainable_parameters())
            == keras_model.count_params())


def test_keras_adam_takes_keras_steps_and_torch_adam_does_not(port):
    """Keras's update, written out in NumPy (float64): m += (g - m)(1 - b1), v += (g^2 - v)(1 - b2),
    w -= lr sqrt(1 - b2^t) / (1 - b1^t) m / (sqrt(v) + eps). Small gradients, where epsilon's
    place shows."""
    torch = port.torch
    rng = np.random.default_rng(6)
    gradients = rng.normal(0, 1e-5, (30, 4))
    w, m, v = np.ones(4), np.zeros(4), np.zeros(4)
    for t, g in enumerate(gradients, start=1):
        m += (g - m) * (1 - 0.9)
        v += (g * g - v) * (1 - 0.999)
        w -= 0.001 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t) * m / (np.sqrt(v) + 1e-7)

    def steps(optimizer_class, **options):
        parameter = torch.ones(4, dtype=torch.float64, requires_grad=True)
        optimizer = optimizer_class([parameter], **options)
        for g in gradients:
            parameter.grad = torch.from_numpy(g)
            optimizer.step()
        return parameter.detach().numpy()

    np.testing.assert_allclose(steps(port.KerasAdam), w, rtol=0, atol=1e-12)
    assert np.abs(steps(torch.optim.Adam, eps=1e-7) - w).max() > 1e-6


def test_the_loss_is_keras_binary_crossentropy_clip_included(port):
    y = np.array([[1, 0, 1, 0, 1, 0]], dtype=np.float32)
    probabilities = np.array([[0.3, 0.3, 1.0, 0.0, 1e-9, 1 - 1e-9]], dtype=np.float32)
    expected = float(keras.ops.convert_to_numpy(
        keras.losses.binary_crossentropy(y[..., None], probabilities[..., None])).mean())
    got = port.binary_crossentropy(port.torch.from_numpy(probabilities[..., None]),
                                   port.torch.from_numpy(y[..., None])).item()
    assert got == pytest.approx(expected, rel=1e-6)
    unclipped = port.binary_crossentropy(port.torch.from_numpy(probabilities[..., None]),
                                         port.torch.from_numpy(y[..., None]), clip=False).item()
    assert unclipped > got + 1  # log(1e-9) and the log clamped at -100, against log(1e-7)


# ---------------------------------------------------------------- training against Keras's


@pytest.mark.parametrize("name", list(pytorch_port.MODELS))
def test_a_short_training_run_equals_the_keras_path(port, name):
    """Seed 0's first 50 epochs and the held-out predictions after them: the port against
    Keras's `train_on_batch`, the step `fit` takes per batch, from the same sequences and initial
    weights."""
    from suite import tables

    train_X, train_y, eval_X, _ = tables.draw_repeats([0], 50, 20, 10)
    keras_runs = training.run_repeats(KERAS_MODELS[name], [0], train_X, train_y, eval_X,
                                      method="train_on_batch")
    runs = port.run_repeats(name, [0], train_X, train_y, eval_X, UNITS)
    np.testing.assert_allclose(runs.losses, keras_runs.losses, atol=1e-5, rtol=0)
    np.testing.assert_allclose(runs.probabilities, keras_runs.probabilities, atol=1e-5, rtol=0)
    assert runs.params == keras_runs.params


def test_every_model_reproduces_the_committed_keras_losses(port):
    """Every model, the first and last seed of its committed comparison (250 epochs), and every
    epoch of the two 1,000-epoch runs, within the README's 1e-4."""
    committed = port.committed_losses()
    kept = committed[committed["seed"].isin([0, 29])]
    frames = []
    for (name, seed), epochs in kept.groupby(["model", "seed"], sort=False)["epoch"].max().items():
        from suite import tables

        train_X, train_y, _, _ = tables.draw_repeats([seed], epochs, 1, 10)
        losses = port.train(port.build_seeded(name, seed, UNITS), train_X[0], train_y[0])
        frames.append(tables.loss_rows(name, [seed], losses[None]))
    table = port.differences(pd.concat(frames, ignore_index=True), kept)
    print(table.to_string(index=False))
    assert set(table["model"]) == set(pytorch_port.MODELS)
    assert table["losses"].sum() == len(kept) == 2 * 1000 + 8 * 2 * 250
    assert table["max_difference"].max() <= port.TOLERANCE


def test_the_script_writes_the_files_of_the_keras_scripts(port, tmp_path):
    port.main(["--model", "lstm_back", "--epochs", "5", "--eval-sequences", "20", "--quiet",
               "--output-dir", str(tmp_path)])
    for name, committed in (("bilstm_pytorch.csv", "lstm_baseline.csv"),
                            ("bilstm_pytorch_summary.csv", "lstm_baseline_summary.csv"),
                            ("bilstm_pytorch_run.csv", "lstm_baseline_run.csv")):
        written = pd.read_csv(tmp_path / "results" / name).columns
        assert list(written) == list(pd.read_csv(REPOSITORY / "results" / committed).columns)
    assert (tmp_path / "plots" / "bilstm_pytorch.png").stat().st_size > 0
    losses = pd.read_csv(tmp_path / "results" / "bilstm_pytorch.csv")
    assert list(losses["model"].unique()) == ["lstm_back"] and len(losses) == 5


def test_a_bad_model_name_is_one_line(port, assert_flag_error):
    assert_flag_error(port.main, ["--model", "lstm_sideways"], "--model")
    assert_flag_error(port.main, ["--check-committed", "--units", "5"], "--check-committed")


def test_the_script_never_imports_keras(port, tmp_path, without_keras):
    """A whole run, its files written, where importing keras, tensorflow or jax fails."""
    completed = subprocess.run(
        [sys.executable, "-m", "pytorch.bilstm_pytorch", "--epochs", "3", "--eval-sequences", "5",
         "--quiet", "--output-dir", str(tmp_path / "out")],
        capture_output=True, text=True, cwd=REPOSITORY,
        env=without_keras)
    assert completed.returncode == 0, completed.stderr
    assert (tmp_path / "out" / "results" / "bilstm_pytorch.csv").exists()
