"""Real text for the text scripts: sentiment-labelled sentences, part-of-speech-tagged English.

The corpora are the test corpora of Pattern (CLiPS, University of Antwerp), which Debian ships in
its package python3-pattern. Their README says they are for personal use and not under the
package's license, so this repository holds none of their text: `fetch` downloads the package on
first use (`apt-get download python3-pattern`, no root needed where apt's package lists are
present), takes out the files the scripts read, checks each against the checksum recorded here,
and keeps them in a git-ignored cache folder (.cache/corpora, or the folder BILSTM_DATA names).
A machine without apt can pass the downloaded .deb instead (`--corpus-package FILE`).

- polarity: 4,000 movie-review sentences, 2,000 positive and 2,000 negative, a sample of Pang &
  Lee's sentence polarity data v1.0 (CSV rows: label 1 or -1, text). The corpora's README swaps
  the names of this file and polarity-en-pang&lee1.csv (1,500 whole reviews); the checksum and
  the row count here are those of the sentences.
- oanc: 20,000 lines of English from the Open American National Corpus with Penn Treebank tags,
  `word/TAG` separated by spaces (360,524 tokens, 48 tags).
- wsj: 1,001 lines of Wall Street Journal text (Penn Treebank) in the same format.

Every failure (no apt, no package lists, a refused download, a checksum that changed, a cache
folder that cannot be written, a file that is not in the format) is a `CorpusError` whose message
is one line that says what to do; nothing half-written is left in the cache. A script loads its
corpora once its flags are parsed, through `loaded`, which answers such an error as a bad flag is
answered: that line, exit status 2. The readers only need NumPy and the standard library, like
cumsum_data.py.
"""

import csv
import hashlib
import io
import lzma
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from suite import environment
from suite.weights import seed_stream

REPOSITORY = Path(__file__).resolve().parent.parent
CACHE_VARIABLE = "BILSTM_DATA"
DEFAULT_CACHE = REPOSITORY / ".cache" / "corpora"
PACKAGE = "python3-pattern"
PACKAGE_FOLDER = "usr/share/doc/python3-pattern/test/corpora/"
SOURCE = ("the test corpora of Pattern 2.6 (CLiPS), from Debian's package python3-pattern "
          "(2.6+git20180818-4); for personal use, not under the package's license")
# Streams of a seed's SeedSequence, as in cumsum_data and suite/weights.py: 0-2 draw sequences,
# 3 the initial weights; the text scripts split their sentences with stream 4.
SPLIT_STREAM = 4
PAD, UNKNOWN = 0, 1  # token ids kept for padding and for words outside the vocabulary


@dataclass(frozen=True)
class Corpus:
    member: str  # its name inside the package's corpora folder
    sha256: str
    description: str


CORPORA = {
    "polarity": Corpus("polarity-en-pang&lee2.csv",
                       "1b9975e7c33f487bc2187fffdc55213fdbb84bac4f6c1852b5dd40912411f53f",
                       "4,000 movie-review sentences labelled positive or negative "
                       "(Pang & Lee's sentence polarity data v1.0, a sample)"),
    "oanc": Corpus("tagged-en-oanc.txt",
                   "eb89b2d4162eaee366d430e264fc39b9dadbbdb03db8b8addcff84275135c813",
                   "20,000 lines of the Open American National Corpus with Penn Treebank tags"),
    "wsj": Corpus("tagged-en-wsj.txt",
                  "e52269216360d2fe729583744c812ee065d27435779cc559e220a4142174d365",
                  "1,001 lines of the Wall Street Journal (Penn Treebank) with their tags"),
}


class CorpusError(Exception):
    """A corpus that cannot be had; the message is one line that says what to do."""


def loaded(load, output_dir):
    """load(), in a script whose flags are parsed. A corpus that cannot be had (CorpusError) is
    one line naming the problem, exit status 2, as a bad flag is; the output folders the flags'
    check proved, still empty, are removed again, so a refused run leaves nothing behind."""
    try:
        return load()
    except CorpusError as error:
        output_dir = Path(output_dir)
        for folder in (output_dir / "plots", output_dir / "results", output_dir):
            try:
                folder.rmdir()  # only an empty folder goes
            except OSError:
                pass
        sys.stderr.write(f"{environment.program()}: error: {error}\n")
        raise SystemExit(2) from None


def cache_dir():
    """Where fetched corpora are kept: $BILSTM_DATA, or .cache/corpora in the repository."""
    return Path(os.environ.get(CACHE_VARIABLE) or DEFAULT_CACHE)


