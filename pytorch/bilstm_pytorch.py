"""The tutorial in plain PyTorch: its models in torch.nn, trained its way, with Keras's numbers.

Each of the tutorial's models written with torch.nn only: `nn.LSTM` (with bidirectional=True for
the BiLSTMs) and the same `nn.Linear` + sigmoid at every step, trained as the tutorial trains:
one fresh sequence per Adam step, binary cross-entropy. A seed fixes the same sequences and the
same initial weights as in the Keras scripts (Keras's draws, mapped into PyTorch's layout by
suite/pytorch_port.py), so every per-epoch loss equals the committed Keras one: docs/pytorch.md.
By default it trains bilstm_con for 1,000 epochs from seed 0, as bilstm_classify.py does;
--check-committed trains every model and seed of the committed Keras runs and compares every
loss; --unlike-keras changes one detail of the port, to measure what it costs.
It needs PyTorch, which requirements.txt leaves out: `make test-torch` installs the pinned CPU
build (torch==2.13.0).

    python -m pytorch.bilstm_pytorch
    python -m pytorch.bilstm_pytorch --model lstm_back --epochs 250 --repeats 30
    python -m pytorch.bilstm_pytorch --check-committed
    python -m pytorch.bilstm_pytorch --check-committed --unlike-keras adam-epsilon
"""

if not __package__:  # run as a file, not as a module: the imports below would fail
    import sys

    sys.stderr.write("error: run it from the repository root as a module: "
                     "python -m pytorch.bilstm_pytorch\n")
    raise SystemExit(2)

import time
from dataclasses import dataclass
from pathlib import Path

from suite import cli, environment, pytorch_port, resources

MODELS = list(pytorch_port.MODELS)
TORCH = ("torch", environment.BACKENDS["torch"][1])  # the package, and how to install it
RESULTS = Path(__file__).resolve().parent.parent / "results"
# The committed per-epoch losses of the four sections (TensorFlow, `make demo OUT=.`): 10
# timesteps, 20 units.
COMMITTED = ["lstm_baseline", "bilstm_classify", "compare_directions", "compare_merge_modes"]
TOLERANCE = 1e-4  # the port's promise: every committed Keras loss within 1e-4
# A port that differs from Keras in one detail, to measure what that detail costs.
UNLIKE_KERAS = {
    "adam-epsilon": "torch.optim.Adam(eps=1e-7): epsilon added where PyTorch adds it",
    "adam-defaults": "torch.optim.Adam() as it comes: eps=1e-8, where PyTorch adds it",
    "second-bias": "PyTorch's second LSTM bias (bias_hh) trained as well",
    "loss-clip": "F.binary_cross_entropy as it comes, without Keras's clip",
}


# ---------------------------------------------------------------- command line


def parse_args(argv=None):
    parser = cli.ArgumentParser(__name__, description=__doc__)
    parser.add_argument("--model", choices=MODELS, default="bilstm_con",
                        help="the tutorial's model to train")
    cli.add_common_arguments(parser, epochs=1000, repeats=1)
    parser.add_argument("--check-committed", action="store_true",
                        help="train every model and seed of the committed Keras runs (results/"
                             f"{{{','.join(COMMITTED)}}}.csv) and print the largest difference "
                             "of their per-epoch losses, per file and model; ignores the flags "
                             "that pick a run")
    parser.add_argument("--unlike-keras", choices=list(UNLIKE_KERAS), default=None,
                        help="differ from Keras in one detail, to measure what it costs: "
                             + "; ".join(f"{key}: {value}" for key, value in UNLIKE_KERAS.items()))

    def check(args):
        if args.check_committed and (args.timesteps, args.units) != (10, 20):
            parser.error("argument --check-committed: the committed runs have 10 timesteps and "
                         "20 units")

    return cli.parse(parser, argv, check, memory=resources.section_memory, needs=[TORCH])


# PyTorch is optional. The flags above answer without it (--help, a bad value); a run without it,
# or with a build that fails to import, is one line on how to install it, exit status 2.
if __name__ == "__main__" and not environment.importable("torch"):
    parse_args()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from suite.pytorch_keras import EPSILON, KerasAdam, binary_crossentropy, write_results  # noqa: E402

# Tensors of 10 steps and 20 units are too small to share across threads: one thread is fastest,
# and several, on a busy machine, are many times slower.
torch.set_num_threads(1)



# ---------------------------------------------------------------- the models


# How Keras's Bidirectional merges the two directions at each step; concat is nn.LSTM's own
# output, the forward direction's units then the backward's.
MERGES = {"sum": lambda forward, backward: forward + backward,
          "mul": lambda forward, backward: forward * backward,
          "ave": lambda forward, backward: (forward + backward) / 2}


