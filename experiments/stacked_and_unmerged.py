"""Two BiLSTMs stacked, and a BiLSTM with a head on each direction (merge_mode=None).

Two questions readers bring to Bidirectional. Does a second BiLSTM on top of the first (the first
returning its outputs at every step) help, and is it the depth that helps or the extra weights?
And what does merge_mode=None give: the forward and the backward outputs as two tensors, so each
direction can have its own head. With a loss on each head, Keras adds the two losses: the forward
LSTM's weights get their gradient from the forward head's loss alone and the backward LSTM's from
the backward head's, so the two halves train as two separate models that share nothing but their
input. This script trains, on the tutorial's problem (1,000 epochs of one fresh sequence, 30
seeds, the same sequences for every model of a seed):

- `lstm_forw`, the forward LSTM alone, and `bilstm_con`, the tutorial's BiLSTM;
- `bilstm_con_stacked`, two BiLSTMs of the same units, the first returning sequences;
- `bilstm_con_wide`, one BiLSTM with the units that bring its weights nearest the stacked one's:
  as many weights, no depth;
- `bilstm_none`, merge_mode=None with a Dense head on each direction, scored three ways: the
  forward head (`bilstm_none_forw`), the backward head (`bilstm_none_back`) and the mean of their
  two probabilities (`bilstm_none_ave`).

Every model is scored on held-out sequences every --heldout-every epochs; the comparisons are
paired over seeds. The part-of-speech tagger asks the same questions on real text, with
`--model` and `--name` (text/pos_tagging.py; `make stacked` runs both).

    KERAS_BACKEND=jax python -m experiments.stacked_and_unmerged
    python -m experiments.stacked_and_unmerged --repeats 6 --epochs 250
"""

if not __package__:  # run as a file, not as a module: the imports below would fail
    import sys

    sys.stderr.write("error: run it from the repository root as a module: "
                     "python -m experiments.stacked_and_unmerged\n")
    raise SystemExit(2)

import pandas as pd

import bilstm_classify
import lstm_baseline
from suite import cli, environment, resources
from suite.claims import Claim
from suite.heads import LAYERS, scored
from suite.model_size import matching_units

SCRIPT = "stacked_and_unmerged"


# ---------------------------------------------------------------- the models


def build_stacked(n_timesteps=10, units=20):
    """Bidirectional(LSTM) twice, then TimeDistributed(Dense(1, sigmoid))."""
    environment.import_keras()  # as quiet as a script: TensorFlow's start-up log stays off
    import keras
    from keras import layers

    model = keras.Sequential(
        [
            keras.Input(shape=(n_timesteps, 1)),
            # The first BiLSTM returns an output at every step, so the second has a sequence to
            # read: at each step, the first's forward and backward outputs side by side.
            layers.Bidirectional(layers.LSTM(units, return_sequences=True)),
            # The second reads those 2 * units features in both directions again, so each of its
            # outputs has seen the whole sequence twice over.
            layers.Bidirectional(layers.LSTM(units, return_sequences=True)),
            layers.TimeDistributed(layers.Dense(1, activation="sigmoid")),
        ]
    )
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["acc"])
    return model


def build_two_heads(n_timesteps=10, units=20):
    """Bidirectional(LSTM, merge_mode=None), then a TimeDistributed(Dense(1, sigmoid)) head on
    each direction's outputs: a model with two outputs, one loss each."""
    environment.import_keras()
    import keras
    from keras import layers

    sequence = keras.Input(shape=(n_timesteps, 1))
    # merge_mode=None returns the two directions' outputs as two tensors, both in time order.
    forward, backward = layers.Bidirectional(layers.LSTM(units, return_sequences=True),
                                             merge_mode=None)(sequence)
    # Each head sees one direction only: the forward head the steps up to t, the backward head
    # the steps from t to the end.
    forward_head = layers.TimeDistributed(layers.Dense(1, activation="sigmoid"),
                                          name=LAYERS["forw"])(forward)
    backward_head = layers.TimeDistributed(layers.Dense(1, activation="sigmoid"),
                                           name=LAYERS["back"])(backward)
    model = keras.Model(sequence, [forward_head, backward_head])
    # One loss per output; Keras trains on their sum.
    model.compile(loss=["binary_crossentropy", "binary_crossentropy"], optimizer="adam",
                  metrics=["acc", "acc"])
    return model


