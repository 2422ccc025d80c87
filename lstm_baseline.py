"""LSTM for sequence classification: the tutorial's forward LSTM.

An LSTM(20) reads a sequence of random values one step at a time and, through a TimeDistributed
Dense(1, sigmoid) layer, says at every step whether the running sum has reached n_timesteps / 4.
It trains for 1,000 epochs, each on one fresh sequence with batch size 1, then prints Expected and
Predicted labels for one held-out sequence and scores 1,000 held-out sequences.

    python lstm_baseline.py
    python lstm_baseline.py --literal --epochs 100   # the tutorial's own fit loop: same losses
"""

from suite import cli, environment, resources


def build_model(n_timesteps=10, units=20, go_backwards=False):
    """LSTM(units) then TimeDistributed(Dense(1, sigmoid)), compiled as the tutorial does."""
    environment.import_keras()  # as quiet as a script: TensorFlow's start-up log stays off
    import keras
    from keras import layers

    model = keras.Sequential(
        [
            keras.Input(shape=(n_timesteps, 1)),
            # The LSTM returns its output at every step, so each step can get its own label.
            layers.LSTM(units, return_sequences=True, go_backwards=go_backwards),
            # The same Dense(1) is applied at each step: one probability per timestep.
            layers.TimeDistributed(layers.Dense(1, activation="sigmoid")),
        ]
    )
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["acc"])
    return model


# The tutorial trains its model with this loop, in its own words:
#
#     # train LSTM
#     for epoch in range(1000):
#         # generate new random sequence
#         X,y = get_sequence(n_timesteps)
#         # fit model for one epoch on this sequence
#         model.fit(X, y, epochs=1, batch_size=1, verbose=2)
#
# experiment.run takes exactly these steps (one Adam update per fresh sequence, each epoch's loss
# measured before its update) in one compiled program for all seeds, hundreds of times faster.
# With --literal it runs this loop as written, model.fit and all, and gives the same losses.


def parse_args(argv=None):
    parser = cli.ArgumentParser(__name__, description=__doc__)
    cli.add_common_arguments(parser, epochs=1000, repeats=1)
    cli.add_literal_argument(parser)
    return cli.parse(parser, argv, memory=resources.section_memory)


def main(argv=None):
    args = parse_args(argv)
    from suite import experiment  # loads Keras, now that the flags are good

    models = {"lstm_forw": lambda: build_model(args.timesteps, args.units)}
    results = experiment.run("lstm_baseline", models, args,
                             title="LSTM: training loss per sequence")
    if not args.quiet:
        print(f"\nOne held-out sequence (seed {args.seed}):")
        experiment.print_expected_predicted(results, "lstm_forw")
    return results


if __name__ == "__main__":
    main()
