# Two commands set everything up: `make demo` and `make test`. Both create .venv when needed.
#
# Every run target writes under OUT, by default runs/ (git-ignored), so trying things never
# touches the committed files. OUT=. rewrites the committed plots/ and results/ instead:
# `make demo OUT=.`, or `make reproduce` for every committed file.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
OUT ?= runs

.PHONY: demo curves book experiments atlas originals inside streaming forecasting stacked text sequences pytorch bench reproduce test \
	test-slow test-torch clean

$(INSTALLED): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(INSTALLED)

# The four tutorial sections with their defaults, in one process (python lstm_baseline.py, then
# bilstm_classify.py, compare_directions.py, compare_merge_modes.py), on TensorFlow. The scripts
# of the topic folders run from the repository root as modules: python -m book.bilstm_book.
demo: $(INSTALLED)
	$(BIN)/python demo.py --output-dir $(OUT)

# The two comparisons again, with held-out learning curves (scored every 10 epochs).
curves: $(INSTALLED)
	$(BIN)/python compare_directions.py --heldout-every 10 --output-dir $(OUT)
	$(BIN)/python compare_merge_modes.py --heldout-every 10 --output-dir $(OUT)

# book/: the book chapter's run and its exercises, on JAX.
book: $(INSTALLED)
	KERAS_BACKEND=jax $(BIN)/python -m book.bilstm_book --repeats 5 --output-dir $(OUT)
	KERAS_BACKEND=jax $(BIN)/python -m book.sweep_sequence_length --output-dir $(OUT)
	KERAS_BACKEND=jax $(BIN)/python -m book.smallest_model --output-dir $(OUT)

# experiments/: the three experiments beyond the tutorial.
experiments: atlas originals inside streaming forecasting stacked

# Every claim re-tested over sequence length, LSTM size and training length, on JAX.
atlas: $(INSTALLED)
	KERAS_BACKEND=jax $(BIN)/python -m experiments.claims_atlas --output-dir $(OUT)

# The originals' printed numbers among 30 seeds, on TensorFlow.
originals: $(INSTALLED)
	$(BIN)/python -m experiments.originals --output-dir $(OUT)

# Labelling a stream: the tutorial's LSTM and BiLSTM given the whole sequence or the steps so
# far, on JAX.
streaming: $(INSTALLED)
	KERAS_BACKEND=jax $(BIN)/python -m experiments.streaming --output-dir $(OUT)

# Forecasting the airline passengers (sktime's copy), on JAX: the log of the counts, then the
# counts themselves.
forecasting: $(INSTALLED)
	KERAS_BACKEND=jax $(BIN)/python -m experiments.forecasting --output-dir $(OUT)
	KERAS_BACKEND=jax $(BIN)/python -m experiments.forecasting --no-log --output-dir $(OUT)

# Two BiLSTMs stacked, one BiLSTM with as many weights, and a head on each direction
# (merge_mode=None), on JAX: on the tutorial's problem, then in the part-of-speech tagger (its
# corpora fetched on first use, as for make text).
stacked: $(INSTALLED)
	KERAS_BACKEND=jax $(BIN)/python -m experiments.stacked_and_unmerged --output-dir $(OUT)
	KERAS_BACKEND=jax $(BIN)/python -m text.pos_tagging --name pos_tagging_depth \
		--model lstm_forw bilstm_con bilstm_con_stacked bilstm_con_wide bilstm_none --output-dir $(OUT)

# What the forward and backward LSTMs keep count of, on TensorFlow.
inside: $(INSTALLED)
	$(BIN)/python -m experiments.inside_the_model --output-dir $(OUT)

# text/: real text, on JAX: the text tutorial's sentiment classifier (30 seeds) and the
# part-of-speech tagger (6 seeds) on the Pattern corpora, which the first run fetches from
# Debian's package python3-pattern into .cache/corpora (never committed: their terms forbid it).
text: $(INSTALLED)
	KERAS_BACKEND=jax $(BIN)/python -m text.text_classify --output-dir $(OUT)
	KERAS_BACKEND=jax $(BIN)/python -m text.pos_tagging --output-dir $(OUT)