class TutorialModel(nn.Module):
    """One of the tutorial's models: an LSTM, then the same Linear(features, 1) + sigmoid at
    every step. `name` is the tutorial's: lstm_forw, lstm_back, lstm_back_aligned, bilstm_con,
    bilstm_sum, bilstm_mul or bilstm_ave."""

    def __init__(self, name="bilstm_con", units=20, train_second_bias=False):
        super().__init__()
        self.name = name
        self.direction, self.merge_mode = pytorch_port.MODELS[name]
        # The LSTM returns its output at every step, so each step can get its own label. With
        # bidirectional=True a second LSTM reads the sequence from its end, and its outputs come
        # back in time order beside the first one's, as in Keras's Bidirectional.
        self.lstm = nn.LSTM(input_size=pytorch_port.N_FEATURES, hidden_size=units,
                            batch_first=True, bidirectional=self.direction == "both")
        # PyTorch's LSTM adds two biases where Keras's has one. Both would get the same gradient
        # and Adam would move their sum twice as fast, so the second one stays at zero.
        for parameter_name, parameter in self.lstm.named_parameters():
            if parameter_name.startswith("bias_hh") and not train_second_bias:
                nn.init.zeros_(parameter)
                parameter.requires_grad_(False)
        # The same Linear at every step (Keras's TimeDistributed(Dense(1))): one probability per
        # timestep.
        self.dense = nn.Linear(pytorch_port.dense_inputs(name, units), 1)

    def forward(self, x):
        """x: (batch, timesteps, 1) -> P(y_t = 1), (batch, timesteps, 1)."""
        if self.direction == "backward":
            # go_backwards=True reads x[T-1] first, and Keras returns the outputs in that order:
            # lstm_back's output i belongs to step T-1-i, as the tutorial wrote it.
            x = x.flip(1)
        outputs, _ = self.lstm(x)
        if self.name == "lstm_back_aligned":
            # Flipping the outputs lines each one up with the label of the step it describes.
            outputs = outputs.flip(1)
        if self.merge_mode in MERGES:
            outputs = MERGES[self.merge_mode](*outputs.chunk(2, dim=-1))
        return torch.sigmoid(self.dense(outputs))

    def trainable_parameters(self):
        return [parameter for parameter in self.parameters() if parameter.requires_grad]


def build_seeded(name, seed, units=20, unlike_keras=None):
    """The model `name` holding the Keras model's initial weights for `seed`."""
    model = TutorialModel(name, units, train_second_bias=unlike_keras == "second-bias")
    state = pytorch_port.torch_state(name, pytorch_port.keras_initial_weights(name, seed, units))
    model.load_state_dict({key: torch.from_numpy(value) for key, value in state.items()})
    return model


# ---------------------------------------------------------------- training, the tutorial's way


def make_optimizer(model, unlike_keras=None):
    """Keras's Adam (its defaults, `compile(optimizer="adam")`), or a detail of PyTorch's."""
    if unlike_keras == "adam-defaults":
        return torch.optim.Adam(model.trainable_parameters())
    if unlike_keras == "adam-epsilon":
        return torch.optim.Adam(model.trainable_parameters(), eps=EPSILON)
    return KerasAdam(model.trainable_parameters())


def train(model, X, y, unlike_keras=None):
    """The tutorial's loop: one Adam step per sequence, batch size 1.

    X, y: (sequences, timesteps, 1). Returns each epoch's loss, that of its sequence before the
    step: the number the tutorial's history holds.
    """
    optimizer = make_optimizer(model, unlike_keras)
    X, y = torch.from_numpy(X), torch.from_numpy(y.astype(np.float32))
    losses = np.empty(len(X), dtype=np.float32)
    for i in range(len(X)):
        optimizer.zero_grad()
        loss = binary_crossentropy(model(X[i : i + 1]), y[i : i + 1],
                                   clip=unlike_keras != "loss-clip")
        loss.backward()
        optimizer.step()
        losses[i] = loss.item()
    return losses


def predict(model, X):
    """P(y_t = 1) for sequences X (n, timesteps, 1): (n, timesteps)."""
    with torch.no_grad():
        return model(torch.from_numpy(X)).numpy()[..., 0]


@dataclass
class Runs:
    """One model trained from each seed: what `experiment.run` keeps of a Keras run."""

    seeds: list
    losses: np.ndarray  # (repeats, epochs)
    probabilities: np.ndarray  # (repeats, eval sequences, timesteps): held-out P(y_t = 1)
    train_seconds: np.ndarray  # (repeats,): training and held-out prediction
    params: int  # trainable parameters: Keras's count


def run_repeats(name, seeds, train_X, train_y, eval_X, units=20, unlike_keras=None):
    """Train a fresh model per seed on that seed's sequences, then predict its held-out ones."""
    losses, probabilities, seconds = [], [], []
    for r, seed in enumerate(seeds):
        model = build_seeded(name, seed, units, unlike_keras)
        start = time.perf_counter()
        losses.append(train(model, train_X[r], train_y[r], unlike_keras))
        probabilities.append(predict(model, eval_X[r]))
        seconds.append(time.perf_counter() - start)
    params = sum(parameter.numel() for parameter in model.trainable_parameters())
    return Runs(list(seeds), np.stack(losses), np.stack(probabilities), np.array(seconds), params)


# ---------------------------------------------------------------- against the committed Keras runs


