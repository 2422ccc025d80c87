"""What the models share beyond Keras's own layers."""


def reverse_time(outputs):
    """Reverses the time axis of a (batch, timesteps, features) tensor: in a `Lambda` layer it
    puts a `go_backwards` LSTM's outputs, which come last step first, back in time order."""
    from keras import ops

    return ops.flip(outputs, axis=1)
