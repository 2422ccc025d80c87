"""Variable-length sequences in plain PyTorch: packed sequences give Keras's masked numbers.

The suite's sequence models (suite/sequence_models.py) read padded batches through a Masking layer.
PyTorch has no mask: its LSTM reads variable-length sequences packed with
`torch.nn.utils.rnn.pack_padded_sequence`. These tests copy each Keras model's weights into a
`torch.nn.LSTM` + `torch.nn.Linear` + softmax (the mapping of `pytorch_port.torch_state`), feed it
the real steps only, packed (`enforce_sorted=False`, the lengths in any order) and unpacked with
`pad_packed_sequence`, and check that it gives Keras's probabilities within 1e-5 on the post- and
the pre-padded batch: on every real step (`per_step=True`), or once per sequence, where the
forward direction ends on the last real step and the backward direction on the first.

Skipped without PyTorch (`make test-torch` installs it). A handful of tutorial sequences of 5 to
10 steps and a made-up batch of 3 features, so the whole file takes a few seconds.
"""

import keras
import numpy as np
import pytest

from suite import pytorch_port, sequence_data, sequence_models, weights

torch = pytest.importorskip("torch", reason="PyTorch is optional: make test-torch installs it")
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence  # noqa: E402

UNITS = 20
TOLERANCE = 1e-5


def tutorial_batch():
    """Six tutorial sequences of 5 to 10 steps (1 feature, 2 classes), padded to 10 steps."""
    return sequence_data.tutorial_sequences(6, 10, min_length=5, seed=3), 10


def three_feature_batch():
    """Made-up sequences of 3 features and 3 classes, one of a single step and one filling all
    12 steps, in no order of length."""
    rng = np.random.default_rng(11)
    lengths = [4, 1, 12, 7, 2, 9]
    return sequence_data.Sequences(
        [rng.normal(0, 1, (n, 3)) for n in lengths],
        [rng.integers(0, 3, n) for n in lengths],
        ["a", "b", "c"], True, [f"m{i}" for i in range(len(lengths))], ["x1", "x2", "x3"],
        "made up for this test"), 12


BATCHES = {"tutorial": tutorial_batch, "three_features": three_feature_batch}


class PackedModel(torch.nn.Module):
    """`sequence_models.build_model(name, ...)` in torch.nn, reading a list of unpadded
    sequences: the LSTM (both directions for bilstm_con), then the same Linear + softmax on each
    output it keeps."""

    def __init__(self, name, n_features, n_classes, units=UNITS):
        super().__init__()
        self.name = name
        self.lstm = torch.nn.LSTM(n_features, units, batch_first=True,
                                  bidirectional=name == "bilstm_con")
        self.dense = torch.nn.Linear(pytorch_port.dense_inputs(name, units), n_classes)

    def lstm_outputs(self, sequences):
        """The LSTM's outputs on each sequence's real steps, in time order: a list of (length,
        directions x units) tensors, and the LSTM's final hidden state h_n."""
        if self.name == "lstm_back":
            # go_backwards reads a sequence from its last real step: a forward LSTM reads each
            # sequence's real steps reversed, and its outputs are flipped back to time order.
            sequences = [sequence.flip(0) for sequence in sequences]
        lengths = torch.tensor([len(sequence) for sequence in sequences])
        # PyTorch's own padding (zeros), which packing leaves unread: the LSTM steps through each
        # sequence's real steps only, as Keras's mask makes it.
        packed = pack_padded_sequence(pad_sequence(sequences, batch_first=True), lengths,
                                      batch_first=True, enforce_sorted=False)
        outputs, (h_n, _) = self.lstm(packed)
        outputs, unpacked_lengths = pad_packed_sequence(outputs, batch_first=True)
        assert unpacked_lengths.tolist() == lengths.tolist()  # back in the order given
        outputs = [outputs[i, :n] for i, n in enumerate(lengths)]
        if self.name == "lstm_back":
            outputs = [output.flip(0) for output in outputs]
        return outputs, h_n

    def forward(self, sequences, per_step):
        """P(class) per real step (a list of (length, n_classes) arrays) or per sequence (an
        (n, n_classes) array)."""
        with torch.no_grad():
            outputs, _ = self.lstm_outputs(sequences)
            if per_step:
                return [torch.softmax(self.dense(output), -1).numpy() for output in outputs]
            units = self.lstm.hidden_size
            # Keras returns the state a direction ends on: the forward one's after the last real
            # step, the backward one's after the first.
            ends = {"lstm_forw": lambda output: output[-1],
                    "lstm_back": lambda output: output[0],
                    "bilstm_con": lambda output: torch.cat([output[-1, :units], output[0, units:]])}
            final = torch.stack([ends[self.name](output) for output in outputs])
            return torch.softmax(self.dense(final), -1).numpy()


