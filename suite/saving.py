"""A model you can keep: the `.keras` file, with what labelling new sequences needs beside it.

`save` writes the trained model as MODEL.keras and MODEL.json: the class names, the features in
their order, their training mean and standard deviation, the padding and the longest sequence the
model reads. `load` reads both back, on any Keras backend. Importing this module registers
`ReverseTime`, the one layer of the suite's sequence models that is not Keras's own.
"""

import json
import os
from pathlib import Path

from suite.environment import import_keras
from suite.layers import reverse_time

keras = import_keras()


@keras.saving.register_keras_serializable(package="bilstm")
class ReverseTime(keras.layers.Layer):
    """`reverse_time` as a layer that a saved model can name (a `Lambda`'s function cannot be
    reloaded in Keras's safe mode) and that keeps the mask. A `go_backwards` LSTM's mask stays
    in time order while its outputs come last step first, so once the outputs are flipped back
    the mask fits them again and passes through unchanged."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        return reverse_time(inputs)

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, input_shape):
        return input_shape


def save(model, path, description):
    """Write `model` to `path` (.keras) and `description` (a dict) to the .json beside it."""
    from suite import outputs

    def write_model(temporary):
        model.save(f"{temporary}.keras")  # Keras names the format by the file's ending
        os.replace(f"{temporary}.keras", temporary)

    path = Path(path)
    outputs.atomic_write(path, write_model)
    outputs.atomic_write(path.with_suffix(".json"),
                         lambda temporary: Path(temporary).write_text(
                             json.dumps(description, indent=1) + "\n"))


def load(path):
    """(model, description) from a .keras file written by `save` and its .json."""
    path = Path(path)
    description = json.loads(path.with_suffix(".json").read_text())
    return keras.saving.load_model(path), description
