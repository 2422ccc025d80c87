"""Inside the model: what the forward and backward LSTMs keep count of.

The label at step t says whether the running sum S_t = x_0 + ... + x_t has reached
n_timesteps / 4. A forward LSTM has read x_0 ... x_t, so it can keep S_t; a backward LSTM has read
x_t ... x_{T-1}, so it can keep the remaining sum R_t = x_t + ... + x_{T-1}, from which
S_t = total - R_t + x_t. This script trains the tutorial's forward LSTM, the backward LSTM with
its outputs in time order, and the Bidirectional LSTM (1,000 epochs of one fresh sequence, as in
the tutorial; 30 seeds), then reads their states on held-out sequences:

- the hidden state h_t of each direction, and the cell state c_t, which Keras's LSTM does not
  return per step: both are recomputed from the trained weights (checked against the layer);
- linear read-outs (fit on one half of the held-out sequences, R-squared on the other half) from
  each state to the position t, to S_t and R_t, and to the parts of S_t and R_t that the
  position cannot tell (each minus its mean at that position: the honest test, since both sums
  grow with t); and the one unit most correlated with each;
- the model's P(y_t = 1) against the margin S_t - n_timesteps / 4: how sharp its threshold is.

    python -m experiments.inside_the_model
    python -m experiments.inside_the_model --repeats 5 --eval-sequences 4000
"""

if not __package__:  # run as a file, not as a module: the imports below would fail
    import sys

    sys.stderr.write("error: run it from the repository root as a module: "
                     "python -m experiments.inside_the_model\n")
    raise SystemExit(2)

from suite import cli, resources
import numpy as np
import pandas as pd

import compare_directions

SCRIPT = "inside_the_model"
# The models, and which of their LSTM directions each one has.
DIRECTIONS = {"lstm_forw": ["forward"], "lstm_back_aligned": ["backward"],
              "bilstm_con": ["forward", "backward"]}
TARGETS = ["position", "running_sum", "remaining_sum", "running_sum_beyond_position",
           "remaining_sum_beyond_position"]
MARGIN_BINS = np.linspace(-2.5, 2.5, 51)  # S_t - limit, in bins of 0.1


def get_models(n_timesteps, units):
    """The models of DIRECTIONS, built as compare_directions.py builds them."""
    models = compare_directions.get_models(n_timesteps, units)
    return {name: models[name] for name in DIRECTIONS}


# ---------------------------------------------------------------- the states, recomputed


def lstm_weights(model):
    """{direction: (kernel, recurrent kernel, bias)} of the model's LSTM layer(s), as NumPy."""
    layer = model.layers[0]
    if hasattr(layer, "forward_layer"):  # Bidirectional
        return {"forward": tuple(layer.forward_layer.get_weights()),
                "backward": tuple(layer.backward_layer.get_weights())}
    return {"backward" if layer.go_backwards else "forward": tuple(layer.get_weights())}


def lstm_states(X, kernel, recurrent, bias, backward=False):
    """h_t and c_t of a Keras LSTM (gates in Keras's order: input, forget, cell, output) for every
    step of X (sequences, T, features), in time order: for a backward LSTM, the state at t is the
    one after reading x_{T-1} down to x_t."""
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731  Keras's default recurrent activation
    X = np.asarray(X, dtype=np.float64)
    if backward:
        X = X[:, ::-1]
    units = recurrent.shape[0]
    h = np.zeros((len(X), units))
    c = np.zeros((len(X), units))
    hs, cs = [], []
    for t in range(X.shape[1]):
        z = X[:, t] @ kernel + h @ recurrent + bias
        i, f = sigmoid(z[:, :units]), sigmoid(z[:, units : 2 * units])
        g, o = np.tanh(z[:, 2 * units : 3 * units]), sigmoid(z[:, 3 * units :])
        c = f * c + i * g
        h = o * np.tanh(c)
        hs.append(h)
        cs.append(c)
    hs, cs = np.stack(hs, axis=1), np.stack(cs, axis=1)
    if backward:
        hs, cs = hs[:, ::-1], cs[:, ::-1]
    return hs, cs


