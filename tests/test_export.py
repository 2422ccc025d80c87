"""Export for serving: a saved sequence model exported with what Keras 3 offers, served by the
runtime that serves it, gives Keras's predictions (docs/sequences.md#export-for-serving).

Three models of `suite.sequence_models.build_model`, saved as .keras files: `lstm_forw` with one
label per sequence (masked: its state after the last real step), `bilstm_con` with one label per
step, and `lstm_back` with one per step (the suite's own layer, `ReverseTime`). Each is loaded
and exported in a new process on the backend under test, then served on a batch of the tutorial's
sequences of 3 to 10 steps, padded at the end and at the start:

- `model.export(path, format="tf_saved_model")`, served through the SavedModel's `serve`
  signature in a process where Keras and JAX cannot be imported (TensorFlow alone), exported
  from TensorFlow and from JAX (jax2tf);
- `model.export(path, format="onnx")`, served by onnxruntime: from TensorFlow (tf2onnx) and from
  PyTorch (torch.onnx), each skipped when its converter is not installed. None of the converters
  is in requirements.txt: `python -m pip install tf2onnx==1.17.0 onnx==1.23.2
  onnxruntime==1.32.0` adds the TensorFlow route.

What does not work, checked so that the page says so only while it is true: ONNX from JAX
(jax2onnx 0.17.1) converts the forward LSTM but no backward one, and the SavedModel from the
PyTorch backend fails in torch.export. And the ONNX export refuses a model that has never been
called, as a reloaded one has not.

Every test starts new processes that import TensorFlow (95 s for the file on 2 cores): slow.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from suite import sequence_data

pytestmark = pytest.mark.slow

REPOSITORY = Path(__file__).resolve().parent.parent
TOLERANCE = 1e-6
N_TIMESTEPS = 10
# (file name, model, one label per step): the masked per-sequence model, the per-step BiLSTM,
# and the per-step backward LSTM with the suite's own layer.
MODELS = [("lstm_forw_sequence", "lstm_forw", False),
          ("bilstm_con_step", "bilstm_con", True),
          ("lstm_back_step", "lstm_back", True)]

# Loads each .keras file on the backend of KERAS_BACKEND and exports it: argv is the format, the
# output folder and the .keras files. `suite.saving` registers ReverseTime.
EXPORT = """
import sys
from pathlib import Path

import keras
import numpy as np

from suite import saving

export_format, folder = sys.argv[1], Path(sys.argv[2])
for path in map(Path, sys.argv[3:]):
    model = keras.saving.load_model(path)
    if export_format == "onnx":
        # Keras's ONNX export refuses a model that has never been called, as a reloaded one has
        # not (test_onnx_export_refuses_a_reloaded_model_until_it_is_called).
        model(np.zeros((1, *model.input_shape[1:]), dtype="float32"))
    suffix = ".onnx" if export_format == "onnx" else ""
    model.export(str(folder / f"{path.stem}{suffix}"), format=export_format, verbose=False)
"""

# Serves each SavedModel through its `serve` signature with TensorFlow alone: argv is the
# inputs (.npz) and the SavedModel folders; writes <folder>.npz with one output per input.
SERVE = """
import sys

import numpy as np
import tensorflow as tf

inputs = np.load(sys.argv[1])
for folder in sys.argv[2:]:
    serve = tf.saved_model.load(folder).signatures["serve"]
    outputs = {name: serve(tf.constant(X)) for name, X in inputs.items()}
    assert all(list(output) == ["output_0"] for output in outputs.values()), outputs
    np.savez(f"{folder}.npz", **{name: output["output_0"].numpy()
                                 for name, output in outputs.items()})
