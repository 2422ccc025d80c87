"""Seeded sequences in, tidy tables and the loss plot out: what a run writes, whatever trained it.

NumPy, pandas and matplotlib only, so a run that trains without Keras
(`pytorch/bilstm_pytorch.py`, in plain PyTorch) draws the same sequences from a seed and writes the same files as the Keras
scripts (`experiment`, which re-exports these functions):

- `draw_repeats`: every seed's training and held-out sequences, from the seed's own streams;
- `loss_rows` and `summary_rows`: the tidy per-epoch and per-run tables;
- `summary_table` and `plot_losses`: the printed table and the loss plot, drawn from those rows.
"""

import numpy as np
import pandas as pd

from cumsum_data import get_sequences
from suite import claims, cli, plotting

FINAL_LOSS_WINDOW = 50  # final_loss is the mean loss of the last 50 epochs


# ---------------------------------------------------------------- data


def seeds_of(args):
    return list(range(args.seed, args.seed + args.repeats))


def draw_sequences(seed, n_sequences, n_eval, n_timesteps):
    """Training and held-out sequences of one seed, from two independent streams.

    The held-out set depends only on the seed, not on how long the model trains.
    """
    train_stream, eval_stream = np.random.SeedSequence(seed).spawn(2)
    return (
        get_sequences(n_sequences, n_timesteps, np.random.default_rng(train_stream)),
        get_sequences(n_eval, n_timesteps, np.random.default_rng(eval_stream)),
    )


def draw_repeats(seeds, n_sequences, n_eval, n_timesteps):
    """`draw_sequences` for every seed, stacked as `training.run_repeats` takes them.

    Returns train_X, train_y (repeats, n_sequences, T, 1), eval_X (repeats, n_eval, T, 1) and
    eval_y (repeats, n_eval, T).
    """
    data = [draw_sequences(s, n_sequences, n_eval, n_timesteps) for s in seeds]
    return (
        np.stack([train[0] for train, _ in data]),
        np.stack([train[1] for train, _ in data]),
        np.stack([held_out[0] for _, held_out in data]),
        np.stack([held_out[1][..., 0] for _, held_out in data]),
    )


def score(probabilities, y):
    """Per-timestep and whole-sequence accuracy of P(y=1) > 0.5 against labels y (n, T)."""
    correct = (probabilities > 0.5) == y.astype(bool)
    return correct.mean(axis=(-2, -1)), correct.all(axis=-1).mean(axis=-1)


# ---------------------------------------------------------------- tidy tables


def loss_rows(name, seeds, losses, step_name="epoch"):
    """One row per (seed, step) of `losses` (repeats, steps): model, seed, epoch, loss."""
    n_steps = losses.shape[1]
    return pd.DataFrame({
        "model": name,
        "seed": np.repeat(seeds, n_steps),
        step_name: np.tile(np.arange(1, n_steps + 1), len(seeds)),
        "loss": losses.ravel(),
    })


def summary_rows(name, seeds, params, losses, probabilities, eval_y, reference, train_seconds):
    """One summary row per seed of a model's runs, as dicts.

    losses: (repeats, steps); probabilities: held-out P(y_t = 1), (repeats, eval sequences, T);
    eval_y: their labels; reference: the position-only reference; train_seconds: (repeats,).
    """
    step_accuracy, sequence_accuracy = score(probabilities, eval_y)
    return [{
        "model": name,
        "seed": seed,
        "params": params,
        "final_loss": float(losses[r, -FINAL_LOSS_WINDOW:].mean()),
        "loss_auc": float(claims.loss_auc(losses[r])),
        "epochs_to_reference": claims.epochs_to_reference(losses[r], reference.log_loss),
        "step_accuracy": float(step_accuracy[r]),
        "sequence_accuracy": float(sequence_accuracy[r]),
        "train_seconds": float(train_seconds[r]),
    } for r, seed in enumerate(seeds)]


# ---------------------------------------------------------------- output


def loss_curves_from(losses, step_name="epoch"):
    """{model: runs x steps} arrays from the tidy loss table, models in their first-seen order."""
    curves = {}
    for name in losses["model"].unique():
        table = losses[losses["model"] == name].pivot(index="seed", columns=step_name, values="loss")
        curves[name] = table.to_numpy()
    return curves


def plot_losses(losses, reference, title, step_name="epoch", xlabel="epoch (one fresh sequence each)"):
    """The loss plot of a script, drawn from its tidy loss table."""
    return titled_figure(title, plotting.plot_loss_curves, loss_curves_from(losses, step_name),
                         reference.log_loss, xlabel=xlabel)


def titled_figure(title, draw, *args, **kwargs):
    """A titled figure with one axes that `draw(ax, *args, **kwargs)` fills."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 5.5))
    draw(ax, *args, **kwargs)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def describe(args):
    return f"{args.units} units, {args.timesteps} timesteps, {cli.describe_seeds(args)}"


def mean_and_spread(values, digits=3):
    """'0.357 ± 0.022' over several runs, '0.357' for one."""
    spread = f" ± {values.std(ddof=1):.{digits}f}" if len(values) > 1 else ""
    return f"{values.mean():.{digits}f}{spread}"


def epochs_to_reference_text(values, n_steps):
    """epochs_to_reference in words: 'never' for runs that never got below the reference.

    The CSV keeps n_steps + 1 for those runs (`claims.epochs_to_reference`), so that slower runs
    compare as slower; a table prints the runs that got there and how many never did.
    """
    reached = values[values <= n_steps]
    if reached.empty:
        return "never"
    text = mean_and_spread(reached, digits=0)
    never = len(values) - len(reached)
    return f"{text} ({never} of {len(values)} never)" if never else text


def summary_table(summary, reference, step_name="epoch", n_steps=None):
    """Mean and standard deviation over runs per model, with the position-only reference.

    `n_steps` is the length of the runs: an epochs_to_reference above it means never.
    """
    columns = ["final_loss", "loss_auc", "step_accuracy", "sequence_accuracy"]
    rows = []
    for name, group in summary.groupby("model", sort=False):
        row = {"model": name, "runs": len(group), "params": f"{group['params'].iloc[0]:,}"}
        row.update({column: mean_and_spread(group[column]) for column in columns})
        row["epochs_to_reference"] = epochs_to_reference_text(group["epochs_to_reference"],
                                                              n_steps)
        row["train_seconds"] = f"{group['train_seconds'].mean():.2f}"
        rows.append(row)
    rows.append({"model": "position_only", "runs": "-", "params": "0",
                 "final_loss": f"{reference.log_loss:.3f}", "loss_auc": "-",
                 "epochs_to_reference": "-",
                 "step_accuracy": f"{reference.step_accuracy:.3f}",
                 "sequence_accuracy": f"{reference.sequence_accuracy:.3f}",
                 "train_seconds": "-"})
    order = ["model", "runs", "params", "final_loss", "loss_auc", "epochs_to_reference",
             "step_accuracy", "sequence_accuracy", "train_seconds"]
    table = pd.DataFrame(rows)[order].to_string(index=False)
    steps = "batches" if step_name == "batch" else f"{step_name}s"
    return (f"{table}\n(mean ± standard deviation over runs; accuracies on held-out sequences; "
            f"final_loss = mean training loss of the last {FINAL_LOSS_WINDOW} {steps}; "
            f"loss_auc = mean over all {steps}; epochs_to_reference = first {step_name} "
            f"whose rolling-mean loss is below the reference, never if none within the run)")