# sequences/: your own sequences, on JAX: Japanese Vowels (from sktime's bundled copy, 30 seeds
# of each model against 1-NN DTW and MiniRocket), the same with MathWorks' example settings, and
# the tutorial's problem with lengths drawn from 5 to 10, post- and pre-padded. MathWorks' settings
# (100 units) train 10 seeds: 30 would take half an hour on 2 cores.
sequences: $(INSTALLED)
	KERAS_BACKEND=jax $(BIN)/python -m sequences.classify_sequences --dataset japanese_vowels --output-dir $(OUT)
	KERAS_BACKEND=jax $(BIN)/python -m sequences.classify_sequences --dataset japanese_vowels --settings mathworks --repeats 10 --output-dir $(OUT)
	KERAS_BACKEND=jax $(BIN)/python -m sequences.classify_sequences --min-length 5 --output-dir $(OUT)
	KERAS_BACKEND=jax $(BIN)/python -m sequences.classify_sequences --min-length 5 --padding pre --output-dir $(OUT)

# pytorch/: the plain PyTorch ports, with the pinned CPU build of PyTorch: every committed Keras
# loss of the four sections retrained in torch.nn and compared, then the sentiment classifier in
# torch.nn (30 seeds) against the committed Keras run.
pytorch: $(INSTALLED)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pytorch.bilstm_pytorch --check-committed --output-dir $(OUT)
	$(BIN)/python -m pytorch.text_classify_pytorch --output-dir $(OUT)

# bench/: the tutorial's loop against the suite's training paths; writes results/benchmark*.csv.
bench: $(INSTALLED)
	$(BIN)/python -m bench.bench --output-dir $(OUT)

# Every committed file in plots/ and results/, rewritten in place.
reproduce:
	$(MAKE) demo curves book experiments text sequences pytorch bench OUT=.

# The suite on TensorFlow but for the slow tests (whole runs, marked slow), then the
# backend-sensitive tests again on JAX, reproductions of the committed runs included; each test
# file runs whole in one of two worker processes (its module fixtures are built once). The plain
# PyTorch ports' tests belong to test-torch.
PYTEST := $(BIN)/python -m pytest -q -n 2 --dist loadfile
PORT_TESTS := tests/test_pytorch.py tests/test_text_pytorch.py tests/test_sequences_pytorch.py \
	tests/test_states_pytorch.py
NOT_PORTS := $(addprefix --ignore=,$(PORT_TESTS))
test: $(INSTALLED)
	$(PYTEST) -m "not slow" $(NOT_PORTS)
	KERAS_BACKEND=jax $(PYTEST) -m backend $(NOT_PORTS)

# ONNX export for serving (tests/test_export.py, docs/sequences.md#export-for-serving): not in
# requirements.txt, installed by test-slow; they change no pinned version.
EXPORT_PACKAGES := tf2onnx==1.17.0 onnx==1.23.2 onnxruntime==1.32.0

# The slow tests on TensorFlow: the committed files of the four sections rerun, the demo against
# the sections one by one, a start where TensorFlow's oneDNN log is on, held-out curves against
# runs stopped at each checkpoint, the end-to-end runs of the book's exercises, the atlas and the
# originals, an interrupted atlas resumed, the exports for serving. CI runs it.
test-slow: $(INSTALLED)
	$(BIN)/python -m pip install --quiet $(EXPORT_PACKAGES)
	$(PYTEST) -m slow $(NOT_PORTS)

# With the pinned CPU build of PyTorch: the plain PyTorch ports against Keras (tests/test_pytorch.py
# and tests/test_text_pytorch.py), then the backend-sensitive tests on Keras's PyTorch backend.
test-torch: $(INSTALLED)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(PYTEST) $(PORT_TESTS)
	KERAS_BACKEND=torch $(PYTEST) -m backend $(NOT_PORTS)

clean:
	rm -rf $(VENV) .cache .pytest_cache
	find . -name __pycache__ -prune -exec rm -rf {} +
