"""Labelling a stream: what the BiLSTM's label at step t is worth when later steps are unknown.

A streaming labeller must label step t having seen only steps 1..t. A forward LSTM's label at t
depends on nothing later, so it labels a stream exactly as it labels a whole sequence. A
Bidirectional LSTM's backward half reads from the end of what it is given: given only 1..t, its
label at t is a different prediction. This script trains the tutorial's forward LSTM and
Bidirectional LSTM (1,000 epochs of one fresh sequence, as in the tutorial; 30 seeds), then labels
held-out sequences both ways: whole (every label from the whole sequence) and streamed (the label
at t from the sequence's first t steps alone), and scores each position against the position-only
reference.

    python -m experiments.streaming
    python -m experiments.streaming --repeats 6 --epochs 250
"""

if not __package__:  # run as a file, not as a module: the imports below would fail
    import sys

    sys.stderr.write("error: run it from the repository root as a module: "
                     "python -m experiments.streaming\n")
    raise SystemExit(2)

import numpy as np
import pandas as pd

import bilstm_classify
import lstm_baseline
from suite import cli, resources
from suite.claims import Claim

SCRIPT = "streaming"
VIEWS = ("whole", "streamed")


def get_models(n_timesteps, units):
    """The tutorial's forward LSTM and Bidirectional LSTM (concat), as its sections build them."""
    return {"lstm_forw": lambda: lstm_baseline.build_model(n_timesteps, units),
            "bilstm_con": lambda: bilstm_classify.build_model(n_timesteps, units, "concat")}


# ---------------------------------------------------------------- streamed labels


def streamed_probabilities(prefix_models, X):
    """P(y_t = 1) for every step t of X (sequences, n_timesteps, 1), each from the model that is
    given only X[:, :t + 1] (prefix_models[t], built for t + 1 steps with the trained weights):
    the label a streaming labeller would give at step t."""
    probabilities = np.empty(X.shape[:2], dtype=np.float64)
    for t, model in enumerate(prefix_models):
        probabilities[:, t] = np.asarray(model.predict_on_batch(X[:, : t + 1]))[:, t, 0]
    return probabilities


def evaluate(args):
    """results.runs -> the scripts' own tables: accuracy by position, whole and streamed."""
    from suite import training

    def tables(results):
        rows = []
        for name, runs in results.runs.items():
            # The same layers for the first 1, 2, ... steps: the trained weights fit them all.
            prefix_models = [get_models(t, args.units)[name]()
                             for t in range(1, args.timesteps + 1)]
            for r, seed in enumerate(runs.seeds):
                for model in prefix_models:
                    training.load_trained(None, runs, r, model)
                views = {"whole": runs.probabilities[r],
                         "streamed": streamed_probabilities(prefix_models, results.eval_X[r])}
                for view, probabilities in views.items():
                    right = (probabilities >= 0.5) == results.eval_y[r].astype(bool)
                    for t in range(right.shape[1]):
                        rows.append({"model": name, "view": view, "seed": seed, "step": t + 1,
                                     "accuracy": right[:, t].mean()})
        by_position = pd.DataFrame(rows)
        reference = results.reference.p_one
        by_position = pd.concat([by_position, pd.DataFrame(
            {"model": "position_only", "view": "whole", "seed": -1,
             "step": np.arange(1, len(reference) + 1),
             "accuracy": np.maximum(reference, 1 - reference)})], ignore_index=True)
        overall = (by_position[by_position["seed"] >= 0]
                   .groupby(["model", "view", "seed"], sort=False)["accuracy"].mean()
                   .rename("step_accuracy").reset_index())
        overall["model"] = overall["model"] + np.where(overall["view"] == "streamed",
                                                       "_streamed", "")
        from suite import claims

        comparison = claims.compare(overall.drop(columns="view"), CLAIMS)
        return {f"{SCRIPT}_by_position.csv": by_position,
                f"{SCRIPT}_accuracy.csv": overall, f"{SCRIPT}_stream_comparison.csv": comparison}

    return tables


# What streaming costs, seed by seed, on the held-out steps.
CLAIMS = [
    # The forward LSTM labels a stream as it labels a whole sequence.
    Claim("lstm_forw_streamed", "lstm_forw", "step_accuracy", "similar"),
    # The BiLSTM's labels, given only the steps so far, against its labels of whole sequences ...
    Claim("bilstm_con", "bilstm_con_streamed", "step_accuracy"),
    # ... and against the forward LSTM, the model a stream calls for.
    Claim("lstm_forw_streamed", "bilstm_con_streamed", "step_accuracy"),
]


def plot_by_position(by_position, title):
    """Held-out accuracy at each step, whole and streamed, mean over seeds with 95% bands."""
    import matplotlib.pyplot as plt

    from suite import plotting

    fig, ax = plt.subplots(figsize=(9, 5.5))
    curves = {}
    for (name, view), group in by_position[by_position["seed"] >= 0].groupby(
            ["model", "view"], sort=False):
        curves[f"{name}, {view}"] = group.pivot(index="seed", columns="step", values="accuracy")
    plotting.plot_runs(ax, curves, ylabel="held-out accuracy at the step", xlabel="step t")
    reference = by_position[by_position["model"] == "position_only"]
    ax.plot(reference["step"], reference["accuracy"], color="black", linestyle=":",
            label="position_only reference")
    plotting.legend_below(ax, title=plotting.band_title(
        {name: group["seed"].nunique() for name, group in by_position[
            by_position["seed"] >= 0].groupby("model")}))
    ax.set_title(title)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- command line


def parse_args(argv=None):
    parser = cli.ArgumentParser(__name__, description=__doc__)
    cli.add_common_arguments(parser, epochs=1000, repeats=30)
    return cli.parse(parser, argv, memory=resources.section_memory)


def main(argv=None):
    args = parse_args(argv)
    from suite import experiment, outputs

    results = experiment.run(SCRIPT, get_models(args.timesteps, args.units), args,
                             title="The tutorial's LSTM and BiLSTM: training loss",
                             evaluate=evaluate(args))
    from suite import claims

    print()
    print(claims.comparison_table(results.tables[f"{SCRIPT}_stream_comparison.csv"]))
    by_position = results.tables[f"{SCRIPT}_by_position.csv"]
    figure = plot_by_position(by_position, "Labelling a stream: each step labelled from the "
                                           "whole sequence or from the steps so far")
    outputs.write_results(args.output_dir, figures={f"plots/{SCRIPT}_by_position.png": figure},
                          name=SCRIPT, quiet=True)
    return results


if __name__ == "__main__":
    main()