def sha256_of(data):
    return hashlib.sha256(data).hexdigest()


def fetch(name, package_file=None, folder=None):
    """The path of corpus `name` in the cache, fetched and checked first if it is not there yet.

    package_file: a python3-pattern .deb already on disk, used instead of apt-get download.
    """
    if name not in CORPORA:
        raise CorpusError(f"unknown corpus {name!r}: choose from {', '.join(CORPORA)}")
    folder = Path(folder) if folder is not None else cache_dir()
    path = folder / CORPORA[name].member
    if path.is_file() and sha256_of(path.read_bytes()) == CORPORA[name].sha256:
        return path
    try:
        folder.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".fetch-", dir=folder))
    except OSError as error:
        raise CorpusError(f"cannot write the corpus cache folder {folder}: "
                          f"{error.strerror or error}; set {CACHE_VARIABLE} to a folder you "
                          "can write") from None
    try:
        deb = Path(package_file) if package_file is not None else download_package(work)
        files = corpora_in_package(deb)
        for wanted, corpus in CORPORA.items():  # every corpus at once: one download serves all
            data = files.get(corpus.member)
            if data is None:
                raise CorpusError(f"{deb.name} holds no {corpus.member}: it is not the "
                                  f"{PACKAGE} package these corpora come from")
            if sha256_of(data) != corpus.sha256:
                raise CorpusError(f"{corpus.member} in {deb.name} does not match its recorded "
                                  "checksum (the package changed?): pass the package of "
                                  f"Debian 12, {PACKAGE}_2.6+git20180818-4_all.deb, with "
                                  "--corpus-package")
            staged = work / corpus.member
            staged.write_bytes(data)
            os.replace(staged, folder / corpus.member)  # whole or not at all
    except OSError as error:
        raise CorpusError(f"cannot write the corpus cache folder {folder}: "
                          f"{error.strerror or error}; set {CACHE_VARIABLE} to a folder you "
                          "can write") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return path


