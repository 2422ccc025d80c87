"""Sentiment in plain PyTorch: the text tutorial's classifier in torch.nn, beside the Keras one.

text/text_classify.py's two LSTMs written with torch.nn only: `nn.Embedding`, a dropout that drops
whole embedding channels as SpatialDropout1D(0.4) does, `nn.LSTM` (bidirectional=True for the
BiLSTM) read up to each sentence's last word, and `nn.Linear` to two classes with a softmax. Each
seed gives them what it gives the Keras models: the same split and vocabulary, the same initial
weights (Keras's draws in PyTorch's layout, suite/pytorch_port.py), the same batches in the same
order, Keras's Adam and loss. Only the dropout masks differ: here they are NumPy draws from the
seed, in Keras each backend's own. With dropout off a run equals Keras's `fit` on JAX, epoch by
epoch (tests/test_text_pytorch.py); with it, this script tests the claim that the two frameworks
reach the same accuracy, seed by seed, against the committed Keras run (JAX, results/
text_classify_summary.csv). docs/pytorch.md has the mapping and the verdicts.

It needs PyTorch, which requirements.txt leaves out: `make test-torch` installs the pinned CPU
build (torch==2.13.0). It never imports Keras.

    python -m pytorch.text_classify_pytorch                   # 30 seeds, both LSTMs
    python -m pytorch.text_classify_pytorch --repeats 6 --model bilstm_con
    python -m pytorch.text_classify_pytorch --units 32 --keras-run runs  # against your Keras run
"""

if not __package__:  # run as a file, not as a module: the imports below would fail
    import sys

    sys.stderr.write("error: run it from the repository root as a module: "
                     "python -m pytorch.text_classify_pytorch\n")
    raise SystemExit(2)

import functools
import threading
import time
from pathlib import Path

from suite import cli, environment, pytorch_port, sentiment

MODELS = tuple(pytorch_port.TEXT_MODELS)  # bilstm_con, lstm_forw
TORCH = ("torch", environment.BACKENDS["torch"][1])  # the package, and how to install it
DROPOUT = 0.4  # the tutorial's SpatialDropout1D(0.4)
# Stream 6 of a seed's SeedSequence draws the dropout masks (3: weights, 4: split, 5: shuffling).
DROPOUT_STREAM = 6
KERAS, PYTORCH = "keras", "pytorch"
# Where the committed Keras run lies (python -m text.text_classify with its defaults, on JAX): what
# a run with those settings compares with unless --keras-run names another folder.
COMMITTED_RUN = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------- command line


def parse_args(argv=None):
    parser = cli.ArgumentParser(__name__, description=__doc__)
    sentiment.add_arguments(parser, MODELS, datasets=("polarity",))
    parser.add_argument("--keras-run", metavar="FOLDER",
                        help="the folder whose results/text_classify*.csv hold the Keras run "
                             "to compare with (default: the committed run, when the flags "
                             "that shape a run are at their defaults)")
    return cli.parse(parser, argv, check=functools.partial(sentiment.check_arguments, parser),
                     memory=sentiment.memory, needs=[TORCH])


# PyTorch is optional. The flags above answer without it (--help, a bad value); a run without it,
# or with a build that fails to import, is one line on how to install it, exit status 2.
if __name__ == "__main__" and not environment.importable("torch"):
    parse_args()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from suite import outputs, runner, tables, text_data  # noqa: E402
from suite.claims import Claim  # noqa: E402
from suite.pytorch_keras import KerasAdam, categorical_crossentropy, write_results  # noqa: E402
from suite.weights import seed_stream  # noqa: E402

# Each run keeps to one thread; runs train side by side, one per core (`trained_side_by_side`).
torch.set_num_threads(1)


# ---------------------------------------------------------------- the model