def torch_model(name, keras_model, n_features, n_classes):
    model = PackedModel(name, n_features, n_classes)
    model.load_state_dict({key: torch.from_numpy(value) for key, value in
                           pytorch_port.torch_state(name, keras_model.get_weights()).items()})
    return model


def random_weights(keras_model, seed):
    """Every entry random, biases included (the initial ones are zeros and ones)."""
    rng = np.random.default_rng(seed)
    return [rng.normal(0, 0.5, w.shape).astype(np.float32) for w in keras_model.get_weights()]


def real_steps(batch, lengths, padding):
    """The rows of a padded (n, n_timesteps, ...) batch that hold each sequence's real steps."""
    n_timesteps = batch.shape[1]
    return [row[:n] if padding == "post" else row[n_timesteps - n:]
            for row, n in zip(batch, lengths)]


@pytest.mark.parametrize("batch_name", list(BATCHES))
@pytest.mark.parametrize("per_step", [True, False], ids=["per_step", "per_sequence"])
@pytest.mark.parametrize("name", sequence_models.MODELS)
def test_packed_sequences_give_the_keras_masked_probabilities(name, per_step, batch_name):
    sequences, n_timesteps = BATCHES[batch_name]()
    lengths = sequences.lengths
    assert lengths.min() < n_timesteps and len(set(lengths)) > 1  # padding, of several lengths
    assert list(lengths) != sorted(lengths, reverse=True)  # enforce_sorted=False has work to do
    keras_model = sequence_models.build_model(name, n_timesteps, sequences.n_features,
                                              sequences.n_classes, UNITS, per_step=per_step)
    real = [torch.from_numpy(features.astype(np.float32)) for features in sequences.features]
    indices = np.arange(len(lengths))
    for keras_weights in (weights.initial_weights(keras_model, 4), random_weights(keras_model, 5)):
        keras_model.set_weights(keras_weights)
        probabilities = torch_model(name, keras_model, sequences.n_features,
                                    sequences.n_classes)(real, per_step)
        for padding in sequence_data.PADDINGS:
            X, _, _ = sequence_data.padded(sequences, indices, n_timesteps, padding)
            expected = keras.ops.convert_to_numpy(keras_model(X))
            if per_step:
                for i, (got, want) in enumerate(zip(probabilities,
                                                    real_steps(expected, lengths, padding))):
                    np.testing.assert_allclose(got, want, atol=TOLERANCE, rtol=0,
                                               err_msg=f"sequence {i}, {padding}-padded")
            else:
                np.testing.assert_allclose(probabilities, expected, atol=TOLERANCE, rtol=0,
                                           err_msg=f"{padding}-padded")


@pytest.mark.parametrize("name", sequence_models.MODELS)
def test_the_ends_read_per_sequence_are_the_lstms_final_states(name):
    """The outputs kept per sequence (forward: the last real step; backward: the first) are the
    final hidden states PyTorch's LSTM returns for packed sequences, h_n."""
    sequences, _ = three_feature_batch()
    model = PackedModel(name, sequences.n_features, sequences.n_classes)
    real = [torch.from_numpy(features.astype(np.float32)) for features in sequences.features]
    with torch.no_grad():
        outputs, h_n = model.lstm_outputs(real)
    units = UNITS
    for i, output in enumerate(outputs):
        if name == "lstm_back":
            torch.testing.assert_close(output[0], h_n[0, i], rtol=0, atol=0)
        else:
            torch.testing.assert_close(output[-1, :units], h_n[0, i], rtol=0, atol=0)
        if name == "bilstm_con":
            torch.testing.assert_close(output[0, units:], h_n[1, i], rtol=0, atol=0)


def test_without_packing_the_backward_direction_reads_the_padding():
    """What packing is for: the same BiLSTM run on the post-padded batch as it is changes the
    outputs of every shorter sequence (its backward direction starts in the padding) and of no
    full-length one, so the agreement above is not the padding's doing."""
    sequences, n_timesteps = three_feature_batch()
    lengths = sequences.lengths
    model = PackedModel("bilstm_con", sequences.n_features, sequences.n_classes)
    X, _, _ = sequence_data.padded(sequences, np.arange(len(lengths)), n_timesteps, "post")
    with torch.no_grad():
        unpacked, _ = model.lstm(torch.from_numpy(X))
        unpacked = torch.softmax(model.dense(unpacked), -1).numpy()
    packed = model([torch.from_numpy(f.astype(np.float32)) for f in sequences.features], True)
    assert n_timesteps in lengths
    for i, n in enumerate(lengths):
        difference = np.abs(unpacked[i, :n] - packed[i]).max()
        assert (difference > 1e-2) if n < n_timesteps else (difference < TOLERANCE), (i, n)
