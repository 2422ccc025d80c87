"""Plots a person reads at a glance: no legend over data, an atlas with legible numbers and a key.

Each figure is drawn from a few hand-made rows, laid out as its script lays it out, and measured
in display coordinates: a legend clears every axes with its tick labels and titles, and stays in
the saved image; the atlas writes its numbers at 9 pt or more, inside their cells, under a colour
key. No test here trains a model or imports Keras.
"""

import argparse
import itertools
import subprocess
import sys
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from experiments import claims_atlas  # noqa: E402
from experiments import inside_the_model  # noqa: E402
from experiments import originals  # noqa: E402
from book import smallest_model  # noqa: E402
from cumsum_data import position_reference  # noqa: E402
from suite import plotting  # noqa: E402

MODELS = ["lstm_forw", "lstm_back", "lstm_back_aligned", "bilstm_con"]
REFERENCE = position_reference(10)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def overlap(a, b):
    """Whether two display boxes share more than a pixel of area."""
    return min(a.x1, b.x1) - max(a.x0, b.x0) > 1 and min(a.y1, b.y1) - max(a.y0, b.y0) > 1


def tight_box_without(ax, legend, renderer):
    """The axes with its ticks, tick labels, axis labels and title, but not `legend`."""
    legend.set_visible(False)
    box = ax.get_tightbbox(renderer)
    legend.set_visible(True)
    return box


