"""Inside the model: the recomputed states, the probes, and the script end to end."""

import keras
import numpy as np
import pandas as pd
import pytest

import bilstm_classify
import compare_directions
from experiments import inside_the_model
import lstm_baseline
from cumsum_data import get_sequences
from suite import training

TINY = ["--epochs", "6", "--repeats", "2", "--eval-sequences", "40", "--units", "3", "--quiet"]


def test_probe_finds_a_planted_linear_signal_and_nothing_in_noise():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(400, 10, 6))
    planted = features @ np.array([0.5, -2.0, 0.0, 1.0, 0.0, 0.3]) + 4.0
    assert inside_the_model.probe_r2(features, planted, 200) == pytest.approx(1.0, abs=1e-9)
    noisy = planted + rng.normal(scale=np.std(planted), size=planted.shape)
    assert inside_the_model.probe_r2(features, noisy, 200) == pytest.approx(0.5, abs=0.06)
    noise = rng.normal(size=(400, 10))
    assert abs(inside_the_model.probe_r2(features, noise, 200)) < 0.02
    unit, correlation = inside_the_model.best_unit(features, planted)
    assert unit == 1 and correlation < -0.8


def test_targets_by_hand():
    X = np.array([[0.5, 0.25, 1.0, 0.75]])[..., None]
    targets = inside_the_model.targets_of(X)
    np.testing.assert_allclose(targets["running_sum"], [[0.5, 0.75, 1.75, 2.5]])
    np.testing.assert_allclose(targets["remaining_sum"], [[2.5, 2.0, 1.75, 0.75]])
    # S_t = total - R_t + x_t, the identity that lets a backward LSTM find the running sum.
    np.testing.assert_allclose(targets["running_sum"],
                               2.5 - targets["remaining_sum"] + X[..., 0])
    np.testing.assert_allclose(targets["running_sum_beyond_position"],
                               [[0.0, -0.25, 0.25, 0.5]])
    np.testing.assert_allclose(targets["remaining_sum_beyond_position"],
                               [[0.5, 0.5, 0.75, 0.25]])


def test_transition_of_a_known_curve():
    margins = np.linspace(-1.45, 1.45, 30)
    probabilities = np.clip(0.5 + margins / 2, 0, 1)  # 10% at -0.8, 90% at +0.8
    *_, m10, m90 = inside_the_model.transition(probabilities, margins)
    assert m10 == pytest.approx(-0.8, abs=0.01) and m90 == pytest.approx(0.8, abs=0.01)
    *_, m10, m90 = inside_the_model.transition(np.full(30, 0.5), margins)
    assert np.isnan(m10) and np.isnan(m90)


@pytest.mark.backend
@pytest.mark.parametrize("build", [
    lambda: lstm_baseline.build_model(10, 4),
    lambda: lstm_baseline.build_model(10, 4, go_backwards=True),
    lambda: compare_directions.build_backward_aligned(10, 4),
    lambda: bilstm_classify.build_model(10, 4),
], ids=["forward", "go_backwards", "backward_aligned", "bidirectional"])
def test_recomputed_hidden_states_equal_the_layers_own_output(build):
    model = training.build_seeded(build, 3)
    # Weights away from their start, so the forget gate and the biases matter too.
    model.set_weights([w + np.random.default_rng(1).normal(scale=0.3, size=w.shape)
                       for w in model.get_weights()])
    X = get_sequences(8, 10, rng=2)[0]
    layer = model.layers[0]
    output = keras.ops.convert_to_numpy(keras.Model(model.inputs[0], layer.output)(X))
    weights = inside_the_model.lstm_weights(model)
    if hasattr(layer, "forward_layer"):
        units = output.shape[-1] // 2
        expected = {"forward": output[..., :units], "backward": output[..., units:]}
    elif layer.go_backwards:
        expected = {"backward": output[:, ::-1]}  # Keras returns it in reading order
    else:
        expected = {"forward": output}
    assert set(weights) == set(expected)
    final_states = _final_states_of(layer, X)
    for direction, (kernel, recurrent, bias) in weights.items():
        h, c = inside_the_model.lstm_states(X, kernel, recurrent, bias,
                                            backward=direction == "backward")
        np.testing.assert_allclose(h, expected[direction], atol=1e-5)
        # The cell state, which Keras does not return per step, against the one it returns at
        # the end: the last step a direction reads is t = T - 1 forwards and t = 0 backwards
        # (lstm_states gives both in time order).
        last_read = 0 if direction == "backward" else -1
        h_final, c_final = final_states[direction]
        np.testing.assert_allclose(h[:, last_read], h_final, atol=1e-5)
        np.testing.assert_allclose(c[:, last_read], c_final, atol=1e-5)
        assert not np.allclose(c_final, h_final, atol=0.01)  # a check of its own, not of h again


def _final_states_of(layer, X):
    """{direction: (h_T, c_T)} as Keras computes them: the same layer rebuilt with
    return_state=True, holding the same weights."""
    from keras import layers

    units = layer.forward_layer.units if hasattr(layer, "forward_layer") else layer.units
    if hasattr(layer, "forward_layer"):
        twin = layers.Bidirectional(layers.LSTM(units, return_sequences=True, return_state=True))
    else:
        twin = layers.LSTM(units, return_sequences=True, return_state=True,
                           go_backwards=layer.go_backwards)
    twin.build(X.shape)
    twin.set_weights(layer.get_weights())
    outputs = [keras.ops.convert_to_numpy(value) for value in twin(X)]
    if hasattr(layer, "forward_layer"):  # [output, forward h, forward c, backward h, backward c]
        return {"forward": tuple(outputs[1:3]), "backward": tuple(outputs[3:5])}
    return {"backward" if layer.go_backwards else "forward": tuple(outputs[1:3])}


def test_end_to_end_on_a_tiny_budget(tmp_path, capsys):
    probes, summary = inside_the_model.main(TINY + ["--output-dir", str(tmp_path)])
    written = pd.read_csv(tmp_path / "results" / "inside_the_model.csv")
    assert list(written.columns) == ["model", "seed", "direction", "state", "target", "r2",
                                     "best_unit", "best_unit_correlation"]
    # (1 + 1 + 2 directions) x 2 states x 5 targets x 2 seeds
    assert len(written) == len(probes) == 4 * 2 * 5 * 2
    assert set(written["model"]) == {"lstm_forw", "lstm_back_aligned", "bilstm_con"}
    assert written["best_unit"].between(0, 2).all()
    thresholds = pd.read_csv(tmp_path / "results" / "inside_the_model_threshold.csv")
    assert list(thresholds.columns) == ["model", "seed", "margin", "probability", "count"]
    written_summary = pd.read_csv(tmp_path / "results" / "inside_the_model_summary.csv")
    assert {"transition_width", "step_accuracy"} <= set(written_summary.columns)
    assert len(written_summary) == len(summary) == 3 * 2
    assert (tmp_path / "plots" / "inside_the_model.png").stat().st_size > 20_000
    printed = capsys.readouterr().out
    assert "R_t beyond pos." in printed and "transition_width" in printed


@pytest.mark.parametrize("flags, named", [
    (["--eval-sequences", "3"], "--eval-sequences"),
    (["--epochs", "0"], "--epochs"),
    (["--units", "x"], "--units"),
])
def test_bad_flags_exit_2_with_one_line(flags, named, assert_flag_error):
    assert_flag_error(inside_the_model.main, flags, named)
