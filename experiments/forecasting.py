"""Forecasting the airline passengers: a BiLSTM, forward and backward LSTMs, and naive forecasts.

Forecasting from a window is a task where reading backwards is legitimate: every one of the last
k months is known when the next one is forecast, so a BiLSTM sees nothing it should not. Each
model reads the last k months of Box & Jenkins's monthly airline passengers (1949-1960, the copy
sktime ships) and predicts the next month. The last 24 months are the test, the 12 before them
the validation part (the epoch of least validation loss is kept), the rest the training part.
Every test month is forecast one step ahead from the true months before it, by lstm_forw,
lstm_back (reading the window from its latest month), bilstm_con, and by the forecasts a model
must beat: naive (the month before) and seasonal_naive (the same month a year before). Errors are
on the original scale (RMSE, MAE and MASE, thousands of passengers); paired verdicts, over seeds
and over the test months, say whether the BiLSTM beats the forward LSTM and whether each model
beats each reference (docs/forecasting.md).

    KERAS_BACKEND=jax python -m experiments.forecasting
    KERAS_BACKEND=jax python -m experiments.forecasting --repeats 5 --epochs 100
    KERAS_BACKEND=jax python -m experiments.forecasting --no-log    # the raw counts, not their log
"""

if not __package__:  # run as a file, not as a module: the imports below would fail
    import sys

    sys.stderr.write("error: run it from the repository root as a module: "
                     "python -m experiments.forecasting\n")
    raise SystemExit(2)

import argparse
import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from suite import cli, sequence_data, tables
from suite.claims import Claim
from suite.environment import import_keras

MODELS = ("lstm_forw", "lstm_back", "bilstm_con")
NAIVE, SEASONAL_NAIVE = "naive", "seasonal_naive"
SEASON = 12  # months in the series' seasonal cycle
# The errors the models are compared on, lower the better (suite.claims reads that from the names).
MEASURES = ("test_rmse", "test_mae")


# ---------------------------------------------------------------- data


@dataclass
class Series:
    """A monthly series: its values, the month of each, and where they came from."""

    values: np.ndarray
    months: list
    source: str


def airline_passengers():
    """Box & Jenkins's Series G, as sktime ships it: 144 monthly totals, 1949-01 to 1960-12."""
    import sktime
    from sktime.datasets import load_airline

    y = load_airline()
    path = Path(sktime.__file__).parent / "datasets" / "data" / "Airline" / "Airline.csv"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.is_file() else "unknown"
    return Series(y.to_numpy(dtype=float), [str(month) for month in y.index],
                  "monthly international airline passengers in thousands, 1949-01 to 1960-12 "
                  "(Box & Jenkins's Series G: G. E. P. Box, G. M. Jenkins and G. C. Reinsel, "
                  "Time Series Analysis, Forecasting and Control, as sktime cites it), read with "
                  f"sktime {sktime.__version__}'s load_airline (Airline.csv, sha256 {digest}...)")


@dataclass
class Windows:
    """The series cut into (window of k months, next month) pairs, standardised; one set per part.

    parts: {"train", "val", "test"} -> (X (n, k, 1), y (n, 1)); targets: {part: indices of the
    forecast months in the series}; scale: (mean, std) of the training part after the transform.
    """

    parts: dict
    targets: dict
    scale: tuple
    log: bool

    def standardise(self, values):
        """Values of the series on the models' scale: transformed, then standardised."""
        mean, std = self.scale
        return (transform(values, self.log) - mean) / std

    def to_original(self, standardised):
        """Standardised forecasts back on the series' own scale."""
        mean, std = self.scale
        value = np.asarray(standardised, dtype=float) * std + mean
        return np.exp(value) if self.log else value


def transform(values, log):
    """The logarithm of the values (their seasonal swing grows with their level: on the log scale
    it stays about the same size, as Box & Jenkins model it), or the values as they are."""
    return np.log(values) if log else np.asarray(values, dtype=float)


