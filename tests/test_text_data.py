"""The corpus fetcher and readers of suite/text_data.py, on files the tests write themselves.

The real corpora may not be redistributed, so no test reads them: the readers get small files in
their exact formats, and the fetcher gets a fake `apt-get` on PATH and a .deb built here, holding
made-up text whose checksums the test records in place of the real ones.
"""

import hashlib
import io
import lzma
import os
import stat
import tarfile

import numpy as np
import pytest

from suite import text_data
from suite.text_data import CorpusError


# ------------------------------------------------------------------------------------ readers

# Made-up sentences in the corpus's format: a byte-order mark, every field quoted, quotes doubled
# inside a field, line breaks inside fields (after a sentence, and within one).
POLARITY = ('\ufeff"1","a patient , generous film that earns its "" happy "" ending . \n"\n'
            '"-1","handsome but too-tidy costume drama\n"\n'
            '"1","if you ever want to spend an afternoon smiling , \nthis little caper is a fine '
            'place to begin . \n"\n'
            '"-1","it\'s , like , meh"\n')


def test_polarity_rows_with_quotes_and_line_breaks_inside_fields(tmp_path):
    path = tmp_path / "polarity.csv"
    path.write_text(POLARITY, encoding="utf-8")
    texts, labels = text_data.read_labelled(path)
    assert texts == ['a patient , generous film that earns its " happy " ending .',
                     "handsome but too-tidy costume drama",
                     "if you ever want to spend an afternoon smiling , this little caper is a fine "
                     "place to begin .",
                     "it's , like , meh"]
    assert labels.tolist() == [1, 0, 1, 0]  # -1 (negative) is class 0, 1 (positive) class 1