def targets_of(X):
    """The quantities a state may hold, per sequence and step: {name: (sequences, T)}."""
    values = np.asarray(X, dtype=np.float64)[..., 0]
    n_timesteps = values.shape[1]
    position = np.broadcast_to(np.arange(n_timesteps, dtype=float), values.shape)
    running = np.cumsum(values, axis=1)
    remaining = np.cumsum(values[:, ::-1], axis=1)[:, ::-1]
    # Each value is uniform on [0, 1), so E[S_t] = (t + 1) / 2 and E[R_t] = (T - t) / 2.
    return {"position": position, "running_sum": running, "remaining_sum": remaining,
            "running_sum_beyond_position": running - (position + 1) / 2,
            "remaining_sum_beyond_position": remaining - (n_timesteps - position) / 2}


# ---------------------------------------------------------------- probes


def probe_r2(features, target, n_fit):
    """R-squared on the held-out part of a least-squares linear read-out with an intercept.

    features (sequences, T, units), target (sequences, T): fit on the first n_fit sequences,
    scored on the rest, every step of a sequence on the same side.
    """
    design = np.concatenate([features, np.ones(features.shape[:-1] + (1,))], axis=-1)
    fit_X, fit_y = design[:n_fit].reshape(-1, design.shape[-1]), target[:n_fit].ravel()
    test_X, test_y = design[n_fit:].reshape(-1, design.shape[-1]), target[n_fit:].ravel()
    coefficients, *_ = np.linalg.lstsq(fit_X, fit_y, rcond=None)
    residual = test_y - test_X @ coefficients
    return 1 - (residual @ residual) / ((test_y - test_y.mean()) @ (test_y - test_y.mean()))


def best_unit(features, target):
    """The unit whose activation correlates most with the target, and that correlation."""
    flat = features.reshape(-1, features.shape[-1])
    centred = flat - flat.mean(axis=0)
    goal = target.ravel() - target.mean()
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = centred.T @ goal / np.sqrt((centred**2).sum(axis=0) * (goal @ goal))
    correlation = np.nan_to_num(correlation)
    unit = int(np.argmax(np.abs(correlation)))
    return unit, float(correlation[unit])


def transition(probabilities, margins, bins=MARGIN_BINS):
    """Mean P(y_t = 1) per margin bin, and the margins where it crosses 10% and 90%."""
    which = np.digitize(margins.ravel(), bins) - 1
    inside = (which >= 0) & (which < len(bins) - 1)
    sums = np.bincount(which[inside], probabilities.ravel()[inside], minlength=len(bins) - 1)
    counts = np.bincount(which[inside], minlength=len(bins) - 1)
    with np.errstate(invalid="ignore"):
        curve = sums / counts
    centres = (bins[:-1] + bins[1:]) / 2
    known = counts > 0
    return centres, curve, counts, *crossings_around_half(centres[known], curve[known])


def crossings_around_half(margins, curve, low=0.1, high=0.9):
    """Where the curve, walking out from its first point at or above one half, last rises
    through `low` and first reaches `high`, interpolated linearly; NaN where it does not."""
    above = np.flatnonzero(curve >= 0.5)
    if not len(above):
        return np.nan, np.nan
    middle = above[0]
    below_low = np.flatnonzero(curve[:middle] <= low)
    m_low = np.nan
    if len(below_low):
        j = below_low[-1]
        m_low = float(np.interp(low, curve[j : j + 2], margins[j : j + 2]))
    reaching_high = np.flatnonzero(curve[middle:] >= high)
    m_high = np.nan
    if len(reaching_high):
        k = middle + reaching_high[0]
        m_high = (float(margins[k]) if k == 0 else
                  float(np.interp(high, curve[k - 1 : k + 1], margins[k - 1 : k + 1])))
    return m_low, m_high


# ---------------------------------------------------------------- the measurements


