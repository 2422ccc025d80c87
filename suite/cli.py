"""Command lines: flags read and checked before Keras loads.

Importing Keras imports TensorFlow, which takes seconds, so every script parses its flags with
this module (argparse and the standard library only) and imports Keras afterwards: `--help` and a
bad value answer at once. A bad value is one line naming the flag, exit status 2; so is a run the
machine's memory cannot hold (the script states its needs: `suite.resources`), a Python without
the requirements, a backend that is unknown or not installed, or an optional package a script
needs that is missing or broken (`suite.environment`).
"""

import argparse
import sys
import time
from pathlib import Path

from suite import environment, outputs, resources

# A learner's run goes here (git-ignored); the committed plots/ and results/ are rewritten only by
# the make targets, which pass --output-dir . (make demo OUT=.).
DEFAULT_OUTPUT_DIR = environment.REPOSITORY / "runs"


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """--help shows the docstring as written (its commands keep their lines) and every default."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse with the defaults in --help and a bad value reported on one line (exit 2).

    `module` is the script's `__name__`: usage lines and errors then name the command that runs
    it (`python -m book.bilstm_book`), and so does the run's own record (`outputs.run_record`).
    """

    def __init__(self, module=None, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        self.command = environment.command(module) if module else None
        if self.command:
            kwargs.setdefault("prog", " ".join(self.command))
        super().__init__(**kwargs)

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def int_at_least(minimum):
    """An argparse type: an integer of at least `minimum`."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


positive_int = int_at_least(1)  # counts: epochs, units, repeats, sequences
non_negative_int = int_at_least(0)  # seeds


def add_common_arguments(parser, epochs, repeats, units=20):
    """The flags every section script shares, with the script's own defaults.

    epochs=None leaves out --epochs, for scripts that count training in sequences and batches.
    """
    parser.add_argument("--timesteps", type=positive_int, default=10,
                        help="values per sequence; the label flips when their sum reaches timesteps/4")
    if epochs is not None:
        parser.add_argument("--epochs", type=positive_int, default=epochs,
                            help="training epochs, each one fresh sequence with batch size 1")
    parser.add_argument("--units", type=positive_int, default=units,
                        help="memory units in each LSTM")
    return add_run_arguments(parser, repeats)


def add_run_arguments(parser, repeats, eval_sequences=1000):
    """Seeds, held-out set, output folder and verbosity: the flags of every script."""
    add_seed_arguments(parser, repeats)
    parser.add_argument("--eval-sequences", type=positive_int, default=eval_sequences,
                        help="fresh held-out sequences each trained model is scored on")
    add_output_argument(parser)
    add_quiet_argument(parser)
    return parser


def add_seed_arguments(parser, repeats, fixes="data, initial weights and training"):
    """--seed and --repeats; `fixes` says what a seed fixes in this script."""
    parser.add_argument("--seed", type=non_negative_int, default=0,
                        help=f"seed of the first run; it fixes {fixes}")
    parser.add_argument("--repeats", type=positive_int, default=repeats,
                        help="independent runs, with seeds seed .. seed+repeats-1")


def add_quiet_argument(parser, help="print only the final table"):
    parser.add_argument("--quiet", action="store_true", help=help)


def add_corpus_package_argument(parser):
    """--corpus-package: the text scripts' corpora from a .deb on disk instead of apt-get."""
    parser.add_argument("--corpus-package", type=Path, metavar="FILE",
                        help="a downloaded python3-pattern .deb to take the corpora from, on a "
                             "machine without apt")


def add_output_argument(parser, help="folder that receives plots/ and results/ (the committed "
                                          "ones are rewritten with --output-dir .)"):
    parser.add_argument("--output-dir", type=Path, default=DEFAULT_OUTPUT_DIR, help=help)


def add_literal_argument(parser):
    """--literal: a section trained with the tutorial's own loop, one `model.fit` per sequence."""
    parser.add_argument("--literal", action="store_true",
                        help="train with the tutorial's own loop, one model.fit call per fresh "
                             "sequence, instead of the compiled path that takes the same steps "
                             "hundreds of times faster; the losses are the same")


def describe_seeds(args):
    """The runs of --seed and --repeats in words: '1 run (seed 0)', '30 runs (seeds 0-29)'."""
    if args.repeats == 1:
        return f"1 run (seed {args.seed})"
    return f"{args.repeats} runs (seeds {args.seed}-{args.seed + args.repeats - 1})"


def add_heldout_argument(parser):
    """--heldout-every: held-out learning curves from checkpoints of the same runs."""
    parser.add_argument("--heldout-every", type=non_negative_int, default=0, metavar="EPOCHS",
                        help="also score the held-out sequences every this many epochs, for the "
                             "held-out learning curves (0: only after the last epoch)")


def check_heldout_every(parser, args):
    if args.heldout_every and args.epochs % args.heldout_every:
        parser.error(f"argument --heldout-every: {args.heldout_every} does not divide --epochs "
                     f"{args.epochs}")


def check_distinct(parser, args, *names):
    """Exit 2 with one line if a list flag repeats a value."""
    for name in names:
        values = getattr(args, name)
        if len(set(values)) != len(values):
            parser.error(f"argument --{name.replace('_', '-')}: each value may be given once")


def check_whole_batches(parser, sequences, batch_size, flag="--sequences"):
    """Exit 2 with one line unless the sequences fill whole batches."""
    if sequences % batch_size:
        parser.error(f"argument {flag}: {sequences} is not a multiple of the batch size "
                     f"{batch_size}")


def parse(parser, argv=None, check=None, memory=None, needs=(), subfolders=("plots", "results")):
    """Parse `argv`, run check(args) for what argparse cannot check alone, check that the run
    fits in memory (memory(args) -> (bytes, flag, in words), the script's own estimate), that
    this Python has the requirements and the optional packages in `needs` ((module, how to
    install it) pairs), then prove the output folder by writing in it: all before any work is
    done, so a refused run leaves nothing behind.

    The returned namespace also records the run (`argv`, `started`, `compile_cache`) for the
    run's own record, `results/<script>_run.csv` (`outputs.run_record`).
    """
    started = time.perf_counter()
    if argv is None:  # a script run from the command line, not main() called from Python
        sys.excepthook = environment.interrupted_anywhere
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    if check is not None:
        check(args)
    if memory is not None:
        needed, flag, what = memory(args)
        problem = resources.too_much(needed)
        if problem:
            parser.error(f"argument {flag}: this run would hold about "
                         f"{needed / resources.GIB:,.1f} GiB at once ({what}), {problem}")
    problem = environment.environment_problem()
    if problem:
        parser.exit(2, f"{parser.prog}: error: {problem}\n")
    for module, install in needs:
        environment.require(module, install)
    problem = outputs.prove_output_dir(args.output_dir, subfolders)
    if problem:
        parser.error(f"argument --output-dir: {problem}")
    environment.check_compilation_cache()
    args.argv, args.started, args.command = argv, started, parser.command
    args.compile_cache = environment.compile_cache_state()
    return args