def split_points(n_values, test_months, validation_months):
    """(first validation month, first test month): indices into the series."""
    first_test = n_values - test_months
    return first_test - validation_months, first_test


def make_windows(values, window, test_months, validation_months, log=True):
    """Windows of `window` past months for every month that has them, split by the month forecast:
    the last test_months are the test, the validation_months before them the validation part,
    the rest the training part. The transform (log, or none) and the standardisation use the
    training part's values only; a window of a later part reaches back into earlier ones, as a
    forecast made then would."""
    first_val, first_test = split_points(len(values), test_months, validation_months)
    transformed = transform(values, log)
    mean, std = transformed[:first_val].mean(), transformed[:first_val].std()
    z = ((transformed - mean) / std).astype(np.float32)
    bounds = {"train": (window, first_val), "val": (first_val, first_test),
              "test": (first_test, len(values))}
    parts, targets = {}, {}
    for part, (start, stop) in bounds.items():
        months = np.arange(start, stop)
        X = np.stack([z[t - window:t] for t in months])[..., None]
        parts[part] = (X, z[months][:, None])
        targets[part] = months
    return Windows(parts, targets, (float(mean), float(std)), log)


# ---------------------------------------------------------------- references and errors


def naive_forecasts(values, months, lag=1):
    """The value `lag` months before each month: naive (lag 1) or seasonal naive (lag 12)."""
    return np.asarray(values, dtype=float)[np.asarray(months) - lag]


def mase_scale(values, first_val, season=SEASON):
    """MASE's denominator (Hyndman & Koehler, 2006): the mean absolute error of the seasonal
    naive forecast within the training part."""
    train = np.asarray(values[:first_val], dtype=float)
    return float(np.abs(train[season:] - train[:-season]).mean())


def rmse(forecasts, actual):
    return float(np.sqrt(np.mean((np.asarray(forecasts) - np.asarray(actual)) ** 2)))


def errors(forecasts, actual, scale):
    """test_rmse, test_mae and test_mase of forecasts against the actual values."""
    mae = float(np.abs(np.asarray(forecasts) - np.asarray(actual)).mean())
    return {"test_rmse": rmse(forecasts, actual), "test_mae": mae, "test_mase": mae / scale}


# ---------------------------------------------------------------- models and training


def build_model(name, window, units=20, learning_rate=0.001):
    """`name` (one of MODELS): the last `window` months in, the next month out."""
    keras = import_keras()
    from keras import layers

    # lstm_back reads the window from its latest month back to its earliest.
    recurrent = layers.LSTM(units, go_backwards=name == "lstm_back")
    model = keras.Sequential([
        keras.Input(shape=(window, 1)),
        # Both directions read the same k known months: a forecast from a finished window may
        # read it backwards, which a forecast made step by step in a stream could not.
        layers.Bidirectional(recurrent) if name == "bilstm_con" else recurrent,
        # One number, no activation: the next month, standardised.
        layers.Dense(1),
    ], name=name)
    model.compile(loss="mse", optimizer=keras.optimizers.Adam(learning_rate))
    return model


@dataclass
class Trained:
    """One model over its seeds: per-epoch losses, the kept epoch and its forecasts."""

    name: str
    train_loss: np.ndarray  # (seeds, epochs): mean MSE of the epoch's batches, standardised
    val_loss: np.ndarray  # (seeds, epochs): MSE on the validation months, standardised
    best_epoch: np.ndarray  # (seeds,), 1-based: the epoch whose weights are kept
    val_forecasts: np.ndarray  # (seeds, validation months), standardised, by the kept weights
    test_forecasts: np.ndarray  # (seeds, test months), standardised
    seconds: float
    params: int
    method: str