def assert_legends_clear(fig):
    """Every legend misses every axes (data, ticks, labels, titles) and lies inside the figure."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    axes = fig.get_axes()
    legends = [ax.get_legend() for ax in axes if ax.get_legend() is not None] + fig.legends
    assert legends, "no legend drawn"
    for legend in legends:
        box = legend.get_window_extent(renderer)
        assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1, "legend cut off at the sides"
        assert fig.bbox.y0 <= box.y0 and box.y1 <= fig.bbox.y1, "legend cut off at the edges"
        for ax in axes:
            if not ax.axison:  # an empty panel given over to the legend
                continue
            assert not overlap(box, tight_box_without(ax, legend, renderer)), (
                f"legend over the axes {ax.get_title()!r}")
    for a, b in itertools.combinations(legends, 2):
        assert not overlap(a.get_window_extent(renderer), b.get_window_extent(renderer))


def runs_table(rng, offset):
    steps = np.arange(10, 110, 10)
    return pd.DataFrame(rng.uniform(0.4, 0.6, (5, len(steps))) + offset, columns=steps)


# ---------------------------------------------------------------- suite.plotting


def test_loss_curves_legend_is_under_the_axes():
    rng = np.random.default_rng(0)
    fig, ax = plt.subplots(figsize=(9, 5.5))  # experiment.titled_figure's layout
    curves = {name: rng.uniform(0.2, 0.7, (3, 100)) for name in MODELS}
    plotting.plot_loss_curves(ax, curves, REFERENCE.log_loss)
    ax.set_title("title\nsecond line")
    fig.tight_layout()
    assert_legends_clear(fig)
    legend = ax.get_legend()
    assert legend.get_title().get_text() == "mean of 3 runs, 95% CI, rolling mean of 25"
    assert [t.get_text() for t in legend.get_texts()][:4] == MODELS


def test_one_run_loss_curves_say_so():
    fig, ax = plt.subplots(figsize=(9, 5.5))
    plotting.plot_loss_curves(ax, {"lstm_forw": np.linspace(0.7, 0.2, 60)}, REFERENCE.log_loss)
    fig.tight_layout()
    assert_legends_clear(fig)
    assert ax.get_legend().get_title().get_text().startswith("one run each")


def test_heldout_panels_keep_their_legends_off_the_curves():
    """Three panels side by side, as experiment.plot_heldout draws them."""
    rng = np.random.default_rng(1)
    fig, axes = plt.subplots(1, 3, figsize=(17, 5))
    references = [REFERENCE.step_accuracy, REFERENCE.sequence_accuracy, REFERENCE.log_loss]
    for ax, reference in zip(axes, references):
        curves = {name: runs_table(rng, k / 10) for k, name in enumerate(MODELS)}
        plotting.plot_runs(ax, curves, reference, ylabel="held-out score")
    fig.suptitle("Held-out scores during training\nsecond line")
    fig.tight_layout()
    assert_legends_clear(fig)


def test_flip_errors_legend_is_under_the_axes():
    rng = np.random.default_rng(2)
    offsets = np.arange(-5, 6)
    fig, ax = plt.subplots(figsize=(9, 5.5))
    plotting.plot_flip_errors(ax, {name: rng.uniform(0, 0.4, (4, len(offsets)))
                                   for name in MODELS}, offsets)
    fig.tight_layout()
    assert_legends_clear(fig)


def test_band_title_names_counts_that_differ():
    assert plotting.band_title({"a": 30, "b": 30}) == "mean of 30 runs, 95% CI"
    assert plotting.band_title({"a": 30, "b": 5}) == "mean with 95% CI of a: 30 runs, b: 5 runs"


# ---------------------------------------------------------------- the scripts' figures


def test_inside_the_model_legends_miss_all_three_panels():
    rng = np.random.default_rng(3)
    n_timesteps, units, seeds = 10, 4, [0, 1, 2]
    args = argparse.Namespace(timesteps=n_timesteps, units=units, epochs=1000, seed=0,
                              repeats=len(seeds), eval_sequences=200)
    rows = []
    for (model, directions), seed, state, target in itertools.product(
            inside_the_model.DIRECTIONS.items(), seeds, ("h", "c"), inside_the_model.TARGETS):
        for direction in directions:
            rows.append({"model": model, "seed": seed, "direction": direction, "state": state,
                         "target": target, "r2": rng.uniform(0.1, 1.0), "best_unit": 1,
                         "best_unit_correlation": 0.9})
    probes = pd.DataFrame(rows)
    centres = (inside_the_model.MARGIN_BINS[:-1] + inside_the_model.MARGIN_BINS[1:]) / 2
    thresholds = pd.concat([
        pd.DataFrame({"model": model, "seed": seed, "margin": centres,
                      "probability": 1 / (1 + np.exp(-4 * centres))})
        for model in inside_the_model.DIRECTIONS for seed in seeds])
    traces = {("bilstm_con", direction): rng.uniform(-1, 1, (n_timesteps, units))
              for direction in ("forward", "backward")}
    results = SimpleNamespace(eval_X=rng.uniform(0, 1, (1, 1, n_timesteps, 1)))
    fig = inside_the_model.plot(probes, thresholds, traces, results, args)
    assert_legends_clear(fig)
    assert sum(ax.get_legend() is not None for ax in fig.get_axes()) == 3


@pytest.mark.parametrize("quantities", [5, 6])  # 6 fills a row: the legend still gets a panel
def test_originals_legend_takes_an_empty_panel(quantities):
    rng = np.random.default_rng(4)
    table = pd.DataFrame({"section": "lstm", "printed": 0.2, "verdict": "typical",
                          "quantity": [f"epoch {996 + k} loss" for k in range(quantities)]})
    values = {("lstm", quantity): rng.uniform(0.1, 0.4, 30) for quantity in table["quantity"]}
    fig = originals.plot(table, values, REFERENCE, argparse.Namespace(repeats=30, seed=0))
    assert_legends_clear(fig)
    (holder,) = [ax for ax in fig.get_axes() if ax.get_legend() is not None]
    assert not holder.axison and not holder.collections and not holder.lines
    labels = [t.get_text() for t in holder.get_legend().get_texts()]
    assert labels == ["30 seeds", "printed", "position-only"]


def test_smallest_model_legend_is_beside_the_panels():
    rows = [{"batch_size": batch_size, "units": units, "params": 10 * units, "seed": seed,
             "sequences": sequences, "book_accuracy": min(1.0, 0.9 + sequences / 10_000)}
            for batch_size in (1, 10) for units in (1, 2, 5) for seed in range(5)
            for sequences in range(1000, 6000, 1000)]
    fig = smallest_model.plot(pd.DataFrame(rows),
                              argparse.Namespace(required=4, repeats=5, seed=0))
    assert_legends_clear(fig)


# ---------------------------------------------------------------- the claims atlas


def small_atlas(measures=("final_loss", "step_accuracy"), epochs=(250, 1000)):
    """Every verdict in every claim and measure on a 3 x 2 grid of timesteps and units."""
    rng = np.random.default_rng(5)
    verdicts = list(claims_atlas.VERDICT_CODES)
    rows = []
    for (label, first, second, _), measure, n_epochs, n_timesteps, units in itertools.product(
            claims_atlas.CLAIMS, measures, epochs, (5, 10, 20), (10, 20)):
        rows.append({"timesteps": n_timesteps, "units": units, "epochs": n_epochs,
                     "claim": label, "pair": f"{first} - {second}", "measure": measure,
                     "difference": rng.uniform(-0.444, 0.444),
                     "verdict": verdicts[len(rows) % len(verdicts)]})
    return pd.DataFrame(rows)


def atlas_args(epochs=(250, 1000)):
    return argparse.Namespace(epochs=list(epochs), seed=0, repeats=30)


def test_atlas_is_one_figure_per_measure():
    figures = claims_atlas.plot(small_atlas(), atlas_args())
    assert list(figures) == ["plots/claims_atlas_final_loss.png",
                             "plots/claims_atlas_step_accuracy.png"]


def test_atlas_numbers_are_legible_inside_their_cells():
    atlas = small_atlas(measures=["final_loss"])
    (fig,) = claims_atlas.plot(atlas, atlas_args()).values()
    # Shown at a README's width (about 900 px), a figure saved at 120 dpi is not shrunk.
    assert fig.get_figwidth() * 120 <= 900
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    numbers = 0
    for ax in fig.get_axes():
        cell_width = ax.bbox.width / len(ax.get_xticks())
        cell_height = ax.bbox.height / len(ax.get_yticks())
        for text in ax.texts:
            numbers += 1
            assert text.get_fontsize() >= 9
            box = text.get_window_extent(renderer)
            assert box.width < cell_width and box.height < cell_height
    assert numbers == len(atlas)


def test_atlas_has_a_colour_key_with_the_three_verdicts():
    (fig,) = claims_atlas.plot(small_atlas(measures=["final_loss"]), atlas_args()).values()
    legends = [legend for sub in fig.subfigs for legend in sub.legends] + fig.legends
    assert len(legends) == 1
    entries = dict(zip([t.get_text() for t in legends[0].get_texts()],
                       legends[0].legend_handles))
    for verdict, colour in claims_atlas.VERDICT_COLOURS.items():
        assert matplotlib.colors.same_color(entries[verdict].get_facecolor(), colour)
    # And the cells wear those colours: the first cell of each panel, by its verdict.
    atlas = small_atlas(measures=["final_loss"])
    for ax in fig.get_axes():
        image = ax.get_images()[0]
        rgba = image.cmap(image.norm(image.get_array()[0, 0]))
        codes = {code: verdict for verdict, code in claims_atlas.VERDICT_CODES.items()}
        assert matplotlib.colors.same_color(
            rgba, claims_atlas.VERDICT_COLOURS[codes[int(image.get_array()[0, 0])]])
    assert set(atlas["verdict"]) == set(claims_atlas.VERDICT_COLOURS)


def test_atlas_labels_do_not_collide():
    """Claim labels, titles, the key and the panels (with their tick labels) never overlap."""
    (fig,) = claims_atlas.plot(small_atlas(measures=["final_loss"]), atlas_args()).values()
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [ax.get_tightbbox(renderer) for ax in fig.get_axes()]
    boxes += [sub._suptitle.get_window_extent(renderer) for sub in fig.subfigs if sub._suptitle]
    boxes += [legend.get_window_extent(renderer) for sub in fig.subfigs for legend in sub.legends]
    boxes.append(fig._suptitle.get_window_extent(renderer))
    assert len(boxes) == 2 * len(claims_atlas.CLAIMS) + len(claims_atlas.CLAIMS) + 2
    for a, b in itertools.combinations(boxes, 2):
        assert not overlap(a, b)
    for box in boxes:
        assert fig.bbox.x0 - 1 <= box.x0 and box.x1 <= fig.bbox.x1 + 1


def test_atlas_draws_any_grid_and_training_lengths():
    """The script's own small runs: one cell, two short training lengths."""
    atlas = small_atlas(epochs=(50, 100))
    atlas = atlas[(atlas["timesteps"] == 5) & (atlas["units"] == 10)]
    figures = claims_atlas.plot(atlas, atlas_args(epochs=(50, 100)))
    for fig in figures.values():
        assert len(fig.get_axes()) == 2 * len(claims_atlas.CLAIMS)


def test_plot_modules_import_without_keras():
    """Redrawing a figure from its CSV must not wait for Keras, nor need it installed."""
    code = ("import sys, experiments.claims_atlas, experiments.inside_the_model, "
            "experiments.originals, book.smallest_model, suite.plotting; "
            "print(sorted({'keras', 'tensorflow', 'jax'} & set(sys.modules)))")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               cwd=plotting.__file__.rsplit("/suite/", 1)[0], check=True)
    assert completed.stdout.strip() == "[]"