"""


def batch():
    """{"post", "pre"}: 16 of the tutorial's sequences, 3 to 10 steps long, padded to 10 at the
    end and at the start; and the real steps' weights of each."""
    sample = sequence_data.tutorial_sequences(16, N_TIMESTEPS, min_length=3, seed=4)
    padded = {padding: sequence_data.padded(sample, range(16), N_TIMESTEPS, padding)
              for padding in sequence_data.PADDINGS}
    return ({padding: X for padding, (X, _, _) in padded.items()},
            {padding: real for padding, (_, _, real) in padded.items()})


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """The three models saved as .keras files, with Keras's own predictions on both batches.
    Their weights are drawn wide (standard deviation 1), so the probabilities spread far from
    the uniform ones a fresh model gives and a small error in the served model would show."""
    from suite import saving, sequence_models  # noqa: F401 (saving registers ReverseTime)

    folder = tmp_path_factory.mktemp("export")
    inputs, real = batch()
    assert all((weights == 0).any() for weights in real.values())  # real padding in the batch
    np.savez(folder / "inputs.npz", **inputs)
    rng = np.random.default_rng(0)
    expected = {}
    for file_name, name, per_step in MODELS:
        model = sequence_models.build_model(name, N_TIMESTEPS, 1, 2, units=8, per_step=per_step)
        model.set_weights([rng.normal(0.0, 1.0, w.shape).astype("float32")
                           for w in model.get_weights()])
        model.save(folder / f"{file_name}.keras")
        expected[file_name] = {padding: np.asarray(model.predict_on_batch(X))
                               for padding, X in inputs.items()}
        assert np.ptp(expected[file_name]["post"]) > 0.5
    return folder, inputs, real, expected


def run(code, *argv, env=None):
    """Run `code` in a new Python from the repository root, with `env` added to the
    environment; the CompletedProcess."""
    return subprocess.run([sys.executable, "-c", code, *map(str, argv)], capture_output=True,
                          text=True, cwd=REPOSITORY, env={**os.environ, **(env or {})})


def export(saved, backend, export_format, tmp_path, files=None):
    """Export the saved models on `backend`; the folder the exports are in."""
    folder = saved[0]
    files = files or [f"{file_name}.keras" for file_name, _, _ in MODELS]
    result = run(EXPORT, export_format, tmp_path, *[folder / name for name in files],
                 env={"KERAS_BACKEND": backend})
    assert result.returncode == 0, result.stderr[-3000:]
    return tmp_path


def require(module, why):
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed: {why}")


def check_served(served, saved):
    """The served probabilities equal Keras's within TOLERANCE on both batches (padding steps
    included), and the masking survived: a sequence padded at the start gets on its real steps
    what it gets padded at the end."""
    _, _, real, expected = saved
    for file_name, _, per_step in MODELS:
        for padding in sequence_data.PADDINGS:
            mine, keras_own = served[file_name][padding], expected[file_name][padding]
            assert mine.shape == keras_own.shape
            np.testing.assert_allclose(mine, keras_own, rtol=0, atol=TOLERANCE,
                                       err_msg=f"{file_name}, padded {padding}")
        post, pre = served[file_name]["post"], served[file_name]["pre"]
        if per_step:
            post, pre = post[real["post"] == 1], pre[real["pre"] == 1]
        np.testing.assert_allclose(post, pre, rtol=0, atol=TOLERANCE, err_msg=file_name)


@pytest.fixture
def tensorflow_alone(tmp_path):
    """An environment in which importing keras or jax raises ImportError: the serving process
    has TensorFlow and nothing that built the model."""
    for name in ("keras", "jax"):
        (tmp_path / "fake" / name).mkdir(parents=True)
        (tmp_path / "fake" / name / "__init__.py").write_text(
            f"raise ImportError('{name} was imported')\n")
    return {"PYTHONPATH": str(tmp_path / "fake")}


@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_a_saved_model_serves_keras_predictions_with_tensorflow_alone(
        saved, backend, tmp_path, tensorflow_alone):
    """tf_saved_model exported on TensorFlow or JAX (jax2tf), served in a process that cannot
    import Keras or JAX, through the `serve` signature."""
    folder = export(saved, backend, "tf_saved_model", tmp_path / "exported")
    result = run(SERVE, saved[0] / "inputs.npz",
                 *[folder / file_name for file_name, _, _ in MODELS], env=tensorflow_alone)
    assert result.returncode == 0, result.stderr[-3000:]
    served = {file_name: dict(np.load(folder / f"{file_name}.npz"))
              for file_name, _, _ in MODELS}
    check_served(served, saved)