def train_seeds(build, name, windows, orders, seeds, method="auto"):
    """Train model `name` (build() makes it) once per seed, each from its
    `weights.initial_weights` and taking its batches in `orders[seed]`; every seed keeps the
    weights of its epoch of least validation loss. On JAX (method "compiled") the seeds train side
    by side in one program, as suite/sequence_models.py trains them; elsewhere
    ("train_on_batch") one batch at a time, seed after seed, with the same numbers."""
    keras = import_keras()
    model = build()
    if method == "auto":
        method = "compiled" if keras.backend.backend() == "jax" else "train_on_batch"
    run = _run_jax if method == "compiled" else _run_step_by_step
    start = time.perf_counter()
    train_loss, val_loss, val, test = run(model, windows, [orders[s] for s in seeds], seeds)
    val_loss = np.asarray(val_loss)
    return Trained(name, np.asarray(train_loss), val_loss, np.argmin(val_loss, axis=1) + 1,
                   np.asarray(val)[..., 0], np.asarray(test)[..., 0],
                   time.perf_counter() - start, model.count_params(), method)


def _run_step_by_step(model, windows, orders, seeds):
    from suite import training

    optimizer_initial = training.optimizer_state(model)
    X, y = windows.parts["train"]
    X_val, y_val = windows.parts["val"]
    train_loss, val_loss, val, test = [], [], [], []
    for seed, order in zip(seeds, orders):
        training.reset(model, seed, optimizer_initial)
        best, kept, losses, val_losses = np.inf, None, [], []
        for epoch_order in order:
            losses.append(np.mean([float(model.train_on_batch(X[rows], y[rows]))
                                   for rows in epoch_order]))
            val_losses.append(float(np.mean((_predict(model, X_val) - y_val) ** 2)))
            if val_losses[-1] < best:
                best, kept = val_losses[-1], model.get_weights()
        model.set_weights(kept)
        train_loss.append(losses)
        val_loss.append(val_losses)
        val.append(_predict(model, X_val))
        test.append(_predict(model, windows.parts["test"][0]))
    return train_loss, val_loss, val, test


def _predict(model, X):
    return np.asarray(model.predict_on_batch(X), dtype=np.float32)


def _run_jax(model, windows, orders, seeds):
    """Every seed side by side: jax.lax.scan over epochs and batches, jax.vmap over seeds."""
    import jax
    import jax.numpy as jnp

    from suite import sequence_models, training

    optimizer_initial = training.optimizer_state(model)
    metrics_variables = [v.value for v in model.metrics_variables]
    X, y = (jnp.asarray(a) for a in windows.parts["train"])
    X_val, y_val = (jnp.asarray(a) for a in windows.parts["val"])
    X_test = jnp.asarray(windows.parts["test"][0])

    def stateless_loss(trainable, non_trainable, x, target):
        forecast, non_trainable = model.stateless_call(trainable, non_trainable, x, training=True)
        loss, _ = model.stateless_compute_loss(trainable, non_trainable, metrics_variables,
                                               x=x, y=target, y_pred=forecast)
        return loss, non_trainable

    def run(trainable, non_trainable, optimizer_variables, order):
        def step(state, rows):
            return sequence_models.adam_step(model, stateless_loss, state, X[rows], y[rows])

        def epoch(carry, epoch_order):
            state, best = carry
            state, losses = jax.lax.scan(step, state, epoch_order)
            forecast = model.stateless_call(state[0], state[1], X_val)[0]
            val = jnp.mean((forecast - y_val) ** 2)
            return (state, sequence_models.kept_best(state, best, val)), (losses.mean(), val)

        state = (trainable, non_trainable, optimizer_variables)
        best = (trainable, non_trainable, jnp.asarray(jnp.inf, dtype="float32"))
        (_, best), (losses, val_losses) = jax.lax.scan(epoch, (state, best), order)
        return (losses, val_losses, model.stateless_call(best[0], best[1], X_val)[0],
                model.stateless_call(best[0], best[1], X_test)[0])

    program = jax.jit(jax.vmap(run), compiler_options=training.JAX_COMPILER_OPTIONS)
    return program(*sequence_models.initial_states(model, seeds, optimizer_initial),
                   np.stack(orders))