def committed_losses(results=RESULTS):
    """Every committed per-epoch Keras loss of the four sections: file, model, seed, epoch, loss."""
    return pd.concat([pd.read_csv(results / f"{script}.csv").assign(file=f"results/{script}.csv")
                      for script in COMMITTED], ignore_index=True)


def differences(losses, committed):
    """Per committed file and model: how many of `losses` (model, seed, epoch, loss) have a
    committed partner, over how many seeds, and their largest difference from it."""
    merged = losses.merge(committed, on=["model", "seed", "epoch"], suffixes=("", "_keras"))
    # A loss that is not a number differs without bound.
    merged["difference"] = (merged["loss"] - merged["loss_keras"]).abs().fillna(np.inf)
    return (merged.groupby(["file", "model"], sort=False)
            .agg(seeds=("seed", "nunique"), epochs=("epoch", "max"), losses=("loss", "size"),
                 max_difference=("difference", "max"))
            .reset_index())


def check_committed(args):
    """Train every model and seed of the committed runs, as long as its longest committed run,
    and compare every per-epoch loss. Returns the table of `differences`."""
    from suite import outputs, tables

    committed = committed_losses()
    longest = committed.groupby(["model", "seed"], sort=False)["epoch"].max()
    frames = []
    with outputs.kept_on_interrupt():
        for name in committed["model"].unique():
            start = time.perf_counter()
            for seed, epochs in longest[name].items():
                train_X, train_y, _, _ = tables.draw_repeats([seed], epochs, 1, 10)
                model = build_seeded(name, seed, 20, args.unlike_keras)
                frames.append(tables.loss_rows(
                    name, [seed], train(model, train_X[0], train_y[0], args.unlike_keras)[None]))
            if not args.quiet:
                print(f"Trained {name}: {len(longest[name])} seeds, "
                      f"{longest[name].sum():,} epochs, {time.perf_counter() - start:.1f} s",
                      flush=True)
    table = differences(pd.concat(frames, ignore_index=True), committed)
    table.insert(0, "port", args.unlike_keras or "as Keras")
    write_results(args, {"results/bilstm_pytorch_check.csv": table}, {}, "bilstm_pytorch_check")
    shown = table.assign(max_difference=table["max_difference"].map("{:.1e}".format))
    print(shown.to_string(index=False))
    largest = table["max_difference"].max()
    print(f"(every committed per-epoch Keras loss of {len(table['file'].unique())} files, "
          f"{table['losses'].sum():,} losses; largest difference {largest:.1e}, "
          f"tolerance {TOLERANCE:g}"
          f"{'; port: ' + UNLIKE_KERAS[args.unlike_keras] if args.unlike_keras else ''})")
    if largest > TOLERANCE and not args.unlike_keras:
        raise SystemExit(f"error: a loss differs from the committed Keras loss by {largest:.1e}, "
                         f"more than {TOLERANCE:g}")
    return table


def main(argv=None):
    args = parse_args(argv)
    if args.check_committed:
        return check_committed(args)

    from cumsum_data import position_reference
    from suite import outputs, tables

    seeds = tables.seeds_of(args)
    train_X, train_y, eval_X, eval_y = tables.draw_repeats(seeds, args.epochs,
                                                           args.eval_sequences, args.timesteps)
    with outputs.kept_on_interrupt():
        runs = run_repeats(args.model, seeds, train_X, train_y, eval_X, args.units,
                           args.unlike_keras)
        if not args.quiet:
            print(f"Trained {args.model}: {cli.describe_seeds(args)} x {args.epochs} "
                  f"sequences, batch size 1, plain PyTorch {torch.__version__}, "
                  f"{runs.train_seconds.sum():.1f} s")
        reference = position_reference(args.timesteps)
        losses = tables.loss_rows(args.model, seeds, runs.losses)
        summary = pd.DataFrame(tables.summary_rows(
            args.model, seeds, runs.params, runs.losses, runs.probabilities, eval_y, reference,
            runs.train_seconds))
        title = f"{args.model} in plain PyTorch: training loss per sequence"
        figure = tables.plot_losses(losses, reference, f"{title}\n{tables.describe(args)}")
        write_results(args, {"results/bilstm_pytorch.csv": losses,
                             "results/bilstm_pytorch_summary.csv": summary},
                      {"plots/bilstm_pytorch.png": figure}, "bilstm_pytorch")
    if not args.quiet:
        print()
    print(tables.summary_table(summary, reference, n_steps=args.epochs))
    if (args.timesteps, args.units) == (10, 20):
        against = differences(losses, committed_losses())
        if len(against):
            print(f"\nAgainst the committed Keras losses ({args.unlike_keras or 'as Keras'}):")
            print(against.assign(max_difference=against["max_difference"].map("{:.1e}".format))
                  .to_string(index=False))
    if not args.quiet:
        print(f"\nOne held-out sequence (seed {args.seed}):")
        for expected, probability in zip(eval_y[0, 0], runs.probabilities[0, 0]):
            print("Expected:", [int(expected)], "Predicted", [int(probability > 0.5)])
    return runs


if __name__ == "__main__":
    main()
