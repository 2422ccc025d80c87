# Two commands set everything up: `make demo` and `make test`. Both create .venv when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: demo book test test-torch bench clean

$(INSTALLED): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(INSTALLED)

# The four tutorial sections with their defaults, in one process (python lstm_baseline.py, then
# bilstm_classify.py, compare_directions.py, compare_merge_modes.py); plots/ and results/.
demo: $(INSTALLED)
	$(BIN)/python -m suite.demo

# The book chapter's run and its exercises, on JAX (about 7 minutes on a 2-core CPU).
book: $(INSTALLED)
	KERAS_BACKEND=jax $(BIN)/python bilstm_book.py --repeats 5
	KERAS_BACKEND=jax $(BIN)/python sweep_sequence_length.py
	KERAS_BACKEND=jax $(BIN)/python smallest_model.py
	@echo "Plots: $(CURDIR)/plots/  Results: $(CURDIR)/results/"

# The whole suite on TensorFlow, then the backend-sensitive tests again on JAX.
test: $(INSTALLED)
	$(BIN)/python -m pytest -q
	KERAS_BACKEND=jax $(BIN)/python -m pytest -q -m backend

# The backend-sensitive tests on PyTorch (CPU build).
test-torch: $(INSTALLED)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	KERAS_BACKEND=torch $(BIN)/python -m pytest -q -m backend

# Tutorial loop against the suite's training paths; writes results/benchmark.csv.
bench: $(INSTALLED)
	$(BIN)/python bench.py

clean:
	rm -rf $(VENV) .cache .pytest_cache __pycache__ suite/__pycache__ tests/__pycache__
