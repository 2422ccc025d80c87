"""Comparing Bidirectional LSTM merge modes: sum, mul, ave and concat.

The Bidirectional wrapper combines the forward and backward outputs at each step by adding them
(sum), multiplying them (mul), averaging them (ave) or concatenating them (concat, the default).
Each mode trains for 250 epochs of one fresh sequence; the plot compares their training loss and
the comparison tests, seed by seed, the tutorial's claim that sum and concat may do better.

    python compare_merge_modes.py
    python compare_merge_modes.py --heldout-every 10     # also held-out learning curves
    python compare_merge_modes.py --merge-modes sum concat
"""

from bilstm_classify import build_model
from suite import cli, resources
from suite.claims import Claim

# The tutorial's DataFrame column for each merge mode, in the tutorial's order.
MODEL_NAMES = {"sum": "bilstm_sum", "mul": "bilstm_mul", "ave": "bilstm_ave", "concat": "bilstm_con"}


# "perhaps a sum and concatenation merge mode may result in better performance, or at least lower
# log loss": each of the two against each of the other two modes, and against each other.
CLAIMS = [
    Claim(better, worse, measure)
    for measure in ("final_loss", "step_accuracy")
    for better in ("bilstm_sum", "bilstm_con")
    for worse in ("bilstm_mul", "bilstm_ave")
] + [
    Claim("bilstm_sum", "bilstm_con", "final_loss", "similar"),
    Claim("bilstm_ave", "bilstm_mul", "final_loss"),
]


def get_models(n_timesteps, units, merge_modes):
    return {
        MODEL_NAMES[mode]: (lambda mode=mode: build_model(n_timesteps, units, merge_mode=mode))
        for mode in merge_modes
    }


# Each merge mode trains with the tutorial's train_model, in its own words:
#
#     for _ in range(250):
#         # generate new random sequence
#         X,y = get_sequence(n_timesteps)
#         # fit model for one epoch on this sequence
#         hist = model.fit(X, y, epochs=1, batch_size=1, verbose=0)
#         loss.append(hist.history['loss'][0])
#
# experiment.run takes exactly these steps for every mode and seed in compiled programs, each
# seed's sequences the same for every mode; --literal runs this loop.


def parse_args(argv=None):
    parser = cli.ArgumentParser(__name__, description=__doc__)
    cli.add_common_arguments(parser, epochs=250, repeats=30)
    cli.add_literal_argument(parser)
    parser.add_argument("--merge-modes", nargs="+", choices=list(MODEL_NAMES),
                        default=list(MODEL_NAMES), metavar="MODE",
                        help=f"merge modes to compare, from {', '.join(MODEL_NAMES)}")
    cli.add_heldout_argument(parser)

    def check(args):
        cli.check_distinct(parser, args, "merge_modes")
        cli.check_heldout_every(parser, args)

    return cli.parse(parser, argv, check, memory=resources.section_memory)


def main(argv=None):
    args = parse_args(argv)
    from suite import experiment  # loads Keras, now that the flags are good

    return experiment.run("compare_merge_modes",
                          get_models(args.timesteps, args.units, args.merge_modes), args,
                          title="Bidirectional LSTM merge modes: training loss",
                          claims_to_test=CLAIMS, heldout_every=args.heldout_every)


if __name__ == "__main__":
    main()
