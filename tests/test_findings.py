"""The front page's findings, recomputed: every number of README.md's "Findings at a glance".

Each row of the table quotes numbers from the committed CSVs in results/ that the page it links to
names. The tests read the table from README.md when they run, take every number a row prints (in
its question, answer and number cells, in the order they appear) and compare that list with the
same numbers computed here from the CSVs with pandas and formatted as the README prints them
(`+0.049`, `−0.005` with the minus sign U+2212, `62,000`, `99.4%`, `455.3x`). A number that comes
from no file, a number rounded differently, a new row, and a changed CSV all fail.

The few numbers that a command measures and no results file keeps are listed in MEASURED, each
with the command that prints it and the page that quotes its output. No Keras here: these tests
read text and CSV files only.
"""

import math
import re
from functools import cache
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import pytest

REPOSITORY = Path(__file__).resolve().parent.parent
README = REPOSITORY / "README.md"
RESULTS = REPOSITORY / "results"
MINUS = "\N{MINUS SIGN}"  # the README writes negative numbers with it, as a typesetter would

# A number as the README prints it: a sign (+, U+2212, or a hyphen not inside a word), digits with
# thousands commas, decimals, an exponent, and a % or an x (a speed-up) right after it.
NUMBER = re.compile(r"(?<![\w.])[+\u2212-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:e-\d+)?"
                    r"(?:%|x\b)?")
CELLS_WITH_NUMBERS = ("question", "answer", "number")


class Measured(NamedTuple):
    what: str
    command: str  # the command that prints it
    page: str  # the page that quotes that command's output
    printed: str  # the number as the page quotes it


# Numbers measured by a command whose output no committed results file keeps.
MEASURED = {
    "1.2e-5": Measured(
        "largest difference of the plain PyTorch port from the committed Keras losses",
        ".venv/bin/python -m pytorch.bilstm_pytorch --check-committed",
        "docs/pytorch.md", "largest difference 1.2e-05"),
    "2.1e-2": Measured(
        "the same, with Adam's epsilon added where PyTorch adds it",
        ".venv/bin/python -m pytorch.bilstm_pytorch --check-committed"
        " --unlike-keras adam-epsilon",
        "docs/pytorch.md", "largest difference 2.1e-02"),
    "9.5e-7": Measured(
        "largest difference of the four sections rerun on JAX from the committed losses",
        "KERAS_BACKEND=jax .venv/bin/python -m pytest -s -m backend tests/test_backends.py",
        "docs/how_it_works.md", "9.5e-7 on JAX"),
}
# The per-epoch loss files of the four tutorial sections, which the backend and PyTorch tests
# check loss by loss.
SECTION_LOSSES = ["lstm_baseline.csv", "bilstm_classify.csv", "compare_directions.csv",
                  "compare_merge_modes.csv"]


# Reading the table.