def download_package(folder):
    """`apt-get download python3-pattern` into `folder`; the .deb's path."""
    apt = shutil.which("apt-get")
    if apt is None:
        raise CorpusError(f"apt-get is not on this machine: download {PACKAGE}_2.6+git20180818-4"
                          "_all.deb from packages.debian.org and pass it with --corpus-package")
    try:
        done = subprocess.run([apt, "download", PACKAGE], cwd=folder, capture_output=True,
                              text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise CorpusError(f"apt-get download {PACKAGE} did not finish ({error}): try again, or "
                          "pass the package with --corpus-package") from None
    debs = sorted(Path(folder).glob(f"{PACKAGE}_*.deb"))
    if done.returncode == 0 and debs:
        return debs[-1]
    said = [line.strip() for line in done.stderr.splitlines()
            if line.strip() and not line.startswith("W:")]
    if any("Unable to locate package" in line or "has no installation candidate" in line
           for line in said):
        raise CorpusError(f"apt knows no package {PACKAGE}: run 'apt-get update' once (as "
                          "root) so its package lists are present, or pass the package with "
                          "--corpus-package")
    reason = said[-1] if said else f"exit status {done.returncode}"
    raise CorpusError(f"apt-get download {PACKAGE} failed ({reason}): check the network, or "
                      "pass the package with --corpus-package")


def corpora_in_package(deb):
    """{file name: bytes} of the corpora folder inside a .deb (an ar archive holding
    data.tar.xz)."""
    try:
        data = Path(deb).read_bytes()
    except OSError as error:
        raise CorpusError(f"cannot read the package {deb}: {error.strerror or error}") from None
    if not data.startswith(b"!<arch>\n"):
        raise CorpusError(f"{deb} is not a Debian package (.deb)")
    position, tar = 8, None
    while position + 60 <= len(data):
        header = data[position : position + 60]
        member, size = header[:16].decode("ascii", "replace").strip(), int(header[48:58])
        if member.rstrip("/").startswith("data.tar"):
            tar = member.rstrip("/"), data[position + 60 : position + 60 + size]
        position += 60 + size + size % 2
    if tar is None or not tar[0].endswith((".xz", ".gz", ".tar")):
        raise CorpusError(f"{deb} holds no data.tar.xz or data.tar.gz to read the corpora from")
    try:
        payload = lzma.decompress(tar[1]) if tar[0].endswith(".xz") else tar[1]
        files = {}
        with tarfile.open(fileobj=io.BytesIO(payload)) as archive:
            for info in archive:
                name = info.name.lstrip("./")
                if info.isfile() and name.startswith(PACKAGE_FOLDER):
                    files[name[len(PACKAGE_FOLDER):]] = archive.extractfile(info).read()
    except (lzma.LZMAError, tarfile.TarError, EOFError) as error:
        raise CorpusError(f"{deb} is damaged ({error}): download it again") from None
    return files


# Readers ---------------------------------------------------------------------------------------

# What a label,text CSV must hold (read_labelled), each rule with its reason:
# - The label column of a CSV with a header row is the one it names `label`, and the text column
#   the one it names `text`; without a header row, the rows are label,text as the corpus's are.
# - A label column names a few classes, each of many rows; a column of sentences is mostly
#   one-of-a-kind values, and a long one. So the label column is taken for text when more than
#   half of the rows hold a label no other row holds, or its labels average more than
#   LABEL_WORDS words: the columns are swapped, most likely.
# - Each seed trains on a random 80% of the rows (split_indices, which does not stratify), so a
#   class of n rows is left out of a seed's training sentences with a chance of about 0.2**n:
#   1 in 10 million for MIN_CLASS_ROWS = 10, but 1 in 125 for 3, the number of parts.
LABEL_WORDS = 3
MIN_CLASS_ROWS = 10


def read_labelled(path, labels=None, min_class_rows=1):
    """(texts, labels) from a CSV of `label,text` rows, or of columns named by a header row.

    A first row naming a column `label` and a column `text` (in any order and case, other columns
    ignored) is a header row: each row is read by those names. Without one, every row is
    `label,text`. The polarity corpus writes 1 and -1 and keeps each sentence's line break inside
    its quoted field. labels maps each label as written to a class number; by default the labels
    found, sorted (so -1 becomes 0, negative, and 1 becomes 1, positive).

    A CorpusError, one line, refuses a header row without both names, a row of the wrong width,
    fewer than two labels, a label column that holds text (the rules above), and, when
    min_class_rows is given (what a split needs: MIN_CLASS_ROWS), a smaller class.
    """
    rows = csv_rows(path)
    label_column, text_column, header = labelled_columns(path, rows)
    width = len(rows[0][1]) if header else 2
    for number, row in rows[header:]:
        if len(row) != width:
            raise CorpusError(f"{path}: row {number} has {len(row)} fields, not {width} "
                              f"({'as its header row has' if header else 'label,text'})")
    rows = rows[header:]
    written = [row[label_column].strip() for _, row in rows]
    found = sorted(set(written), key=_label_order)
    if labels is None:
        labels = {label: number for number, label in enumerate(found)}
    if len(found) < 2:
        raise CorpusError(f"{path}: needs rows of at least two labels, found {len(found)}")
    if len(rows) < 2 * min_class_rows:
        raise CorpusError(f"{path}: {len(rows)} rows are too few to split: two classes of "
                          f"{min_class_rows} rows at least are needed")
    check_labels_are_not_text(path, written, header)
    unknown = [label for label in found if label not in labels]
    if unknown:
        raise CorpusError(f"{path}: unknown label {unknown[0]!r}")
    check_class_sizes(path, written, min_class_rows, first_row=None if header else rows[0][0])
    texts = [" ".join(row[text_column].split()) for _, row in rows]
    return texts, np.array([labels[label] for label in written], dtype=np.int32)


def csv_rows(path):
    """The rows of a CSV file that hold anything, as (row number in the file, fields)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as file:
            rows = list(csv.reader(file))
    except OSError as error:
        raise CorpusError(f"cannot read {path}: {error.strerror or error}") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise CorpusError(f"{path} is not a UTF-8 CSV file of label,text rows ({error})") from None
    return [(number, row) for number, row in enumerate(rows, 1)
            if any(cell.strip() for cell in row)]


def labelled_columns(path, rows):
    """(label column, text column, 1 if the first row is a header row else 0). The first row is
    a header row when one of its fields is `label` or `text` (in any case and spacing); then it
    must name both, once each."""
    names = [cell.strip().lower() for cell in rows[0][1]] if rows else []
    if "label" not in names and "text" not in names:
        return 0, 1, 0
    if names.count("label") != 1 or names.count("text") != 1:
        found = ", ".join(repr(cell.strip()) for cell in rows[0][1])
        raise CorpusError(f"{path}: row {rows[0][0]} is a header row with the columns {found}: "
                          "name one column label and one text")
    return names.index("label"), names.index("text"), 1


def check_labels_are_not_text(path, written, header):
    """CorpusError if the label column holds text: more than half of the rows hold a label no
    other row holds, or the labels average more than LABEL_WORDS words."""
    counts = Counter(written)
    one_of_a_kind = sum(count == 1 for count in counts.values())
    words = np.mean([len(label.split()) for label in written])
    if one_of_a_kind <= len(written) / 2 and words <= LABEL_WORDS:
        return
    fix = ("does the header row name the right columns label and text?" if header else
           "are the columns swapped? Rows without a header row are read as label,text; a "
           "header row naming the columns label and text is read in either order")
    raise CorpusError(f"{path}: the label column holds what looks like text, not classes "
                      f"({len(counts):,} distinct labels among {len(written):,} rows, "
                      f"{one_of_a_kind:,} of them on one row only, {words:.1f} words long on "
                      f"average): {fix}")


def check_class_sizes(path, written, min_class_rows, first_row=None):
    """CorpusError naming the smallest class (the first in label order) if it has fewer than
    min_class_rows rows; first_row: the number of the file's first row, when it was read as
    data (it may be a header row by other names)."""
    counts = Counter(written)
    label = min(sorted(counts, key=_label_order), key=counts.get)
    if counts[label] >= min_class_rows:
        return
    hint = (f"; is row {first_row} a header row? Name its columns label and text"
            if first_row is not None and counts[label] == 1 and written[0] == label else "")
    raise CorpusError(f"{path}: class {label!r} has {counts[label]} row"
                      f"{'s' if counts[label] > 1 else ''}, too few to split: each class needs "
                      f"{min_class_rows} rows at least, or a seed's random 80% of the rows to "
                      f"train on may leave it out{hint}")


def _label_order(label):
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


def read_tagged(path):
    """The lines of a `word/TAG word/TAG ...` file as lists of (word, tag) pairs.

    A word may hold slashes itself (`1/2/CD` is the word 1/2 tagged CD): the tag is what follows
    the last one.
    """
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except OSError as error:
        raise CorpusError(f"cannot read {path}: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise CorpusError(f"{path} is not UTF-8 text ({error})") from None
    sentences = []
    for number, line in enumerate(lines, 1):
        pairs = []
        for token in line.split():
            word, slash, tag = token.rpartition("/")
            if not slash or not word or not tag:
                raise CorpusError(f"{path}: line {number} has {token!r}, not word/TAG")
            pairs.append((word, tag))
        if pairs:
            sentences.append(pairs)
    return sentences


def tokenize(text):
    """Lower-case words split on white space (the polarity corpus is tokenised already)."""
    return text.lower().split()


# Vocabulary, encoding and splits ----------------------------------------------------------------

def build_vocabulary(token_lists, max_words=None, min_count=1):
    """{word: id} for the most frequent words, ids from 2 up (0 pads, 1 is any other word).

    Ties are broken alphabetically, so the same sentences give the same ids on every machine.
    """
    counts = Counter(word for tokens in token_lists for word in tokens)
    ranked = sorted((word for word, count in counts.items() if count >= min_count),
                    key=lambda word: (-counts[word], word))
    if max_words is not None:
        ranked = ranked[: max(0, max_words - 2)]
    return {word: index for index, word in enumerate(ranked, start=2)}


def encode(token_lists, vocabulary, max_length):
    """`pad` of the sentences' word ids; a word outside the vocabulary is UNKNOWN."""
    return pad([[vocabulary.get(word, UNKNOWN) for word in tokens[:max_length]]
                for tokens in token_lists], max_length)


def pad(id_lists, max_length):
    """An int32 array (sentences, max_length) of word ids, padded with 0 after each sentence and
    cut after max_length words (as keras.utils.pad_sequences with padding and truncating 'post')."""
    padded = np.full((len(id_lists), max_length), PAD, dtype=np.int32)
    for row, ids in enumerate(id_lists):
        ids = list(ids[:max_length])
        padded[row, : len(ids)] = ids
    return padded


def split_indices(n_items, seed, fractions=(0.8, 0.1, 0.1)):
    """A seed's own (train, validation, test) index arrays: a permutation of range(n_items) cut
    by `fractions`, drawn from stream SPLIT_STREAM of the seed."""
    if not np.isclose(sum(fractions), 1.0) or min(fractions) <= 0:
        raise ValueError(f"fractions must be positive and sum to 1, not {fractions}")
    rng = seed_stream(seed, SPLIT_STREAM)
    order = rng.permutation(n_items)
    cuts = np.round(np.cumsum(fractions)[:-1] * n_items).astype(int)
    return tuple(np.split(order, cuts))
