"""Forecasting the airline passengers (experiments/forecasting.py): the references and errors
counted by hand, the windows and their scaling, the two training paths, a tiny run end to end,
and flags refused in one line."""

import numpy as np
import pandas as pd
import pytest

from experiments import forecasting

# ---------------------------------------------------------------- facts by hand


def test_the_references_and_errors_count_by_hand():
    # 100, 110, ..., 230, then 300 where the trend says 240.
    values = 100.0 + 10 * np.arange(15)
    values[14] = 300.0
    months = np.array([13, 14])  # forecast 230 and 300
    naive = forecasting.naive_forecasts(values, months)
    np.testing.assert_array_equal(naive, [220.0, 230.0])  # the month before
    seasonal = forecasting.naive_forecasts(values, months, lag=12)
    np.testing.assert_array_equal(seasonal, [110.0, 120.0])  # the same month a year before
    # The seasonal naive forecast within the first 13 months is 120 short every time.
    assert forecasting.mase_scale(values, first_val=13) == 120.0
    # Errors -10 and -70: RMSE sqrt((100 + 4900) / 2) = 50, MAE 40, MASE 40 / 120.
    assert forecasting.errors(naive, values[months], 120.0) == pytest.approx(
        {"test_rmse": 50.0, "test_mae": 40.0, "test_mase": 1 / 3})
    # Errors -120 and -180: RMSE sqrt((14400 + 32400) / 2), MAE 150.
    assert forecasting.errors(seasonal, values[months], 120.0) == pytest.approx(
        {"test_rmse": np.sqrt(23400.0), "test_mae": 150.0, "test_mase": 1.25})


@pytest.mark.parametrize("log", [False, True])
def test_windows_hold_the_past_months_scaled_by_the_training_part_alone(log):
    values = np.arange(1.0, 41.0)
    windows = forecasting.make_windows(values, window=3, test_months=5, validation_months=4,
                                       log=log)
    # 40 months: 31 to train on (windows for months 3 to 30), then 4 to validate, 5 to test.
    assert [list(windows.targets[part][[0, -1]]) for part in ("train", "val", "test")] == [
        [3, 30], [31, 34], [35, 39]]
    transformed = np.log(values) if log else values
    mean, std = transformed[:31].mean(), transformed[:31].std()
    assert windows.scale == pytest.approx((mean, std))
    X, y = windows.parts["test"]
    assert X.shape == (5, 3, 1) and y.shape == (5, 1)
    # The first test month's window is the three true months before it, from the validation part.
    np.testing.assert_allclose(X[0, :, 0], (transformed[32:35] - mean) / std, rtol=1e-6)
    np.testing.assert_allclose(windows.to_original(y[:, 0]), values[35:], rtol=1e-5)
    # The months after the training part do not move the scaling.
    changed = values.copy()
    changed[31:] *= 10
    assert forecasting.make_windows(changed, 3, 5, 4, log=log).scale == windows.scale


def test_parameter_counts():
    # An LSTM of 20 units on one value: 4 gates x (20 x (1 + 20) weights + 20 biases) = 1,760,
    # and the Dense layer 20 + 1; the BiLSTM has two LSTMs and a Dense layer of 40 + 1.
    assert forecasting.build_model("lstm_forw", 12).count_params() == 1760 + 21
    assert forecasting.build_model("lstm_back", 12).count_params() == 1760 + 21
    assert forecasting.build_model("bilstm_con", 12).count_params() == 2 * 1760 + 41


# ---------------------------------------------------------------- training


@pytest.mark.backend
def test_the_compiled_path_takes_the_same_steps_as_train_on_batch():
    import keras

    from suite import sequence_data

    if keras.backend.backend() != "jax":
        pytest.skip("the compiled path is JAX's")
    values = 100 + 20 * np.sin(np.arange(60) * np.pi / 6) + np.arange(60)
    windows = forecasting.make_windows(values, window=6, test_months=6, validation_months=6)
    seeds = [0, 1]
    orders = {seed: sequence_data.batch_orders(len(windows.targets["train"]), 8, 3, seed)
              for seed in seeds}
    for name in ("lstm_back", "bilstm_con"):
        def build(name=name):
            return forecasting.build_model(name, 6, units=3)

        fast = forecasting.train_seeds(build, name, windows, orders, seeds, "compiled")
        slow = forecasting.train_seeds(build, name, windows, orders, seeds, "train_on_batch")
        np.testing.assert_allclose(fast.train_loss, slow.train_loss, atol=1e-5)
        np.testing.assert_allclose(fast.val_loss, slow.val_loss, atol=1e-5)
        np.testing.assert_array_equal(fast.best_epoch, slow.best_epoch)
        np.testing.assert_allclose(fast.val_forecasts, slow.val_forecasts, atol=1e-5)
        np.testing.assert_allclose(fast.test_forecasts, slow.test_forecasts, atol=1e-5)