def wide_units(n_timesteps, units):
    """The units of one BiLSTM whose weights come nearest the stacked model's."""
    stacked = build_stacked(n_timesteps, units).count_params()
    return matching_units(
        lambda wide: bilstm_classify.build_model(n_timesteps, wide).count_params(),
        stacked, units)


def get_models(n_timesteps, units):
    wide = wide_units(n_timesteps, units)
    return {
        "lstm_forw": lambda: lstm_baseline.build_model(n_timesteps, units),
        "bilstm_con": lambda: bilstm_classify.build_model(n_timesteps, units),
        "bilstm_con_stacked": lambda: build_stacked(n_timesteps, units),
        "bilstm_con_wide": lambda: bilstm_classify.build_model(n_timesteps, wide),
        "bilstm_none": lambda: build_two_heads(n_timesteps, units),
    }


# ---------------------------------------------------------------- the claims


MEASURES = ("step_accuracy", "sequence_accuracy", "heldout_loss")
CLAIMS = [
    # Depth: does a second BiLSTM help, and does it help more than as many weights in one?
    *[Claim("bilstm_con_stacked", "bilstm_con", measure) for measure in MEASURES],
    *[Claim("bilstm_con_wide", "bilstm_con", measure) for measure in MEASURES],
    *[Claim("bilstm_con_stacked", "bilstm_con_wide", measure) for measure in MEASURES],
    # One head on the merged outputs against a head on each direction.
    *[Claim("bilstm_con", "bilstm_none_ave", measure) for measure in MEASURES],
    *[Claim("bilstm_con", "bilstm_none_forw", measure) for measure in MEASURES],
    # Does averaging the two heads beat the forward head alone?
    *[Claim("bilstm_none_ave", "bilstm_none_forw", measure) for measure in MEASURES],
    # With a head each, the forward half trains as a forward LSTM alone would.
    Claim("bilstm_none_forw", "lstm_forw", "step_accuracy", "similar"),
    Claim("bilstm_none_forw", "lstm_forw", "heldout_loss", "similar"),
]


# ---------------------------------------------------------------- training and scoring


def heldout_rows(name, runs, eval_y, epochs):
    """Tidy held-out scores of one model at every checkpoint: model, seed, epoch, ..."""
    from suite import claims, experiment

    frames = []
    for k, epoch in enumerate(epochs):
        for row_name, probabilities in scored(name, runs.checkpoints[k]).items():
            step_accuracy, sequence_accuracy = experiment.score(probabilities, eval_y)
            frames.append(pd.DataFrame({
                "model": row_name, "seed": runs.seeds, "epoch": int(epoch),
                "params": runs.params, "step_accuracy": step_accuracy,
                "sequence_accuracy": sequence_accuracy,
                "loss": claims.heldout_log_loss(probabilities, eval_y)}))
    return frames


