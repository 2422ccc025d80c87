"""The book chapter's own numbers and its way of scoring a model, for the scripts that rerun it.

Chapter 10 of Long Short-Term Memory Networks with Python evaluates its trained BiLSTM with
`model.evaluate` on 100 fresh sequences and prints its predictions for 10 more.
`book/bilstm_book.py` does the same, and `experiments/originals.py` places the book's printed
numbers among many seeds.
"""

import numpy as np

from cumsum_data import get_sequences
from suite import environment

BOOK_EVALUATION = 100  # sequences the book evaluates on
BOOK_PREDICTIONS = 10  # sequences whose predictions it prints


def book_sequences(seed, n_sequences, n_timesteps):
    """The book's fresh evaluation and prediction sequences for one seed.

    A third stream of the seed: independent of the training and held-out sequences that
    experiment.draw_sequences takes from the first two.
    """
    stream = np.random.SeedSequence(seed).spawn(3)[2]
    return get_sequences(n_sequences, n_timesteps, np.random.default_rng(stream))


def evaluate_as_the_book(results, build, n_timesteps):
    """For every seed: (seed, loss, accuracy, y, yhat), as the book scores its model.

    `model.evaluate` on the seed's 100 fresh book sequences gives loss and accuracy; y and the
    0/1 predictions yhat cover those 100 and the 10 further ones whose predictions the book prints.
    """
    from suite import training

    runs, model = results.runs["bilstm_book"], build()
    for r, seed in enumerate(runs.seeds):
        training.load_trained(build, runs, r, model=model)  # one model: Keras traces it once
        X, y = book_sequences(seed, BOOK_EVALUATION + BOOK_PREDICTIONS, n_timesteps)
        # On TensorFlow, Keras feeds evaluate and predict through tf.data, whose runtime logs a
        # harmless version-skew line ("NodeDef mentions attribute use_unbounded_threadpool"):
        # kept off the terminal like the start-up log.
        with environment.native_log_filtered():
            loss, acc = model.evaluate(X[:BOOK_EVALUATION], y[:BOOK_EVALUATION], verbose=0)
            yhat = (model.predict(X, verbose=0) > 0.5).astype("int32")
        yield seed, loss, acc, y, yhat