class SentimentModel(nn.Module):
    """text/text_classify.py's build_model(name) in torch.nn: bilstm_con or lstm_forw."""

    def __init__(self, name="bilstm_con", max_words=5000, embedding_dim=16, units=16,
                 n_classes=2):
        super().__init__()
        self.name = name
        # Row i of the table is word id i's vector; id 0 pads a sentence, and the LSTM never
        # reads it (`forward`), as Keras's mask_zero=True makes its LSTM step over it.
        self.embedding = nn.Embedding(max_words, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, units, batch_first=True,
                            bidirectional=pytorch_port.TEXT_MODELS[name] == 2)
        # PyTorch's second LSTM bias stays at zero, out of training (docs/pytorch.md).
        for parameter_name, parameter in self.lstm.named_parameters():
            if parameter_name.startswith("bias_hh"):
                nn.init.zeros_(parameter)
                parameter.requires_grad_(False)
        self.dense = nn.Linear(pytorch_port.TEXT_MODELS[name] * units, n_classes)

    def forward(self, ids, keep=None):
        """ids: (sentences, max_length) word ids, 0 after the last word -> class probabilities.

        keep: None, or (sentences, 1, embedding_dim) of 0 and 1 / (1 - rate): SpatialDropout1D,
        which drops the same embedding channels at every word of a sentence.
        """
        x = self.embedding(ids)
        if keep is not None:
            x = x * keep
        lengths = (ids != 0).sum(dim=1)
        # Each sentence read up to its last word: the forward LSTM's final state is the one after
        # that word, the backward LSTM's the one after the first word, as with Keras's mask.
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths.clamp(min=1), batch_first=True,
                                                   enforce_sorted=False)
        _, (h, _) = self.lstm(packed)
        features = torch.cat(list(h), dim=-1)  # forward, then backward: Keras's concat
        # A sentence with no word at all: Keras's LSTM steps over every position and keeps its
        # zero initial state.
        features = features * (lengths > 0)[:, None]
        return torch.softmax(self.dense(features), dim=-1)

    def trainable_parameters(self):
        return [parameter for parameter in self.parameters() if parameter.requires_grad]


def build_seeded(name, seed, args):
    """The model `name` holding the Keras model's initial weights for `seed`."""
    model = SentimentModel(name, args.max_words, args.embedding_dim, args.units, args.n_classes)
    keras_weights = pytorch_port.keras_text_initial_weights(
        name, seed, args.max_words, args.embedding_dim, args.units, args.n_classes)
    state = pytorch_port.torch_text_state(name, keras_weights)
    model.load_state_dict({key: torch.from_numpy(value) for key, value in state.items()})
    return model


# ---------------------------------------------------------------- training, the tutorial's way


def scores(model, ids, labels):
    """(loss, accuracy) on a split, dropout off."""
    model.eval()
    with torch.no_grad():
        probabilities = model(ids)
        loss = categorical_crossentropy(probabilities, labels).item()
        accuracy = (probabilities.argmax(dim=-1) == labels).double().mean().item()
    return loss, accuracy


def spatial_dropout_mask(rng, sentences, embedding_dim, rate):
    """SpatialDropout1D's mask for a batch, drawn from `rng`: (sentences, 1, embedding_dim), 0
    for a dropped channel and 1 / (1 - rate) for a kept one, the same at every word; None when
    the rate is 0."""
    if rate == 0:
        return None
    kept = rng.random((sentences, 1, embedding_dim)) >= rate
    return torch.from_numpy((kept / (1 - rate)).astype(np.float32))