# ---------------------------------------------------------------- the run's tables


def summarise(series, windows, trained, seeds):
    """(per-epoch rows, per-seed summary, forecasts per month) of the models and the references;
    the references' rows repeat for every seed so that they pair with each seed's models."""
    first_val = int(windows.targets["val"][0])
    scale = mase_scale(series.values, first_val)
    val_months, test_months = windows.targets["val"], windows.targets["test"]
    actual = series.values[test_months]
    per_epoch, summary, forecasts = [], [], []
    for name, run in trained.items():
        for r, seed in enumerate(seeds):
            per_epoch.append(pd.DataFrame({
                "model": name, "seed": seed, "epoch": np.arange(1, run.val_loss.shape[1] + 1),
                "loss": run.train_loss[r], "val_loss": run.val_loss[r]}))
            forecast = windows.to_original(run.test_forecasts[r])
            kept = int(run.best_epoch[r])
            summary.append({"model": name, "seed": seed, "epoch": kept,
                            "val_loss": float(run.val_loss[r, kept - 1]),
                            "val_rmse": rmse(windows.to_original(run.val_forecasts[r]),
                                             series.values[val_months]),
                            **errors(forecast, actual, scale), "params": run.params,
                            "train_seconds": run.seconds / len(seeds)})
            forecasts.append(pd.DataFrame({"model": name, "seed": seed,
                                           "month": [series.months[t] for t in test_months],
                                           "actual": actual, "forecast": forecast}))
    z = windows.standardise(series.values)
    for name, lag in ((NAIVE, 1), (SEASONAL_NAIVE, SEASON)):
        forecast = naive_forecasts(series.values, test_months, lag)
        # Its validation loss on the models' scale too, so that the two read side by side.
        row = {"epoch": 0, "val_loss": float(np.mean((z[val_months - lag] - z[val_months]) ** 2)),
               "val_rmse": rmse(naive_forecasts(series.values, val_months, lag),
                                series.values[val_months]),
               **errors(forecast, actual, scale), "params": 0, "train_seconds": 0.0}
        summary += [{"model": name, "seed": seed, **row} for seed in seeds]
        forecasts.append(pd.DataFrame({"model": name, "seed": np.nan,
                                       "month": [series.months[t] for t in test_months],
                                       "actual": actual, "forecast": forecast}))
    return (pd.concat(per_epoch, ignore_index=True), pd.DataFrame(summary),
            pd.concat(forecasts, ignore_index=True))


def claims_to_test(summary):
    """Does the BiLSTM beat the forward LSTM (and the backward one), and does each model beat
    each reference? On test RMSE and MAE (MASE is MAE over a constant: the same verdicts)."""
    models = [m for m in MODELS if m in set(summary["model"])]
    pairs = [(first, second) for first, second in (("bilstm_con", "lstm_forw"),
                                                   ("bilstm_con", "lstm_back"),
                                                   ("lstm_back", "lstm_forw"))
             if first in models and second in models]
    pairs += [(model, reference) for model in models for reference in (NAIVE, SEASONAL_NAIVE)]
    return [Claim(first, second, measure) for first, second in pairs for measure in MEASURES]


def compare(summary, forecasts):
    """The verdicts, twice: paired over seeds on the 24 test months (`suite.claims.compare`:
    what training's randomness leaves), and paired over the test months on the mean absolute
    error of the seeds' forecasts (what the months themselves leave)."""
    from suite import claims

    to_test = claims_to_test(summary)
    over_seeds = claims.compare(summary, to_test)
    over_seeds["resampled"] = "seeds"
    error = (forecasts.assign(error=(forecasts["forecast"] - forecasts["actual"]).abs())
             .groupby(["model", "month"], sort=False)["error"].mean().unstack())
    rows = []
    for claim in to_test:
        if claim.measure != "test_mae":
            continue  # RMSE is no mean over months: it is left to the seeds
        paired = (error.loc[claim.first] - error.loc[claim.second]).to_numpy()
        difference, low, high = claims.bootstrap_ci(paired)
        rows.append({"pair": claim.pair, "measure": claim.measure, "expected": "lower",
                     "difference": difference, "ci_low": low, "ci_high": high,
                     "verdict": claims.verdict(low, high), "resampled": "months"})
    return pd.concat([over_seeds, pd.DataFrame(rows)], ignore_index=True)