def read_models(results, args):
    """Tidy tables: probes (one row per model, seed, direction, state, target), thresholds."""
    from suite import training

    half = args.eval_sequences // 2
    limit = args.timesteps / 4
    probe_rows, threshold_rows, summary_rows, traces = [], [], [], {}
    for name, build in get_models(args.timesteps, args.units).items():
        runs = results.runs[name]
        for r, seed in enumerate(runs.seeds):
            X = results.eval_X[r]
            targets = targets_of(X)
            model = training.load_trained(build, runs, r)
            for direction, weights in lstm_weights(model).items():
                states = dict(zip(("h", "c"), lstm_states(X, *weights,
                                                          backward=direction == "backward")))
                for state, features in states.items():
                    for target in TARGETS:
                        unit, correlation = best_unit(features, targets[target])
                        probe_rows.append({
                            "model": name, "seed": seed, "direction": direction, "state": state,
                            "target": target, "r2": probe_r2(features, targets[target], half),
                            "best_unit": unit, "best_unit_correlation": correlation})
                if r == 0:
                    traces[(name, direction)] = states["h"][0]
            centres, curve, counts, m10, m90 = transition(runs.probabilities[r],
                                                          targets["running_sum"] - limit)
            threshold_rows.append(pd.DataFrame({"model": name, "seed": seed, "margin": centres,
                                                "probability": curve, "count": counts}))
            summary_rows.append({"model": name, "seed": seed, "margin_at_10": m10,
                                 "margin_at_90": m90, "transition_width": m90 - m10})
    return (pd.DataFrame(probe_rows), pd.concat(threshold_rows, ignore_index=True),
            pd.DataFrame(summary_rows), traces)


def printed_tables(probes, summary):
    table = probes.pivot_table(index=["model", "direction", "state"], columns="target",
                               values="r2", aggfunc="mean", sort=False)[TARGETS]
    table.columns = ["position", "S_t", "R_t", "S_t beyond pos.", "R_t beyond pos."]
    widths = summary.groupby("model", sort=False).agg(
        margin_at_10=("margin_at_10", "mean"), margin_at_90=("margin_at_90", "mean"),
        transition_width=("transition_width", "mean"),
        width_std=("transition_width", "std"),
        seeds_crossing_both=("transition_width", "count"))
    return (table.to_string(float_format="{:.3f}".format)
            + "\n(R-squared of a linear read-out from each state, on held-out sequences, mean over "
            "seeds; 'beyond pos.': the sum minus its mean at that position, the part the position "
            "cannot tell)\n\n"
            + widths.to_string(float_format="{:.3f}".format)
            + "\n(margins S_t - limit where P(y_t = 1) rises through 10% and reaches 90% around the "
            "threshold, mean over the seeds whose curve reaches each inside +-2.5; "
            "transition_width = the distance between them, over the seeds that reach both; 0 would "
            "be a perfect step)")


# ---------------------------------------------------------------- the plot


def plot(probes, thresholds, traces, results, args):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(19, 7))  # the legends sit under the axes
    plot_traces(axes[0], probes, traces, results.eval_X[0, 0, :, 0], args)
    plot_r2(axes[1], probes, args)
    plot_thresholds(axes[2], thresholds)
    fig.suptitle(f"Inside the model: {args.units} units, {args.timesteps} timesteps, "
                 f"{args.epochs:,} epochs, {cli.describe_seeds(args)}, "
                 f"{args.eval_sequences:,} held-out sequences")
    fig.tight_layout()
    return fig


def plot_traces(ax, probes, traces, values, args):
    """Seed 0's BiLSTM on one held-out sequence: the sums, and the unit that tracks each best."""
    from suite import plotting

    steps = np.arange(args.timesteps)
    running = np.cumsum(values)
    remaining = np.cumsum(values[::-1])[::-1]
    ax.plot(steps, running, color="black", marker="o", label="running sum S_t")
    ax.plot(steps, remaining, color="grey", marker="o", label="remaining sum R_t")
    ax.axhline(args.timesteps / 4, color="black", linestyle=":", label="limit (timesteps / 4)")
    twin = ax.twinx()
    seed0 = probes[(probes["model"] == "bilstm_con") & (probes["seed"] == args.seed)
                   & (probes["state"] == "h")]
    for direction, target, color in [("forward", "running_sum", "tab:blue"),
                                     ("backward", "remaining_sum", "tab:orange")]:
        row = seed0[(seed0["direction"] == direction) & (seed0["target"] == target)].iloc[0]
        trace = traces[("bilstm_con", direction)][:, int(row["best_unit"])]
        twin.plot(steps, trace, color=color, linestyle="--",
                  label=f"{direction} h, unit {int(row['best_unit'])} "
                        f"(r = {row['best_unit_correlation']:+.2f} with {target.split('_')[0]})")
    twin.set_ylabel("unit activation")
    ax.set_xlabel("step t")
    ax.set_ylabel("sum of the values")
    ax.set_title(f"One held-out sequence, BiLSTM of seed {args.seed}")
    ax.grid(alpha=0.3)
    lines = ax.get_legend_handles_labels()
    twin_lines = twin.get_legend_handles_labels()
    plotting.legend_below(ax, lines[0] + twin_lines[0], lines[1] + twin_lines[1])