def train(models, args):
    """Train every model for every seed; (held-out table, summary table, training-loss table)."""
    from suite import experiment, runner, training

    seeds = experiment.seeds_of(args)
    train_X, train_y, eval_X, eval_y = experiment.draw_repeats(
        seeds, args.epochs, args.eval_sequences, args.timesteps)
    def run(build_model):
        return training.run_repeats(build_model, seeds, train_X, train_y, eval_X,
                                    checkpoint_every=args.heldout_every)

    heldout, losses, seconds = [], [], {}
    for name, runs in experiment.trained_in_order(models, run):
        for seed, run_losses in zip(seeds, runs.losses):
            runner.check_finite(run_losses, name, seed)
        if not args.quiet:
            print(f"Trained {name} ({runs.params:,} weights): {len(seeds)} run(s) x "
                  f"{args.epochs} epochs, {runs.train_seconds.sum():.1f} s", flush=True)
        heldout += heldout_rows(name, runs, eval_y, runs.checkpoint_steps)
        # The training loss as fit reports it: for the two-headed model, the sum of its heads'.
        losses.append(experiment.loss_rows(name, seeds, runs.losses))
        for row_name in scored(name, runs.probabilities):
            seconds[row_name] = runs.train_seconds
    heldout = pd.concat(heldout, ignore_index=True)
    last = heldout[heldout["epoch"] == heldout["epoch"].max()].drop(columns="epoch")
    summary = last.rename(columns={"loss": "heldout_loss"}).reset_index(drop=True)
    summary["train_seconds"] = [seconds[name][list(seeds).index(seed)]
                                for name, seed in zip(summary["model"], summary["seed"])]
    return heldout, summary, pd.concat(losses, ignore_index=True)


# ---------------------------------------------------------------- output


def summary_table(summary, reference):
    """Mean ± standard deviation over seeds per model, with the position-only reference."""
    from suite.tables import mean_and_spread

    rows = []
    for name, group in summary.groupby("model", sort=False):
        rows.append({"model": name, "runs": len(group), "params": f"{group['params'].iloc[0]:,}",
                     **{measure: mean_and_spread(group[measure]) for measure in MEASURES}})
    rows.append({"model": "position_only", "runs": "-", "params": "0",
                 "step_accuracy": f"{reference.step_accuracy:.3f}",
                 "sequence_accuracy": f"{reference.sequence_accuracy:.3f}",
                 "heldout_loss": f"{reference.log_loss:.3f}"})
    return (pd.DataFrame(rows).to_string(index=False)
            + "\n(mean ± standard deviation over seeds, on held-out sequences after the last "
              "epoch; params of bilstm_none_* are the whole two-headed model's)")


def memory_needed(args):
    """The section scripts' estimate, for the widest model here (twice the units, about)."""
    import argparse

    return resources.section_memory(argparse.Namespace(**{**vars(args), "units": 2 * args.units}))


def parse_args(argv=None):
    parser = cli.ArgumentParser(__name__, description=__doc__)
    cli.add_common_arguments(parser, epochs=1000, repeats=30)
    parser.add_argument("--heldout-every", type=cli.positive_int, default=50, metavar="EPOCHS",
                        help="score the held-out sequences every this many epochs")

    def check(args):
        cli.check_heldout_every(parser, args)

    return cli.parse(parser, argv, check, memory=memory_needed)


def main(argv=None):
    args = parse_args(argv)
    from cumsum_data import position_reference
    from suite import claims, experiment, outputs

    reference = position_reference(args.timesteps)
    with outputs.kept_on_interrupt():
        models = get_models(args.timesteps, args.units)
        heldout, summary, losses = train(models, args)
        comparison = claims.compare(summary, CLAIMS)
        over_training = claims.first_supported(heldout, CLAIMS)
        title = f"Stacked and two-headed BiLSTMs: held-out scores\n{experiment.describe(args)}"
        figure = experiment.plot_heldout(heldout, reference, title)
        tables = {f"results/{SCRIPT}.csv": losses, f"results/{SCRIPT}_heldout.csv": heldout,
                  f"results/{SCRIPT}_summary.csv": summary,
                  f"results/{SCRIPT}_comparison.csv": comparison,
                  f"results/{SCRIPT}_heldout_claims.csv": over_training}
        outputs.write_results(args.output_dir, tables, {f"plots/{SCRIPT}.png": figure},
                              name=SCRIPT, quiet=args.quiet, run=args)
    print()
    print(summary_table(summary, reference))
    print()
    print(claims.comparison_table(comparison))
    return summary, comparison


if __name__ == "__main__":
    main()
