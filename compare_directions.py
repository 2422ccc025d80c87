"""Compare LSTM to Bidirectional LSTM: forward, backward and both directions.

Trains a forward LSTM, a backward LSTM (go_backwards=True) and a Bidirectional LSTM for 250 epochs
each, plots their training loss, and tests the tutorial's claims about them seed by seed.

The tutorial's backward LSTM has a flaw, kept here as written: with go_backwards=True Keras
returns the output sequence in reversed time order, so the output for step t is scored against
the label of step T-1-t. `lstm_back_aligned` flips the output back into time order, which is the
comparison the tutorial meant to make.

    python compare_directions.py
    python compare_directions.py --heldout-every 10     # also held-out learning curves
    python compare_directions.py --literal --repeats 1  # the tutorial's own fit loop
"""

import bilstm_classify
import lstm_baseline
from suite import cli, environment, resources
from suite.claims import Claim
from suite.layers import reverse_time


def build_backward_aligned(n_timesteps=10, units=20):
    """The backward LSTM with its outputs put back in time order before the per-step Dense."""
    environment.import_keras()  # as quiet as a script: TensorFlow's start-up log stays off
    import keras
    from keras import layers

    model = keras.Sequential(
        [
            keras.Input(shape=(n_timesteps, 1)),
            # go_backwards reads x[T-1] first, so its output at position i belongs to step T-1-i.
            layers.LSTM(units, return_sequences=True, go_backwards=True),
            # Flipping the outputs lines each one up with the label of the step it describes.
            layers.Lambda(reverse_time, name="reverse_time"),
            layers.TimeDistributed(layers.Dense(1, activation="sigmoid")),
        ]
    )
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["acc"])
    return model


def get_models(n_timesteps, units):
    """The compared models under the tutorial's DataFrame column names."""
    return {
        "lstm_forw": lambda: lstm_baseline.build_model(n_timesteps, units),
        "lstm_back": lambda: lstm_baseline.build_model(n_timesteps, units, go_backwards=True),
        "lstm_back_aligned": lambda: build_backward_aligned(n_timesteps, units),
        "bilstm_con": lambda: bilstm_classify.build_model(n_timesteps, units, "concat"),
    }


# The tutorial's claims about this comparison, each as (first, second, measure, expected).
CLAIMS = [
    # "the Bidirectional LSTM log loss is different, going down sooner to a lower value"
    Claim("bilstm_con", "lstm_forw", "epochs_to_reference"),
    Claim("bilstm_con", "lstm_forw", "loss_auc"),
    Claim("bilstm_con", "lstm_forw", "final_loss"),
    # "the LSTM forward and LSTM backward show similar log loss"
    Claim("lstm_back", "lstm_forw", "final_loss", "similar"),
    Claim("lstm_back_aligned", "lstm_forw", "final_loss", "similar"),
    # What the misalignment costs: the aligned backward LSTM against the one as written.
    Claim("lstm_back_aligned", "lstm_back", "final_loss"),
    Claim("lstm_back_aligned", "lstm_back", "step_accuracy"),
    # "bidirectional LSTMs can in fact add something more than simply reversing the input"
    Claim("bilstm_con", "lstm_back_aligned", "final_loss"),
    Claim("bilstm_con", "lstm_back_aligned", "step_accuracy"),
    Claim("bilstm_con", "lstm_back_aligned", "sequence_accuracy"),
    Claim("bilstm_con", "lstm_forw", "step_accuracy"),
    Claim("bilstm_con", "lstm_forw", "sequence_accuracy"),
]


# Each model trains with the tutorial's train_model, in its own words:
#
#     def train_model(model, n_timesteps):
#         loss = list()
#         for _ in range(250):
#             # generate new random sequence
#             X,y = get_sequence(n_timesteps)
#             # fit model for one epoch on this sequence
#             hist = model.fit(X, y, epochs=1, batch_size=1, verbose=0)
#             loss.append(hist.history['loss'][0])
#         return loss
#
# experiment.run takes exactly these steps for every model and seed in compiled programs, with
# the same sequences for every model of a seed; --literal runs the fit loop itself.


def parse_args(argv=None):
    parser = cli.ArgumentParser(__name__, description=__doc__)
    cli.add_common_arguments(parser, epochs=250, repeats=30)
    cli.add_literal_argument(parser)
    cli.add_heldout_argument(parser)
    return cli.parse(parser, argv, check=lambda args: cli.check_heldout_every(parser, args),
                     memory=resources.section_memory)


def main(argv=None):
    args = parse_args(argv)
    from suite import experiment  # loads Keras, now that the flags are good

    return experiment.run("compare_directions", get_models(args.timesteps, args.units), args,
                          title="Forward, backward and bidirectional LSTM: training loss",
                          claims_to_test=CLAIMS, heldout_every=args.heldout_every)


if __name__ == "__main__":
    main()