# ---------------------------------------------------------------- output


def summary_table(summary):
    """Mean ± standard deviation over seeds per model (one value for a reference)."""
    rows = []
    for name, group in summary.groupby("model", sort=False):
        trained = name in MODELS
        rows.append({"model": name, "runs": len(group) if trained else "-",
                     "params": f"{group['params'].iloc[0]:,}",
                     "epoch": tables.mean_and_spread(group["epoch"], digits=1) if trained else "-",
                     **{column: tables.mean_and_spread(group[column], digits=digits)
                        if trained else f"{group[column].iloc[0]:.{digits}f}"
                        for column, digits in (("val_rmse", 1), ("test_rmse", 1),
                                               ("test_mae", 1), ("test_mase", 3))}})
    return (pd.DataFrame(rows).to_string(index=False)
            + "\n(mean ± standard deviation over seeds; errors in thousands of passengers over "
              "the validation months (val_) and the test months (test_), MASE against the "
              "seasonal naive forecast's mean absolute error in the training months; epoch: the "
              "epoch whose weights are kept, that of least validation loss)")


def plot_results(series, per_epoch, summary, forecasts, first_test, title):
    """The test months with each model's forecasts (mean over seeds, the band where the middle
    95% of seeds lie) and the references'; the validation loss per epoch; test RMSE by seed."""
    import matplotlib.pyplot as plt

    from suite import plotting

    fig = plt.figure(figsize=(14, 10))
    grid = fig.add_gridspec(2, 2)
    series_ax = fig.add_subplot(grid[0, :])
    curves_ax, rmse_ax = fig.add_subplot(grid[1, 0]), fig.add_subplot(grid[1, 1])
    colors = dict(zip(MODELS, plotting.colors()))
    shown = np.arange(max(0, first_test - 36), len(series.values))
    series_ax.plot(shown, series.values[shown], color="black", marker=".", label="actual")
    series_ax.axvline(first_test - 0.5, color="grey", linewidth=1)
    test = np.arange(first_test, len(series.values))
    for name, style in ((NAIVE, ":"), (SEASONAL_NAIVE, "--")):
        values = forecasts.loc[forecasts["model"] == name, "forecast"].to_numpy()
        series_ax.plot(test, values, color="black", linestyle=style, linewidth=1, label=name)
    for name in [m for m in MODELS if m in set(forecasts["model"])]:
        table = forecasts[forecasts["model"] == name].pivot(index="seed", columns="month",
                                                            values="forecast")
        table = table[[series.months[t] for t in test]].to_numpy()
        low, high = np.percentile(table, [2.5, 97.5], axis=0)
        series_ax.plot(test, table.mean(axis=0), color=colors[name], label=name)
        series_ax.fill_between(test, low, high, color=colors[name], alpha=0.2)
    ticks = shown[::6]
    series_ax.set_xticks(ticks, [series.months[t] for t in ticks])
    series_ax.set_ylabel("passengers (thousands)")
    series_ax.set_title("one-step-ahead forecasts of the test months (right of the grey line)")
    series_ax.grid(alpha=0.3)
    plotting.legend_below(series_ax, title="models: mean over seeds, band: the middle 95% of "
                                           "seeds")

    curves = {name: group.pivot(index="seed", columns="epoch", values="val_loss")
              for name, group in per_epoch.groupby("model", sort=False)}
    plotting.plot_runs(curves_ax, curves, ylabel="validation MSE (standardised)", xlabel="epoch")
    for name, style in ((NAIVE, ":"), (SEASONAL_NAIVE, "--")):
        value = summary.loc[summary["model"] == name, "val_loss"].iloc[0]
        curves_ax.axhline(value, color="black", linestyle=style, linewidth=1)
        curves_ax.annotate(f"{name} {value:.3f}", (1, value), xycoords=("axes fraction", "data"),
                           ha="right", va="bottom", fontsize="small")
    curves_ax.set_yscale("log")
    curves_ax.set_title("validation loss (dotted, dashed: the references)")

    names = [m for m in MODELS if m in set(summary["model"])]
    for i, name in enumerate(names):
        values = summary.loc[summary["model"] == name, "test_rmse"]
        jitter = np.random.default_rng(i).uniform(-0.15, 0.15, len(values))
        rmse_ax.scatter(i + jitter, values, s=12, alpha=0.6, color=colors[name])
        rmse_ax.hlines(values.mean(), i - 0.3, i + 0.3, color="black")
    for name, style in ((NAIVE, ":"), (SEASONAL_NAIVE, "--")):
        value = summary.loc[summary["model"] == name, "test_rmse"].iloc[0]
        rmse_ax.axhline(value, color="black", linestyle=style, linewidth=1,
                        label=f"{name}: {value:.1f}")
    rmse_ax.set_xticks(range(len(names)), names)
    rmse_ax.set_ylabel("test RMSE, thousands (one dot per seed, line: mean)")
    rmse_ax.set_title("test RMSE")
    rmse_ax.grid(alpha=0.3, axis="y")
    rmse_ax.legend(loc="upper right", fontsize="small")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- command line