@pytest.mark.parametrize("backend, converter", [("tensorflow", "tf2onnx"),
                                                ("torch", "torch")])
def test_an_onnx_export_serves_keras_predictions_in_onnxruntime(saved, backend, converter,
                                                                 tmp_path):
    """format="onnx" on TensorFlow (tf2onnx) or PyTorch (torch.onnx), run by onnxruntime."""
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime serves the ONNX files; "
                              "python -m pip install onnxruntime==1.32.0")
    pytest.importorskip("onnx", reason="Keras's ONNX export writes with onnx; "
                        "python -m pip install onnx==1.23.2")
    require(converter, f"Keras's ONNX export on {backend} converts with it")
    folder = export(saved, backend, "onnx", tmp_path)
    inputs = saved[1]
    served = {}
    for file_name, _, _ in MODELS:
        session = ort.InferenceSession(str(folder / f"{file_name}.onnx"),
                                       providers=["CPUExecutionProvider"])
        (first,) = session.get_inputs()
        served[file_name] = {padding: session.run(None, {first.name: X})[0]
                             for padding, X in inputs.items()}
    check_served(served, saved)


def test_onnx_from_jax_converts_the_forward_lstm_but_no_backward_one(saved, tmp_path):
    """Known failure (jax2onnx 0.17.1): Keras's ONNX export on JAX goes through jax2onnx, which
    has no reversed lax.scan, the loop of every go_backwards LSTM. The forward LSTM converts and
    gives Keras's predictions. When this test fails, the page's list of what fails is stale."""
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime serves the ONNX files")
    require("jax2onnx", "Keras's ONNX export on JAX converts with it")
    folder = export(saved, "jax", "onnx", tmp_path, ["lstm_forw_sequence.keras"])
    session = ort.InferenceSession(str(folder / "lstm_forw_sequence.onnx"),
                                   providers=["CPUExecutionProvider"])
    for padding, X in saved[1].items():
        np.testing.assert_allclose(session.run(None, {session.get_inputs()[0].name: X})[0],
                                   saved[3]["lstm_forw_sequence"][padding], rtol=0,
                                   atol=TOLERANCE)
    for file_name in ("bilstm_con_step", "lstm_back_step"):
        result = run(EXPORT, "onnx", tmp_path, saved[0] / f"{file_name}.keras",
                     env={"KERAS_BACKEND": "jax"})
        assert result.returncode != 0
        assert "NotImplementedError: Reverse scan is not supported in IR pipeline." in \
            result.stderr


def test_onnx_export_refuses_a_reloaded_model_until_it_is_called(saved):
    """Keras 3.15.1 checks `model._called`, which a reloaded model has not set: the export above
    calls the model once first. The check comes before any converter is imported, so this runs
    without one."""
    code = ("import keras; from suite import saving; "
            f"keras.saving.load_model({str(saved[0] / 'lstm_forw_sequence.keras')!r})"
            f".export({str(saved[0] / 'never_called.onnx')!r}, format='onnx')")
    result = run(code, env={"KERAS_BACKEND": "tensorflow"})
    assert result.returncode != 0
    assert "ValueError: The model provided has never called." in result.stderr


def test_a_saved_model_from_the_pytorch_backend_fails_in_torch_export(saved, tmp_path):
    """Known failure (Keras 3.15.1, torch 2.13.0): format="tf_saved_model" on the PyTorch
    backend passes torch.export dynamic shapes whose structure does not match the inputs'."""
    require("torch", "PyTorch is optional: make test-torch installs it")
    result = run(EXPORT, "tf_saved_model", tmp_path, saved[0] / "lstm_forw_sequence.keras",
                 env={"KERAS_BACKEND": "torch"})
    assert result.returncode != 0
    assert ("Detected mismatch between the structure of `inputs` and `dynamic_shapes`"
            in result.stderr)