def findings(readme_text):
    """{question: {column: cell}} of the "Findings at a glance" table of the README's text."""
    section = readme_text.split("## Findings at a glance", 1)[1].split("\n## ", 1)[0]
    lines = [line.strip() for line in section.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = [dict(zip(header, (cell.strip() for cell in line.strip("|").split("|"))))
            for line in lines[2:]]
    return {row["question"]: row for row in rows}


def quoted_numbers(row):
    """Every number of a row's question, answer and number cells, as printed, in order."""
    return [number for column in CELLS_WITH_NUMBERS for number in NUMBER.findall(row[column])]


# Formatting as the README does.

def signed(value):
    """A difference or an interval end: '+0.049', '−0.005'."""
    return f"{value:+.3f}".replace("-", MINUS)


def paired(row):
    """A comparison row's difference and its 95% interval, as the README prints them."""
    return [signed(row["difference"]), signed(row["ci_low"]), signed(row["ci_high"])]


def percent(share, decimals=0):
    return f"{share * 100:.{decimals}f}%"


def scientific(value, digits):
    """'2e-6', '1.2e-5': Python's exponent without its leading zero."""
    mantissa, exponent = f"{value:.{digits}e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def measured(number):
    assert number in MEASURED, f"{number} is neither computed nor listed in MEASURED"
    return number


# The committed files.

@cache
def results(name):
    return pd.read_csv(RESULTS / name)


def only(table, **columns):
    """The one row of `table` with these column values."""
    mask = pd.Series(True, index=table.index)
    for column, value in columns.items():
        mask &= table[column] == value
    assert mask.sum() == 1, f"{mask.sum()} rows with {columns}"
    return table[mask].iloc[0]


def mean_by_model(name, column, **columns):
    """{model: mean of `column` over seeds} of a per-seed summary."""
    table = results(name)
    for key, value in columns.items():
        table = table[table[key] == value]
    return table.groupby("model")[column].mean()


def atlas_count(claim, measure, verdict):
    """How many settings of the claims atlas give `claim` on `measure` this verdict, and how
    many settings there are."""
    atlas = results("claims_atlas.csv")
    rows = atlas[(atlas["claim"] == claim) & (atlas["measure"] == measure)]
    settings = atlas[["timesteps", "units", "epochs"]].drop_duplicates()
    assert len(rows) == len(settings)
    return [str((rows["verdict"] == verdict).sum()), str(len(settings))]


def committed_losses():
    """'62,000': the per-epoch losses of the four sections' committed runs."""
    return f"{sum(results(name)['loss'].notna().sum() for name in SECTION_LOSSES):,}"


def book_target():
    """The book's printed evaluation accuracy, 100%, from results/originals.csv."""
    return only(results("originals.csv"), source="book", quantity="evaluate accuracy")["printed"]


# One function per row: the row's numbers, computed, in the order the row prints them.

EXPECTED = {}


def finding(question):
    def register(compute):
        EXPECTED[question] = compute
        return compute
    return register


@finding("Does the BiLSTM learn faster than the forward LSTM?")
def learns_faster():
    """compare_directions_summary.csv: the BiLSTM's epochs until its rolling-mean loss is below
    the reference, mean ± standard deviation over seeds; the forward LSTM never got there
    within the run's epochs (compare_directions.csv), which the summary counts as epochs + 1."""
    summary = results("compare_directions_summary.csv")
    epochs = results("compare_directions.csv")["epoch"].max()
    bilstm = summary.loc[summary["model"] == "bilstm_con", "epochs_to_reference"]
    forward = summary.loc[summary["model"] == "lstm_forw", "epochs_to_reference"]
    assert (forward > epochs).all(), "a forward LSTM run got below the reference"
    return [f"{bilstm.mean():.0f}", f"{bilstm.std():.0f}", str(epochs)]


@finding("Does it label held-out steps better?")
def labels_better():
    """compare_directions_heldout.csv, mean step accuracy over seeds at each checkpoint: both
    models at the checkpoint where the BiLSTM leads most; then the first checkpoint from which
    the gap stays below 0.005 either way, and the largest gap from there on, rounded up to the
    third decimal."""
    heldout = results("compare_directions_heldout.csv")
    curves = heldout.groupby(["model", "epoch"])["step_accuracy"].mean().unstack("model")
    gap = curves["bilstm_con"] - curves["lstm_forw"]
    peak = gap.idxmax()
    wide = gap[gap.abs() >= 0.005]
    close_from = gap.index[gap.index > wide.index.max()].min()
    bound = math.ceil(gap.loc[close_from:].abs().max() * 1000) / 1000
    return [f"{curves.loc[peak, 'bilstm_con']:.2f}", f"{curves.loc[peak, 'lstm_forw']:.2f}",
            str(peak), f"{bound:.3f}", str(close_from)]


@finding("Is the backward LSTM as good as the forward one?")
def backward_as_good():
    """compare_directions_comparison.csv: final_loss of each backward LSTM minus the forward's."""
    table = results("compare_directions_comparison.csv")
    return [*paired(only(table, pair="lstm_back - lstm_forw", measure="final_loss")),
            *paired(only(table, pair="lstm_back_aligned - lstm_forw", measure="final_loss"))]


@finding("Does the BiLSTM add more than reversing the input?")
def more_than_reversing():
    """compare_directions_comparison.csv: step accuracy of the BiLSTM minus the aligned backward
    LSTM; claims_atlas.csv: the settings where claim 3 is supported on step accuracy."""
    table = results("compare_directions_comparison.csv")
    row = only(table, pair="bilstm_con - lstm_back_aligned", measure="step_accuracy")
    return [*paired(row), *atlas_count("3: BiLSTM better than backward aligned",
                                       "step_accuracy", "supported")]


@finding("Which merge mode?")
def merge_mode():
    """compare_merge_modes_summary.csv: each merge mode's final loss, mean over seeds."""
    final_loss = mean_by_model("compare_merge_modes_summary.csv", "final_loss")
    return [f"{final_loss[model]:.3f}"
            for model in ("bilstm_sum", "bilstm_con", "bilstm_ave", "bilstm_mul")]


@finding("Do two stacked BiLSTMs beat one? Do two heads (merge_mode=None) beat one?")
def stacked_and_unmerged():
    """stacked_and_unmerged_summary.csv: held-out step accuracy after the last epoch, mean over
    seeds; pos_tagging_depth_summary.csv: the tagger's test accuracy, mean over seeds."""
    step = mean_by_model("stacked_and_unmerged_summary.csv", "step_accuracy")
    tagger = mean_by_model("pos_tagging_depth_summary.csv", "test_accuracy")
    return [f"{step[model]:.3f}" for model in ("bilstm_con_stacked", "bilstm_con_wide",
                                                "bilstm_con", "bilstm_none_ave")] + [
        f"{tagger[model]:.3f}" for model in ("bilstm_con_stacked", "bilstm_con")]


@finding("Do the claims hold outside the tutorial's setting?")
def outside_the_setting():
    """claims_atlas.csv: the settings where the aligned backward LSTM is similar to the forward
    LSTM in training loss (claim 2, aligned)."""
    return atlas_count("2: backward aligned similar to forward", "final_loss", "supported")


@finding("Is the book's 100% reproducible?")
def book_reproducible():
    """originals.csv: the book's printed 100%; bilstm_book_evaluation.csv: the lowest and the
    highest step accuracy of the seeds on the book's 100 sequences; smallest_model.csv: the
    most seeds of one configuration at 100% at any one budget."""
    evaluation = results("bilstm_book_evaluation.csv")["accuracy"]
    checkpoints = results("smallest_model.csv")
    perfect = ((checkpoints["book_accuracy"] == 1.0)
               .groupby([checkpoints[c] for c in ("units", "batch_size", "sequences")]).sum())
    seeds = checkpoints["seed"].nunique()
    return [percent(book_target()), percent(evaluation.min(), 1), percent(evaluation.max(), 1),
            str(len(evaluation)), str(perfect.max()), str(seeds), percent(book_target())]


@finding("What is the smallest model that gets there?")
def smallest_model():
    """smallest_model_summary.csv: no configuration passes the 100% target; of those that pass
    the other target, the one with the fewest weights, with its seeds and sequences."""
    summary = results("smallest_model_summary.csv")
    passed = summary[summary["sequences"].notna()]
    assert not (passed["target"] == book_target()).any(), "a configuration passes 100%"
    smallest = passed.sort_values(["params", "sequences"]).iloc[0]
    counts = [f"{smallest[column]:,.0f}"
              for column in ("units", "params", "seeds_reaching", "seeds", "sequences")]
    return [percent(book_target()), percent(smallest["target"]), *counts]


@finding("Did the originals' printed numbers come from typical runs?")
def originals():
    """originals.csv: the book's printed evaluation (100% of the steps, so every one of its
    sequences right; bilstm_book_evaluation.csv counts them) and its probability."""
    evaluate = only(results("originals.csv"), source="book", quantity="evaluate accuracy")
    sequences = results("bilstm_book_evaluation.csv")["sequences"].unique()
    assert len(sequences) == 1
    return [f"{evaluate['printed'] * sequences[0]:.0f}", str(sequences[0]),
            f"{evaluate['probability']:.2g}"]


@finding("What do the LSTMs keep count of?")
def inside_the_model():
    """inside_the_model.csv: R-squared of the read-out of each direction's own sum beyond the
    position from its cell state, mean over seeds: the forward LSTM's running sum, the aligned
    backward LSTM's remaining sum."""
    r2 = results("inside_the_model.csv").groupby(["model", "state", "target"])["r2"].mean()
    return [f"{r2['lstm_forw', 'c', 'running_sum_beyond_position']:.3f}",
            f"{r2['lstm_back_aligned', 'c', 'remaining_sum_beyond_position']:.3f}"]


@finding("How much faster than the tutorial's loop?")
def speed():
    """benchmark.csv: speed-up of the compiled path in steady state on TensorFlow, and of JAX's
    vmapped seeds with as many seeds as the comparisons run (compare_directions_summary.csv)."""
    benchmark = results("benchmark.csv")
    seeds = results("compare_directions_summary.csv")["seed"].nunique()
    tensorflow = only(benchmark, backend="tensorflow", path="suite: compiled loop, steady state")
    jax = only(benchmark, backend="jax", path="suite: vmapped seeds, steady state", seeds=seeds)
    return [f"{tensorflow['speedup_vs_tutorial']:,.1f}x",
            f"{jax['speedup_vs_tutorial']:,.1f}x", str(seeds)]


@finding("Does the BiLSTM beat the forward LSTM on movie-review sentiment?")
def sentiment():
    """text_classify_summary.csv: test accuracy after the last epoch, mean over seeds;
    text_classify_comparison.csv: BiLSTM minus forward LSTM."""
    accuracy = mean_by_model("text_classify_summary.csv", "test_accuracy",
                             stopped_at="last_epoch")
    difference = only(results("text_classify_comparison.csv"), stopped_at="last_epoch",
                      pair="bilstm_con - lstm_forw", measure="test_accuracy")
    return [f"{accuracy['bilstm_con']:.3f}", f"{accuracy['lstm_forw']:.3f}",
            *paired(difference), f"{accuracy['bow_logreg']:.3f}"]


@finding("Can the BiLSTM label a stream, step by step?")
def streams():
    """streaming_accuracy.csv: step accuracy over the ten steps, mean over seeds, streamed and
    whole."""
    accuracy = mean_by_model("streaming_accuracy.csv", "step_accuracy")
    return [f"{accuracy['bilstm_con_streamed']:.3f}", f"{accuracy['bilstm_con']:.3f}",
            f"{accuracy['lstm_forw']:.3f}"]


@finding("Does a BiLSTM forecast airline passengers better than a forward LSTM?")
def forecasting():
    """forecasting_summary.csv: test RMSE, mean over seeds (the references' one value);
    forecasting_comparison.csv: BiLSTM minus forward LSTM, paired over seeds."""
    rmse = mean_by_model("forecasting_summary.csv", "test_rmse")
    difference = only(results("forecasting_comparison.csv"), pair="bilstm_con - lstm_forw",
                      measure="test_rmse", resampled="seeds")
    return [f"{rmse['bilstm_con']:.1f}", f"{rmse['lstm_forw']:.1f}",
            *[f"{difference[key]:+.1f}".replace("-", MINUS)
              for key in ("difference", "ci_low", "ci_high")],
            f"{rmse['seasonal_naive']:.1f}"]


@finding("Does the BiLSTM beat the forward LSTM on Japanese Vowels?")
def japanese_vowels():
    """sequences_japanese_vowels_summary.csv: test accuracy, mean over seeds;
    sequences_japanese_vowels_comparison.csv: BiLSTM minus forward LSTM."""
    accuracy = mean_by_model("sequences_japanese_vowels_summary.csv", "test_accuracy")
    difference = only(results("sequences_japanese_vowels_comparison.csv"),
                      pair="bilstm_con - lstm_forw", measure="test_accuracy")
    return ["1", f"{accuracy['bilstm_con']:.3f}", f"{accuracy['lstm_forw']:.3f}",
            *paired(difference), "1", f"{accuracy['dtw_1nn']:.3f}",
            f"{accuracy['minirocket']:.3f}"]


@finding("Does the BiLSTM suit part-of-speech tagging?")
def tagging():
    """pos_tagging_summary.csv: test accuracy, mean over seeds; pos_tagging_comparison.csv: the
    BiLSTM minus the forward LSTM on words unseen in training."""
    accuracy = mean_by_model("pos_tagging_summary.csv", "test_accuracy")
    unseen = only(results("pos_tagging_comparison.csv"), pair="bilstm_con - lstm_forw",
                  measure="unseen_accuracy")
    return [f"{accuracy[model]:.3f}"
            for model in ("bilstm_con", "lstm_forw", "lstm_back_aligned", "most_frequent_tag")
            ] + [signed(unseen["difference"])]


@finding("Is a plain PyTorch port the same model?")
def pytorch_port():
    """The four sections' committed losses; the port's largest differences from them (MEASURED);
    text_classify_pytorch_comparison.csv: the port's BiLSTM minus Keras's in test accuracy."""
    difference = only(results("text_classify_pytorch_comparison.csv"), stopped_at="last_epoch",
                      pair="bilstm_con/pytorch - bilstm_con/keras", measure="test_accuracy")
    return [committed_losses(), measured("1.2e-5"), measured("2.1e-2"), *paired(difference)]


@finding("Does a seed give the same numbers on every backend?")
def backends():
    """The four sections' committed losses; the largest difference on JAX (MEASURED); and the
    tolerance tests/test_backends.py checks them with."""
    source = (REPOSITORY / "tests" / "test_backends.py").read_text()
    tolerance = float(re.search(r"^TOLERANCE = (\S+)", source, re.MULTILINE).group(1))
    return [committed_losses(), measured("9.5e-7"), scientific(tolerance, 0)]


# The tests.

def check_row(row):
    """Fails unless the row prints exactly the numbers computed for it, in the same order."""
    computed = EXPECTED[row["question"]]()
    assert quoted_numbers(row) == computed, (
        f"README.md, row {row['question']!r}: prints {quoted_numbers(row)}, "
        f"the committed files give {computed}")


def test_every_row_of_the_table_is_checked():
    assert list(findings(README.read_text())) == list(EXPECTED)


@pytest.mark.parametrize("question", list(EXPECTED), ids=list(EXPECTED))
def test_row_numbers_are_the_committed_results(question):
    rows = findings(README.read_text())
    assert question in rows, f"no row {question!r} in the README's findings"
    check_row(rows[question])


@pytest.mark.parametrize("number", list(MEASURED))
def test_measured_numbers_are_quoted_from_their_command_on_their_page(number):
    entry = MEASURED[number]
    assert entry.printed in (REPOSITORY / entry.page).read_text(), (
        f"{entry.page} does not quote {entry.printed!r}, the output of `{entry.command}`")


@pytest.mark.parametrize("altered", [
    ("final loss 0.201, 0.208", "final loss 0.202, 0.208"),  # a number changed
    ("0.201, 0.208, 0.223, 0.362", "0.201, 0.208, 0.223, 0.362, 0.4"),  # a number from nowhere
    ("0.201, 0.208", "0.208, 0.201"),  # two numbers swapped between models
    ("+0.004 [\u22120.005", "+0.004 [-0.005"),  # a hyphen for the minus sign
])
def test_a_row_with_an_altered_number_fails(altered):
    original, changed = altered
    text = README.read_text()
    assert original in text
    rows = findings(text.replace(original, changed, 1))
    question = next(question for question, row in rows.items() if changed in row["number"])
    with pytest.raises(AssertionError, match="README.md, row"):
        check_row(rows[question])


def test_numbers_are_read_as_printed():
    assert NUMBER.findall("R-squared 0.992; 2,902.6x with 30; +0.004 [\u22120.005, +0.013]; "
                          "99.1% to 99.4%; within 9.5e-7 (tested within 2e-6)") == [
        "0.992", "2,902.6x", "30", "+0.004", "\u22120.005", "+0.013", "99.1%", "99.4%",
        "9.5e-7", "2e-6"]