# The series' length, known before sktime loads it, so that the flags are checked at once.
AIRLINE_MONTHS = 144


def parse_args(argv=None):
    parser = cli.ArgumentParser(__name__, description=__doc__)
    parser.add_argument("--window", type=cli.positive_int, default=12,
                        help="past months each forecast reads (k)")
    parser.add_argument("--test-months", type=cli.positive_int, default=24,
                        help="the last months of the series, forecast one step ahead each")
    parser.add_argument("--validation-months", type=cli.positive_int, default=12,
                        help="the months before the test, whose loss picks the epoch kept")
    parser.add_argument("--no-log", action="store_true",
                        help="model the passenger counts themselves instead of their logarithm")
    parser.add_argument("--units", type=cli.positive_int, default=20,
                        help="memory units in each LSTM (each direction of the BiLSTM)")
    parser.add_argument("--epochs", type=cli.positive_int, default=300,
                        help="passes over the training windows")
    parser.add_argument("--batch-size", type=cli.positive_int, default=16,
                        help="training windows per Adam step")
    # Ten times Keras's default: with 6 steps an epoch, at 0.001 the forward LSTM's validation
    # loss still falls after 1,000 epochs, and ends higher than at 0.01 for every model.
    parser.add_argument("--learning-rate", type=positive_float, default=0.01,
                        help="Adam's learning rate")
    parser.add_argument("--model", nargs="+", choices=MODELS, default=list(MODELS),
                        help="the models to train")
    cli.add_seed_arguments(parser, repeats=30, fixes="the initial weights and the batches")
    cli.add_output_argument(parser)
    cli.add_quiet_argument(parser)
    return cli.parse(parser, argv, check=lambda args: check_arguments(parser, args),
                     memory=memory)