# ---------------------------------------------------------------- the command


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("forecasting")
    summary, comparison = forecasting.main([
        "--repeats", "2", "--epochs", "2", "--units", "2", "--batch-size", "32",
        "--model", "lstm_forw", "bilstm_con", "--quiet", "--output-dir", str(folder)])
    return folder, summary, comparison


def test_a_tiny_run_writes_its_tables_and_plot(tiny_run):
    folder, summary, comparison = tiny_run
    results = folder / "results"
    columns = {
        "forecasting.csv": ["model", "seed", "epoch", "loss", "val_loss"],
        "forecasting_summary.csv": ["model", "seed", "epoch", "val_loss", "val_rmse",
                                    "test_rmse", "test_mae", "test_mase", "params",
                                    "train_seconds"],
        "forecasting_forecasts.csv": ["model", "seed", "month", "actual", "forecast"],
        "forecasting_comparison.csv": ["pair", "measure", "expected", "difference", "ci_low",
                                       "ci_high", "verdict", "resampled"],
        "forecasting_timing.csv": ["part", "method", "seconds"],
    }
    for name, expected in columns.items():
        assert list(pd.read_csv(results / name).columns) == expected, name
    assert (results / "forecasting_run.csv").is_file()
    assert (folder / "plots" / "forecasting.png").stat().st_size > 0
    per_epoch = pd.read_csv(results / "forecasting.csv")
    assert len(per_epoch) == 2 * 2 * 2  # models x seeds x epochs
    assert sorted(summary["model"].unique()) == ["bilstm_con", "lstm_forw", "naive",
                                                 "seasonal_naive"]
    forecasts = pd.read_csv(results / "forecasting_forecasts.csv")
    assert forecasts.groupby("model").size().to_dict() == {
        "bilstm_con": 48, "lstm_forw": 48, "naive": 24, "seasonal_naive": 24}
    assert set(comparison["resampled"]) == {"seeds", "months"}
    assert "bilstm_con - lstm_forw" in set(comparison["pair"])


def test_the_references_errors_on_the_real_series(tiny_run):
    """The naive forecasts' errors, recomputed here from sktime's series: the last 24 months
    (and the 12 before them) against the month before and the month a year before."""
    from sktime.datasets import load_airline

    _, summary, _ = tiny_run
    y = load_airline().to_numpy(dtype=float)
    scale = np.abs(y[12:108] - y[:96]).mean()  # seasonal naive within 1949-1957
    for name, lag in (("naive", 1), ("seasonal_naive", 12)):
        error = y[120 - lag:144 - lag] - y[120:]
        row = summary[summary["model"] == name].iloc[0]
        assert row["test_rmse"] == pytest.approx(np.sqrt((error**2).mean()))
        assert row["test_mae"] == pytest.approx(np.abs(error).mean())
        assert row["test_mase"] == pytest.approx(np.abs(error).mean() / scale)
        val_error = y[108 - lag:120 - lag] - y[108:120]
        assert row["val_rmse"] == pytest.approx(np.sqrt((val_error**2).mean()))


@pytest.mark.parametrize("flags, named", [
    (["--batch-size", "200"], "--batch-size"),
    (["--window", "108"], "--window"),
    (["--window", "0"], "--window"),
    (["--test-months", "125"], "--test-months"),
    (["--learning-rate", "0"], "--learning-rate"),
    (["--learning-rate", "fast"], "--learning-rate"),
    (["--model", "lstm_forw", "lstm_forw"], "--model"),
    (["--model", "bilstm_sum"], "--model"),
])
def test_a_bad_flag_is_one_line_and_exit_status_2(assert_flag_error, flags, named):
    assert_flag_error(forecasting.main, flags, named)