def train_seed(name, splits, seed, args, dropout=DROPOUT, stop=None):
    """One seed's run of `fit`: args.epochs passes over the training sentences in batches of
    args.batch_size, in the orders text_classify's ShuffledBatches gives fit (stream 5 of the
    seed, a new order every epoch), with Keras's Adam and loss. Returns its per-epoch rows: the
    training loss and accuracy averaged over the epoch's batches (with dropout, as Keras logs
    them), then the validation and test scores after it. `stop`, a threading.Event, ends the
    run between two epochs (KeyboardInterrupt)."""
    model = build_seeded(name, seed, args)
    optimizer = KerasAdam(model.trainable_parameters())
    tensors = {split: (torch.from_numpy(ids.astype(np.int64)),
                       torch.from_numpy(labels.astype(np.int64)))
               for split, (ids, labels) in splits.items()}
    X, y = tensors["train"]
    shuffling = seed_stream(seed, sentiment.SHUFFLE_STREAM)
    masks = seed_stream(seed, DROPOUT_STREAM)
    # ShuffledBatches draws an order when it is made; fit then reads one batch to learn the
    # data's shapes and calls on_epoch_end before the first epoch, which draws the next one: the
    # first epoch's order is the seed's second.
    shuffling.permutation(len(X))
    order = shuffling.permutation(len(X))
    rows = []
    for epoch in range(1, args.epochs + 1):
        if stop is not None and stop.is_set():
            raise KeyboardInterrupt
        model.train()
        loss_sum = correct = 0.0
        for start in range(0, len(X), args.batch_size):
            batch = torch.from_numpy(order[start : start + args.batch_size])
            keep = spatial_dropout_mask(masks, len(batch), args.embedding_dim, dropout)
            optimizer.zero_grad()
            probabilities = model(X[batch], keep)
            loss = categorical_crossentropy(probabilities, y[batch])
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(batch)
            correct += (probabilities.argmax(dim=-1) == y[batch]).sum().item()
        order = shuffling.permutation(len(X))
        row = {"model": name, "seed": seed, "epoch": epoch, "loss": loss_sum / len(X),
               "accuracy": correct / len(X)}
        for split in ("val", "test"):
            row[f"{split}_loss"], row[f"{split}_accuracy"] = scores(model, *tensors[split])
        rows.append(row)
        runner.check_finite([row["loss"]], name, seed)
    return rows, sum(parameter.numel() for parameter in model.trainable_parameters())


def trained_side_by_side(names, data, seeds, args):
    """Yield ((name, seed), (per-epoch rows, parameters, seconds)) for every model and seed, in
    that order, trained side by side, one per core (`runner.in_order`). Every run has its own
    model and generators, so its numbers are the same however the runs are spread. Ctrl-C: the
    runs end after their current epoch."""
    stop = threading.Event()

    def train(job):
        name, seed = job
        start = time.perf_counter()
        rows, params = train_seed(name, data[seed], seed, args, stop=stop)
        return rows, params, time.perf_counter() - start

    return runner.in_order([(name, seed) for name in names for seed in seeds], train, stop=stop)


# ---------------------------------------------------------------- against the Keras run


def keras_run(args, seeds, params=None):
    """The Keras run to compare with: (per-epoch rows, summary) of args.keras_run's
    results/text_classify*.csv for this run's models and seeds, each model named
    '<model>/keras'; None where there is none to compare with, and why. `params`, this run's
    {model: parameters}: a Keras run whose models have other sizes, or whose runs have another
    number of epochs, had other settings and is not compared."""
    folder = Path(args.keras_run) if args.keras_run else COMMITTED_RUN
    if args.keras_run is None and not committed_settings(args):
        return None, ("the committed Keras run has text/text_classify.py's default settings; give "
                      "--keras-run with a Keras run of these settings to compare with")
    paths = [folder / "results" / f"text_classify{suffix}.csv" for suffix in ("", "_summary")]
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        return None, f"no Keras run to compare with ({', '.join(missing)} not found)"
    per_epoch, summary = (pd.read_csv(path) for path in paths)
    kept = [table[table["model"].isin(args.model) & table["seed"].isin(seeds)]
            .assign(model=lambda table: table["model"] + f"/{KERAS}")
            for table in (per_epoch, summary)]
    if kept[1].empty:
        return None, f"{folder / 'results'} holds none of these models and seeds"
    last = kept[1][kept[1]["stopped_at"] == sentiment.STOPPED_AT[0]]
    other_sizes = params is not None and any(
        (last["params"] != params[name[: -len(f"/{KERAS}")]]).any()
        for name, last in last.groupby("model"))
    if other_sizes or (last["epoch"] != args.epochs).any():
        return None, (f"the Keras run in {folder / 'results'} has other settings (other model "
                      "sizes or another number of epochs)")
    return kept, None