def positive_float(text):
    """An argparse type: a number above zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or not np.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a number above 0, got {text}")
    return value


def check_arguments(parser, args):
    cli.check_distinct(parser, args, "model")
    first_val, _ = split_points(AIRLINE_MONTHS, args.test_months, args.validation_months)
    if first_val <= SEASON:
        parser.error(f"argument --test-months: with --validation-months "
                     f"{args.validation_months} it leaves {max(first_val, 0)} months to train "
                     f"on; the references and MASE need more than {SEASON}")
    if args.window >= first_val:
        parser.error(f"argument --window: {args.window} months leave no training window in "
                     f"the {first_val} training months")
    if args.batch_size > first_val - args.window:
        parser.error(f"argument --batch-size: {args.batch_size} is more than the "
                     f"{first_val - args.window} training windows")


def memory(args):
    """Every seed's weights, Adam's moments, gradients and kept weights, and the LSTMs'
    activations of a batch and of the held-out months, for the largest model, the BiLSTM."""
    params = 2 * 4 * args.units * (args.units + 2) + 2 * args.units + 1
    windows = AIRLINE_MONTHS * args.window * 8 * 2 * args.units
    return (4 * args.repeats * (5 * params + windows), "--repeats",
            "the weights, optimizer state and activations of every seed")


def run_name(args):
    return "forecasting" + ("_raw" if args.no_log else "")


def main(argv=None):
    args = parse_args(argv)
    series = airline_passengers()
    assert len(series.values) == AIRLINE_MONTHS, "the series' length the flags were checked with"
    windows = make_windows(series.values, args.window, args.test_months,
                           args.validation_months, log=not args.no_log)
    first_val, first_test = split_points(len(series.values), args.test_months,
                                         args.validation_months)
    name = run_name(args)
    if not args.quiet:
        print(f"Data: {series.source}")
        print(f"Training months {series.months[0]} to {series.months[first_val - 1]} "
              f"({len(windows.targets['train'])} windows of {args.window}), validation "
              f"{series.months[first_val]} to {series.months[first_test - 1]}, test "
              f"{series.months[first_test]} to {series.months[-1]}; "
              f"{'log, then ' if windows.log else ''}standardised with the training months' "
              f"mean and standard deviation")
    from suite import outputs

    seeds = tables.seeds_of(args)
    n_train = len(windows.targets["train"])
    orders = {seed: sequence_data.batch_orders(n_train, args.batch_size, args.epochs, seed)
              for seed in seeds}
    with outputs.kept_on_interrupt():
        trained, timing = {}, []
        for model_name in args.model:
            def build(model_name=model_name):
                return build_model(model_name, args.window, args.units, args.learning_rate)

            trained[model_name] = run = train_seeds(build, model_name, windows, orders, seeds)
            timing.append({"part": model_name, "method": run.method, "seconds": run.seconds})
            if not args.quiet:
                print(f"Trained {model_name}: {len(seeds)} run(s) x {args.epochs} epochs "
                      f"({run.method}), {run.seconds:.1f} s", flush=True)
        per_epoch, summary, forecasts = summarise(series, windows, trained, seeds)
        comparison = compare(summary, forecasts)
        # The whole command, from its start: imports, data, training, references, verdicts.
        timing.append({"part": "total", "method": "", "seconds":
                       time.perf_counter() - args.started})
        title = (f"{name}: airline passengers, {args.window}-month windows"
                 f"{' of the log' if windows.log else ''}; {args.units} units, {args.epochs} "
                 f"epochs of batch {args.batch_size}, Adam at {args.learning_rate:g}; "
                 f"{cli.describe_seeds(args)}")
        figure = plot_results(series, per_epoch, summary, forecasts, first_test, title)
        outputs.write_results(args.output_dir, {
            f"results/{name}.csv": per_epoch, f"results/{name}_summary.csv": summary,
            f"results/{name}_forecasts.csv": forecasts,
            f"results/{name}_comparison.csv": comparison,
            f"results/{name}_timing.csv": pd.DataFrame(timing),
        }, {f"plots/{name}.png": figure}, name=name, quiet=args.quiet, run=args)
    from suite import claims

    print()
    print(summary_table(summary))
    print()
    print(claims.comparison_table(comparison))
    print(f"(resampled: seeds, each seed's errors over the {args.test_months} test months, "
          "paired by seed; months, each month's absolute error averaged over the seeds, paired "
          "by month, the months resampled as if independent: difference = mean over months)")
    return summary, comparison


if __name__ == "__main__":
    main()
