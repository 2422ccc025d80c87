"""LSTM for sequence classification: the tutorial's forward LSTM.

An LSTM(20) reads a sequence of random values one step at a time and, through a TimeDistributed
Dense(1, sigmoid) layer, says at every step whether the running sum has reached n_timesteps / 4.
It trains for 1,000 epochs, each on one fresh sequence with batch size 1, then prints Expected and
Predicted labels for one held-out sequence and scores 1,000 held-out sequences.

    python lstm_baseline.py
"""

from suite import cli, environment, resources


def build_model(n_timesteps=10, units=20, go_backwards=False):
    """LSTM(units) then TimeDistributed(Dense(1, sigmoid)), compiled as the tutorial does."""
    environment.import_keras()  # as quiet as a script: TensorFlow's start-up log is kept off the terminal
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


def print_expected_predicted(results, model_name):
    """The tutorial's closing print: labels and predictions for one fresh sequence."""
    probabilities = results.runs[model_name].probabilities[0, 0]
    yhat = (probabilities > 0.5).astype(int)
    for expected, predicted in zip(results.eval_y[0, 0], yhat):
        print("Expected:", [int(expected)], "Predicted", [int(predicted)])


def parse_args(argv=None):
    parser = cli.ArgumentParser(description=__doc__)
    cli.add_common_arguments(parser, epochs=1000, repeats=1)
    return cli.parse(parser, argv, memory=resources.section_memory)


def main(argv=None):
    args = parse_args(argv)
    from suite import experiment  # loads Keras, now that the flags are good

    models = {"lstm_forw": lambda: build_model(args.timesteps, args.units)}
    results = experiment.run("lstm_baseline", models, args,
                             title="LSTM: training loss per sequence")
    if not args.quiet:
        print(f"\nOne held-out sequence (seed {args.seed}):")
        print_expected_predicted(results, "lstm_forw")
    return results


if __name__ == "__main__":
    main()
