"""The tutorial's complete Bidirectional LSTM example, as the tutorial writes it, for the benchmark.

Only what Keras 3 requires has changed: `keras.Input` instead of `input_shape=` on the first
layer, and `model.predict(X) > 0.5` instead of Keras 2's class-predicting method, which Keras 3
removed. bench/bench.py runs this file as its own process and times it from start to end, as
a reader running the tutorial would.

    python -m bench.tutorial_bilstm
"""

import sys

# The tutorial's script takes no flags: --help prints the page above, any other flag is refused.
if sys.argv[1:] in (["-h"], ["--help"]):
    print(__doc__.strip())
    raise SystemExit(0)
if sys.argv[1:]:
    sys.stderr.write(f"error: the tutorial's script takes no flags, got: {' '.join(sys.argv[1:])}"
                     "\n")
    raise SystemExit(2)

# The tutorial's own imports.
from random import random

from keras.layers import LSTM, Bidirectional, Dense, Input, TimeDistributed
from keras.models import Sequential
from numpy import array, cumsum


# create a sequence classification instance
def get_sequence(n_timesteps):
    # create a sequence of random numbers in [0,1]
    X = array([random() for _ in range(n_timesteps)])
    # calculate cut-off value to change class values
    limit = n_timesteps / 4.0
    # determine the class outcome for each item in cumulative sequence
    y = array([0 if x < limit else 1 for x in cumsum(X)])
    # reshape input and output data to be suitable for LSTMs
    X = X.reshape(1, n_timesteps, 1)
    y = y.reshape(1, n_timesteps, 1)
    return X, y


# define problem properties
n_timesteps = 10
# define LSTM
model = Sequential()
model.add(Input(shape=(n_timesteps, 1)))
model.add(Bidirectional(LSTM(20, return_sequences=True)))
model.add(TimeDistributed(Dense(1, activation="sigmoid")))
model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["acc"])
# train LSTM
for epoch in range(1000):
    # generate new random sequence
    X, y = get_sequence(n_timesteps)
    # fit model for one epoch on this sequence
    model.fit(X, y, epochs=1, batch_size=1, verbose=2)
# evaluate LSTM
X, y = get_sequence(n_timesteps)
yhat = (model.predict(X, verbose=0) > 0.5).astype("int32")
for i in range(n_timesteps):
    print("Expected:", y[0, i], "Predicted", yhat[0, i])
