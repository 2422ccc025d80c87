"""Plot helpers: they take data, draw on the axes they are given and return them.

Per-sequence loss is noisy, so a curve is a trailing rolling mean; with several runs the bold line
is the mean over runs with a shaded 95% confidence interval (Student t over runs). A legend never
covers data: `legend_below` puts it under the axes, below the tick labels and the x label.
"""

import matplotlib

matplotlib.use("Agg")  # headless: figures are saved to files, never shown

import numpy as np  # noqa: E402
from matplotlib.transforms import ScaledTranslation  # noqa: E402
from scipy import stats  # noqa: E402

from suite.claims import ROLLING_WINDOW, rolling_mean  # noqa: E402


def mean_and_ci(runs, confidence=0.95):
    """Mean over the first axis and the half-width of its t confidence interval (0 for one run)."""
    runs = np.asarray(runs, dtype=float)
    mean = runs.mean(axis=0)
    if len(runs) < 2:
        return mean, np.zeros_like(mean)
    sem = runs.std(axis=0, ddof=1) / np.sqrt(len(runs))
    return mean, sem * stats.t.ppf(0.5 + confidence / 2, len(runs) - 1)


def plot_loss_curves(ax, curves, reference_loss=None, window=ROLLING_WINDOW, xlabel="epoch"):
    """Draw {name: runs x steps loss array} on `ax`.

    One run: the raw per-step loss faintly and its rolling mean boldly. Several runs: each run's
    rolling mean faintly and the mean over runs boldly inside its 95% confidence band.
    """
    run_counts = {}
    for color, (name, losses) in zip(colors(), curves.items()):
        losses = np.atleast_2d(losses)
        run_counts[name] = len(losses)
        steps = np.arange(1, losses.shape[1] + 1)
        smoothed = rolling_mean(losses, window)
        if len(losses) == 1:
            ax.plot(steps, losses[0], color=color, alpha=0.25, linewidth=0.7)
            ax.plot(steps, smoothed[0], color=color, linewidth=2, label=name)
            continue
        for run in smoothed:
            ax.plot(steps, run, color=color, alpha=0.12, linewidth=0.6)
        mean, half_width = mean_and_ci(smoothed)
        ax.fill_between(steps, mean - half_width, mean + half_width, color=color, alpha=0.25)
        ax.plot(steps, mean, color=color, linewidth=2, label=name)
    if reference_loss is not None:
        ax.axhline(reference_loss, color="black", linestyle="--", linewidth=1.2,
                   label=f"position-only reference ({reference_loss:.3f})")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("binary cross-entropy (log loss)")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    legend_below(ax, title=f"{band_title(run_counts)}, rolling mean of {window}")
    return ax


def plot_runs(ax, curves, reference=None, ylabel="", xlabel="epoch"):
    """{name: runs x steps DataFrame (columns = steps)}: mean per step with its 95% band."""
    for color, (name, table) in zip(colors(), curves.items()):
        steps = table.columns.to_numpy()
        mean, half_width = mean_and_ci(table.to_numpy())
        ax.plot(steps, mean, color=color, marker=".", label=name)
        ax.fill_between(steps, mean - half_width, mean + half_width, color=color, alpha=0.2)
    if reference is not None:
        ax.axhline(reference, color="black", linestyle="--", linewidth=1.2,
                   label=f"position-only reference ({reference:.3f})")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    legend_below(ax, title=band_title({name: len(table) for name, table in curves.items()}))
    return ax


def plot_flip_errors(ax, error_rates, offsets):
    """{model: runs x offsets} error rates as mean lines with 95% bands, the flip at 0."""
    run_counts = {}
    for color, (name, rates) in zip(colors(), error_rates.items()):
        rates = np.atleast_2d(rates)
        run_counts[name] = len(rates)
        # An offset no held-out sequence reaches stays NaN and is left as a gap in the line.
        mean, half_width = mean_and_ci(rates)
        ax.plot(offsets, mean, marker="o", color=color, label=name)
        ax.fill_between(offsets, mean - half_width, mean + half_width, color=color, alpha=0.2)
    ax.axvline(0, color="black", linestyle=":", linewidth=1)
    ax.set_xticks(offsets)
    ax.set_xlabel("position relative to the true flip step (0 = first label 1)")
    ax.set_ylabel("held-out error rate")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    legend_below(ax, title=band_title(run_counts))
    return ax


def plot_heat_map(ax, values, row_labels, column_labels, label, xlabel, ylabel, vmin=0.0,
                  vmax=1.0):
    """A rows x columns array as coloured cells with each value written in its cell."""
    values = np.asarray(values, dtype=float)
    image = ax.imshow(values, cmap="viridis", vmin=vmin, vmax=vmax, aspect="auto")
    for (i, j), value in np.ndenumerate(values):
        if np.isnan(value):
            continue
        # Dark text on the bright end of the colour map, white on the dark end.
        dark = (value - vmin) / (vmax - vmin) > 0.6
        ax.text(j, i, f"{value:.2f}", ha="center", va="center",
                color="black" if dark else "white", fontsize="medium")
    ax.set_xticks(range(len(column_labels)), column_labels)
    ax.set_yticks(range(len(row_labels)), row_labels)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.figure.colorbar(image, ax=ax, label=label)
    return ax


def band_title(run_counts):
    """The legend's title: what each bold line and its band are, said once for every model.

    run_counts is {name: runs}; where the models differ, the title names each one's count.
    """
    counts = sorted(set(run_counts.values()))
    if counts == [1]:
        return "one run each"
    if len(counts) == 1:
        return f"mean of {counts[0]} runs, 95% CI"
    return "mean with 95% CI of " + ", ".join(f"{name}: {runs} runs"
                                              for name, runs in run_counts.items())


def legend_below(ax, handles=None, labels=None, gap=0.08, **kwargs):
    """The legend of `ax` under it, clear of its tick labels and x label, so it covers no data.

    Anchored to the axes (it follows them through tight_layout, which makes room for it), in as
    many columns as fit the axes' share of the figure's width. `gap` is in inches.
    """
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    figure = ax.figure
    renderer = figure.canvas.get_renderer()
    # The tick labels and x label hang below the axes by a size in points, whatever the layout.
    hanging = (ax.bbox.y0 - ax.get_tightbbox(renderer).y0) / figure.dpi
    anchor = ax.transAxes + ScaledTranslation(0, -hanging - gap, figure.dpi_scale_trans)
    width = ax.bbox.width
    spec = ax.get_subplotspec()
    if spec is not None:  # tight_layout will widen the axes to nearly its column of the figure
        share = len(spec.colspan) / spec.get_gridspec().ncols
        width = max(width, 0.9 * share * figure.bbox.width)
    kwargs = {"fontsize": "small", "title_fontsize": "small", **kwargs}
    for ncol in range(len(handles), 0, -1):
        legend = ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0),
                           bbox_transform=anchor, ncol=ncol, **kwargs)
        if ncol == 1 or legend.get_window_extent(renderer).width <= width:
            return legend


def colors():
    return matplotlib.rcParams["axes.prop_cycle"].by_key()["color"] * 10
