"""Labelling a stream (experiments/streaming.py): the forward LSTM's label at step t depends on
steps 1..t alone, the BiLSTM's on later steps too; streamed labels are the prefix model's."""

import numpy as np
import pytest

import bilstm_classify
import lstm_baseline
from experiments import streaming


def _outputs(model, X):
    return np.asarray(model.predict_on_batch(X))[..., 0]


def test_the_forward_label_at_t_never_depends_on_later_steps_and_the_bilstms_does():
    X = np.random.default_rng(0).random((4, 10, 1)).astype("float32")
    changed = X.copy()
    changed[:, 5:] = 1.0 - changed[:, 5:]  # every value after step 5 (t = 4) changes
    forward = lstm_baseline.build_model(10, 5)
    bidirectional = bilstm_classify.build_model(10, 5, "concat")
    np.testing.assert_allclose(_outputs(forward, X)[:, :5], _outputs(forward, changed)[:, :5],
                               atol=1e-7)
    assert not np.allclose(_outputs(bidirectional, X)[:, :5],
                           _outputs(bidirectional, changed)[:, :5], atol=1e-4)


def test_streamed_labels_are_the_whole_sequences_for_the_forward_lstm_only():
    """streamed_probabilities gives the forward LSTM's own per-step outputs, and for the BiLSTM
    the output at t of the model given the first t steps (here: at t = 3, by hand)."""
    X = np.random.default_rng(1).random((3, 5, 1)).astype("float32")
    for name, build in streaming.get_models(5, 4).items():
        model = build()
        prefixes = [streaming.get_models(t, 4)[name]() for t in range(1, 6)]
        for prefix in prefixes:
            prefix.set_weights(model.get_weights())
        streamed = streaming.streamed_probabilities(prefixes, X)
        if name == "lstm_forw":
            np.testing.assert_allclose(streamed, _outputs(model, X), atol=1e-6)
        else:
            assert not np.allclose(streamed, _outputs(model, X), atol=1e-4)
            np.testing.assert_allclose(streamed[:, 3], _outputs(prefixes[3], X[:, :4])[:, 3],
                                       atol=1e-6)
            np.testing.assert_allclose(streamed[:, -1], _outputs(model, X)[:, -1], atol=1e-6)


@pytest.mark.slow
def test_a_small_run_writes_the_tables_by_position(tmp_path):
    streaming.main(["--repeats", "2", "--epochs", "20", "--eval-sequences", "50", "--quiet",
                    "--output-dir", str(tmp_path)])
    import pandas as pd

    by_position = pd.read_csv(tmp_path / "results" / "streaming_by_position.csv")
    assert set(by_position["view"]) == {"whole", "streamed"}
    assert sorted(by_position["step"].unique()) == list(range(1, 11))
    assert (tmp_path / "plots" / "streaming_by_position.png").is_file()