def plot_r2(ax, probes, args):
    """R-squared by target for each model's direction and state, mean with a 95% interval."""
    from suite import plotting

    groups = [(m, d, s) for m, directions in DIRECTIONS.items() for d in directions
              for s in ("h", "c")]
    width = 0.8 / len(groups)
    for k, ((model, direction, state), color) in enumerate(zip(groups, plotting.colors())):
        means, half_widths = [], []
        for target in TARGETS:
            r2 = probes[(probes["model"] == model) & (probes["direction"] == direction)
                        & (probes["state"] == state) & (probes["target"] == target)]["r2"]
            mean, half_width = plotting.mean_and_ci(r2.to_numpy()[:, None])
            means.append(mean[0])
            half_widths.append(half_width[0])
        ax.bar(np.arange(len(TARGETS)) + (k - len(groups) / 2 + 0.5) * width, means, width,
               yerr=half_widths, color=color, alpha=0.45 if state == "c" else 0.9,
               label=f"{model} {direction} {state}")
    ax.set_xticks(range(len(TARGETS)),
                  [t.replace("_beyond_position", "\nbeyond position").replace("_", " ")
                   for t in TARGETS], fontsize="small")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_ylabel("R-squared on held-out sequences")
    ax.set_title(f"Linear read-outs from each state (mean of {args.repeats} runs, 95% CI)")
    ax.grid(alpha=0.3, axis="y")
    plotting.legend_below(ax, title="model, direction, state (h: hidden, c: cell)")


def plot_thresholds(ax, thresholds):
    """Mean P(y_t = 1) against the margin for each model, with the ideal step."""
    from suite import plotting

    curves = {model: group.pivot(index="seed", columns="margin", values="probability")
              for model, group in thresholds.groupby("model", sort=False)}
    ax.step([MARGIN_BINS[0], 0, MARGIN_BINS[-1]], [0, 1, 1], where="post", color="black",
            linestyle="--", label="ideal: label 1 from margin 0")
    ax.axhline(0.1, color="grey", linewidth=0.6, linestyle=":")
    ax.axhline(0.9, color="grey", linewidth=0.6, linestyle=":")
    plotting.plot_runs(ax, curves, xlabel="margin S_t - timesteps / 4 (bins of 0.1)",
                       ylabel="mean predicted P(y_t = 1), held-out steps")
    ax.set_title("How sharply each model places the threshold")


# ---------------------------------------------------------------- command line


def parse_args(argv=None):
    parser = cli.ArgumentParser(__name__, description=__doc__)
    cli.add_common_arguments(parser, epochs=1000, repeats=30)
    parser.set_defaults(eval_sequences=2000)

    def check(args):
        if args.eval_sequences < 4:
            parser.error("argument --eval-sequences: must be at least 4, half to fit each "
                         "read-out and half to score it")

    return cli.parse(parser, argv, check, memory=resources.section_memory)


def main(argv=None):
    args = parse_args(argv)
    from suite import experiment, outputs  # loads Keras, now that the flags are good

    with outputs.kept_on_interrupt():
        results = experiment.train_models(get_models(args.timesteps, args.units), args)
        probes, thresholds, summary, traces = read_models(results, args)
        summary = results.summary.merge(summary, on=["model", "seed"])
        outputs.write_results(
            args.output_dir,
            {f"results/{SCRIPT}.csv": probes, f"results/{SCRIPT}_threshold.csv": thresholds,
             f"results/{SCRIPT}_summary.csv": summary},
            {f"plots/{SCRIPT}.png": plot(probes, thresholds, traces, results, args)},
            name=SCRIPT, quiet=args.quiet, run=args)
    if not args.quiet:
        print()
    print(printed_tables(probes, summary))
    return probes, summary


if __name__ == "__main__":
    main()