def side_by_side(ours, keras=None):
    """This run's rows with each model named <model>/pytorch (the majority reference keeps its
    name), then the Keras run's rows, named <model>/keras by `keras_run`, if any."""
    renamed = ours["model"] != sentiment.MAJORITY
    ours = ours.assign(model=ours["model"].where(~renamed, ours["model"] + f"/{PYTORCH}"))
    return ours if keras is None else pd.concat([ours, keras], ignore_index=True)


def committed_settings(args):
    """Whether the flags that shape a run are text/text_classify.py's defaults, which the committed
    Keras run used."""
    parser = cli.ArgumentParser()
    sentiment.add_arguments(parser, MODELS)
    defaults = parser.parse_args([])
    return (args.data is None and all(getattr(args, flag) == getattr(defaults, flag) for flag in
                                      ("dataset", "epochs", "batch_size", "units",
                                       "embedding_dim", "max_words", "max_length")))


def claims_to_test(models):
    """The two frameworks give the same scores (the suite's similarity rule), and the BiLSTM
    claim again in PyTorch."""
    claims = [Claim(f"{name}/{PYTORCH}", f"{name}/{KERAS}", measure, "similar")
              for name in models for measure in ("test_accuracy", "test_loss")]
    if set(MODELS) <= set(models):
        claims += [Claim(f"bilstm_con/{PYTORCH}", f"lstm_forw/{PYTORCH}", measure)
                   for measure in ("test_accuracy", "test_loss")]
    return claims


# ---------------------------------------------------------------- main


def main(argv=None):
    args = parse_args(argv)
    sentences = text_data.loaded(functools.partial(sentiment.read_sentences, args),
                                 args.output_dir)
    args.n_classes = sentences.n_classes  # the models are built for the data's classes
    seeds = tables.seeds_of(args)
    if not args.quiet:
        print(f"Data: {sentences.source}")
    data = {seed: sentiment.encode_splits(sentences, seed, args.max_words, args.max_length)
            for seed in seeds}
    title = (f"Sentiment in plain PyTorch {torch.__version__}: "
             f"{sentiment.describe_splits(sentences, data)}")

    with outputs.kept_on_interrupt():
        runs = dict(trained_side_by_side(args.model, data, seeds, args))
        frames, params, seconds = [], {}, {name: {} for name in args.model}
        for (name, seed), (rows, params[name], seconds[name][seed]) in runs.items():
            frames.append(pd.DataFrame(rows))
        if not args.quiet:
            for name in args.model:
                print(f"Trained {name}: {len(seeds)} run(s) x {args.epochs} epochs, plain "
                      f"PyTorch {torch.__version__}, {sum(seconds[name].values()):.1f} s of "
                      f"training (first seed {seconds[name][seeds[0]]:.1f} s)")
        per_epoch = pd.concat(frames, ignore_index=True)
        summary = sentiment.summarise(per_epoch, data, seeds, params, seconds, args.n_classes)
        keras, why_not = keras_run(args, seeds, params)
        both_per_epoch = side_by_side(per_epoch, keras and keras[0])
        both = side_by_side(summary, keras and keras[1])
        comparison = sentiment.compare(both, claims_to_test(args.model))
        figure = sentiment.plot_curves(
            both_per_epoch, both, f"{title}\n{sentiment.describe_run(args)}; Keras's runs "
            "dashed", dashed=[name for name in both_per_epoch["model"].unique()
                              if name.endswith(f"/{KERAS}")])
        write_results(args, {"results/text_classify_pytorch.csv": per_epoch,
                             "results/text_classify_pytorch_summary.csv": summary,
                             "results/text_classify_pytorch_comparison.csv": comparison},
                      {"plots/text_classify_pytorch.png": figure}, "text_classify_pytorch")
    sentiment.print_tables(title, args, both, comparison,
                           note=why_not and f"Not compared with Keras: {why_not}.")
    return summary, comparison


if __name__ == "__main__":
    main()
