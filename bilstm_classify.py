"""Bidirectional LSTM for sequence classification.

The LSTM of lstm_baseline.py wrapped in Bidirectional: one copy reads the sequence forward, one
reads it backward, and their outputs are concatenated at each step, so every step's prediction can
use the whole sequence. Same training: 1,000 epochs of one fresh sequence, batch size 1.

    python bilstm_classify.py
    python bilstm_classify.py --literal --epochs 100   # the tutorial's own fit loop: same losses
"""

from suite import cli, environment, resources


def build_model(n_timesteps=10, units=20, merge_mode="concat"):
    """Bidirectional(LSTM(units)) then TimeDistributed(Dense(1, sigmoid))."""
    environment.import_keras()  # as quiet as a script: TensorFlow's start-up log stays off
    import keras
    from keras import layers

    model = keras.Sequential(
        [
            keras.Input(shape=(n_timesteps, 1)),
            # The backward copy reads the sequence from its end, so each output also sees the
            # future: whether the sum will still reach the limit is known from the values after t.
            layers.Bidirectional(layers.LSTM(units, return_sequences=True), merge_mode=merge_mode),
            layers.TimeDistributed(layers.Dense(1, activation="sigmoid")),
        ]
    )
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["acc"])
    return model


# The tutorial trains the BiLSTM with the same loop as the LSTM, in its own words:
#
#     # train LSTM
#     for epoch in range(1000):
#         # generate new random sequence
#         X,y = get_sequence(n_timesteps)
#         # fit model for one epoch on this sequence
#         model.fit(X, y, epochs=1, batch_size=1, verbose=2)
#
# experiment.run takes exactly these steps in one compiled program; --literal runs this loop.


def parse_args(argv=None):
    parser = cli.ArgumentParser(__name__, description=__doc__)
    cli.add_common_arguments(parser, epochs=1000, repeats=1)
    cli.add_literal_argument(parser)
    return cli.parse(parser, argv, memory=resources.section_memory)


def main(argv=None):
    args = parse_args(argv)
    from suite import experiment  # loads Keras, now that the flags are good

    models = {"bilstm_con": lambda: build_model(args.timesteps, args.units)}
    results = experiment.run("bilstm_classify", models, args,
                             title="Bidirectional LSTM (concat): training loss per sequence")
    if not args.quiet:
        print(f"\nOne held-out sequence (seed {args.seed}):")
        experiment.print_expected_predicted(results, "bilstm_con")
    return results


if __name__ == "__main__":
    main()