def test_a_users_csv_with_a_header_and_word_labels(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("label,text\nspam,buy now\nham,see you at noon\nspam,\"win, win\"\n")
    texts, labels = text_data.read_labelled(path)
    assert texts == ["buy now", "see you at noon", "win, win"]
    assert labels.tolist() == [1, 0, 1]  # labels sorted: ham 0, spam 1


@pytest.mark.parametrize("content, problem", [
    ("1,good\n-1,bad,extra\n", "row 2 has 3 fields, not 2"),
    ("1,good\n1,fine\n", "at least two labels, found 1"),
    (b"1,caf\xe9\n-1,bad\n", "not a UTF-8 CSV file"),
])
def test_a_bad_csv_is_one_line_naming_the_problem(tmp_path, content, problem):
    path = tmp_path / "bad.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(CorpusError, match=problem) as raised:
        text_data.read_labelled(path)
    assert "\n" not in str(raised.value)


def test_tagged_lines_keep_slashes_inside_words(tmp_path):
    path = tmp_path / "tagged.txt"
    path.write_text("\ufeffHe/PRP ate/VBD 1/2/CD of/IN it/PRP ./.\n\n"
                    "and/or/CC AT&T/NNP 's/POS ,/,\n", encoding="utf-8")
    assert text_data.read_tagged(path) == [
        [("He", "PRP"), ("ate", "VBD"), ("1/2", "CD"), ("of", "IN"), ("it", "PRP"), (".", ".")],
        [("and/or", "CC"), ("AT&T", "NNP"), ("'s", "POS"), (",", ",")],
    ]


@pytest.mark.parametrize("token", ["word", "word/", "/NN"])
def test_a_token_without_word_or_tag_is_refused_with_its_line(tmp_path, token):
    path = tmp_path / "tagged.txt"
    path.write_text(f"The/DT cat/NN\nsat/VBD {token} ./.\n")
    with pytest.raises(CorpusError, match=f"line 2 has '{token}', not word/TAG"):
        text_data.read_tagged(path)


def test_vocabulary_ranks_by_count_then_alphabet_and_keeps_ids_for_pad_and_unknown():
    sentences = [["c", "d", "b"], ["b", "c", "a"], ["c"]]  # d is met before a: ties by alphabet
    assert text_data.build_vocabulary(sentences) == {"c": 2, "b": 3, "a": 4, "d": 5}
    assert text_data.build_vocabulary(sentences, max_words=4) == {"c": 2, "b": 3}
    assert text_data.build_vocabulary(sentences, min_count=2) == {"c": 2, "b": 3}


def test_encode_pads_and_cuts_after_the_sentence_like_pad_sequences_post():
    vocabulary = {"c": 2, "b": 3}
    encoded = text_data.encode([["b", "x"], ["c", "c", "b", "c"], []], vocabulary, 3)
    assert encoded.dtype == np.int32
    assert encoded.tolist() == [[3, 1, 0], [2, 2, 3], [0, 0, 0]]


def test_pad_cuts_and_pads_word_ids_after_the_sentence():
    padded = text_data.pad([[5, 6, 7, 8], np.array([9]), []], 3)
    assert padded.dtype == np.int32
    assert padded.tolist() == [[5, 6, 7], [9, 0, 0], [0, 0, 0]]


def test_splits_partition_the_items_and_depend_on_the_seed_only():
    train, validation, test = text_data.split_indices(1000, seed=7)
    assert (len(train), len(validation), len(test)) == (800, 100, 100)
    assert sorted(np.concatenate([train, validation, test]).tolist()) == list(range(1000))
    again = text_data.split_indices(1000, seed=7)
    other = text_data.split_indices(1000, seed=8)
    assert all(np.array_equal(a, b) for a, b in zip(again, (train, validation, test)))
    assert not np.array_equal(other[0], train)


def test_a_corpus_that_cannot_be_had_after_parsing_is_one_line_and_leaves_nothing(tmp_path, capsys):
    """`loaded`: the error's one line, exit status 2, and the output folders that parsing proved
    removed again while they are empty; a folder that holds a file stays as it is."""
    output_dir = tmp_path / "out"

    def fails():
        raise CorpusError("cannot read mine.csv: No such file or directory")

    for folder in ("plots", "results"):
        (output_dir / folder).mkdir(parents=True)
    with pytest.raises(SystemExit) as exit_info:
        text_data.loaded(fails, output_dir)
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert error.endswith(": error: cannot read mine.csv: No such file or directory\n")
    assert len(error.splitlines()) == 1
    assert not output_dir.exists()

    (output_dir / "results").mkdir(parents=True)
    (output_dir / "results" / "earlier.csv").write_text("model,seed\n")
    with pytest.raises(SystemExit):
        text_data.loaded(fails, output_dir)
    assert (output_dir / "results" / "earlier.csv").exists()
    assert text_data.loaded(lambda: "lines", output_dir) == "lines"


# ------------------------------------------------------------------------------------ fetching

FAKE = {"polarity": b'"1","good film"\n"-1","bad film"\n',
        "oanc": b"The/DT cat/NN sat/VBD ./.\n",
        "wsj": b"Marta/NNP Quill/NNP ./.\n"}


def ar_member(name, data):
    header = (f"{name:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(data):<10}`\n").encode()
    assert len(header) == 60
    return header + data + (b"\n" if len(data) % 2 else b"")


def make_deb(path, files):
    """A .deb as Debian writes it: an ar archive of debian-binary, control and data.tar.xz."""
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo("./" + text_data.PACKAGE_FOLDER + name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    path.write_bytes(b"!<arch>\n" + ar_member("debian-binary", b"2.0\n")
                     + ar_member("control.tar.xz", lzma.compress(b""))
                     + ar_member("data.tar.xz", lzma.compress(tar_bytes.getvalue())))
    return path


@pytest.fixture
def fake_corpora(monkeypatch):
    """CORPORA with made-up text: the checksums of FAKE's files, under the real file names."""
    corpora = {name: text_data.Corpus(corpus.member, hashlib.sha256(FAKE[name]).hexdigest(), "")
               for name, corpus in text_data.CORPORA.items()}
    monkeypatch.setattr(text_data, "CORPORA", corpora)
    return {corpora[name].member: data for name, data in FAKE.items()}


def fake_apt(tmp_path, monkeypatch, script):
    """An apt-get on PATH (and nothing else there) that runs `script` in sh."""
    folder = tmp_path / "bin"
    folder.mkdir()
    apt = folder / "apt-get"
    apt.write_text("#!/bin/sh\n" + script + "\n")
    apt.chmod(apt.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}/bin{os.pathsep}/usr/bin")
    return folder


def assert_cache_clean(folder):
    """Nothing half-written: no staging folder, no partial file."""
    left = sorted(path.name for path in folder.iterdir()) if folder.exists() else []
    assert left == [], left


def test_fetch_downloads_once_checks_and_then_reads_the_cache(tmp_path, monkeypatch, fake_corpora):
    deb = make_deb(tmp_path / "pattern.deb", fake_corpora)
    calls = tmp_path / "calls"
    fake_apt(tmp_path, monkeypatch, f'echo "$@" >> {calls}; cp {deb} ./python3-pattern_2.6_all.deb')
    cache = tmp_path / "cache"
    path = text_data.fetch("oanc", folder=cache)
    assert path == cache / "tagged-en-oanc.txt"
    assert path.read_bytes() == FAKE["oanc"]
    assert sorted(p.name for p in cache.iterdir()) == sorted(fake_corpora)  # one download, all
    assert text_data.fetch("polarity", folder=cache).read_bytes() == FAKE["polarity"]
    assert calls.read_text().splitlines() == ["download python3-pattern"]  # the cache served it
    (cache / "tagged-en-wsj.txt").write_bytes(b"damaged")  # a changed cached file is fetched again
    assert text_data.fetch("wsj", folder=cache).read_bytes() == FAKE["wsj"]
    assert len(calls.read_text().splitlines()) == 2


def test_fetch_from_a_package_file_needs_no_apt(tmp_path, monkeypatch, fake_corpora):
    deb = make_deb(tmp_path / "pattern.deb", fake_corpora)
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    path = text_data.fetch("wsj", package_file=deb, folder=tmp_path / "cache")
    assert path.read_bytes() == FAKE["wsj"]


def test_the_cache_folder_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(text_data.CACHE_VARIABLE, str(tmp_path / "elsewhere"))
    assert text_data.cache_dir() == tmp_path / "elsewhere"
    monkeypatch.delenv(text_data.CACHE_VARIABLE)
    assert text_data.cache_dir() == text_data.REPOSITORY / ".cache" / "corpora"


FAILURES = {
    "no apt": (None, "apt-get is not on this machine: download python3-pattern"),
    "no package lists": ('echo "E: Unable to locate package python3-pattern" >&2; exit 100',
                         "run 'apt-get update' once"),
    "fetch refused": ('echo "E: Failed to fetch http://deb.debian.org/x.deb  403  Forbidden" >&2; '
                      'echo "W: Download is performed unsandboxed" >&2; exit 100',
                      r"apt-get download python3-pattern failed \(E: Failed to fetch .*403"),
    "nothing downloaded": ("exit 0", r"failed \(exit status 0\)"),
    "not a package": ("echo text > python3-pattern_2.6_all.deb", "is not a Debian package"),
}


@pytest.mark.parametrize("case", FAILURES)
def test_every_failed_download_is_one_line_and_leaves_the_cache_empty(tmp_path, monkeypatch,
                                                                      fake_corpora, case):
    script, message = FAILURES[case]
    if script is None:
        monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    else:
        fake_apt(tmp_path, monkeypatch, script)
    cache = tmp_path / "cache"
    with pytest.raises(CorpusError, match=message) as raised:
        text_data.fetch("polarity", folder=cache)
    assert "\n" not in str(raised.value)
    assert "Traceback" not in str(raised.value)
    assert_cache_clean(cache)


def test_a_changed_checksum_is_refused_and_nothing_is_kept(tmp_path, fake_corpora):
    changed = dict(fake_corpora, **{"tagged-en-wsj.txt": b"Other/JJ text/NN\n"})
    deb = make_deb(tmp_path / "pattern.deb", changed)
    cache = tmp_path / "cache"
    with pytest.raises(CorpusError, match="tagged-en-wsj.txt in pattern.deb does not match its "
                                          "recorded checksum"):
        text_data.fetch("polarity", package_file=deb, folder=cache)
    assert not (cache / "tagged-en-wsj.txt").exists()
    assert not any(path.name.startswith(".fetch-") for path in cache.iterdir())


def test_a_package_without_the_corpora_is_refused(tmp_path, fake_corpora):
    deb = make_deb(tmp_path / "other.deb", {"README": b"nothing here"})
    with pytest.raises(CorpusError, match="holds no polarity-en-pang&lee2.csv"):
        text_data.fetch("polarity", package_file=deb, folder=tmp_path / "cache")


def test_a_cache_folder_that_cannot_be_made_is_one_line(tmp_path, fake_corpora):
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")  # a file where the folder should go: refused even as root
    deb = make_deb(tmp_path / "pattern.deb", fake_corpora)
    with pytest.raises(CorpusError, match=f"cannot write the corpus cache folder {blocker}/cache"
                                          f".*set {text_data.CACHE_VARIABLE}"):
        text_data.fetch("polarity", package_file=deb, folder=blocker / "cache")


def test_an_unknown_corpus_is_refused():
    with pytest.raises(CorpusError, match="unknown corpus 'imdb': choose from polarity, oanc, wsj"):
        text_data.fetch("imdb")


def test_the_recorded_corpora_are_the_files_the_readme_describes():
    assert text_data.CORPORA["polarity"].member == "polarity-en-pang&lee2.csv"  # the sentences
    assert {name: len(corpus.sha256) for name, corpus in text_data.CORPORA.items()} == {
        "polarity": 64, "oanc": 64, "wsj": 64}
