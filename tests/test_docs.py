"""The front page and the pages in docs/: every link and image resolves; the front page stays short.

A link is `[text](target)`, an image `![alt](target)`; links inside code are not links. A relative
target must exist relative to the page that names it, and a `#anchor`, alone or after a path, must
be a heading of the target page under GitHub's rules for heading ids. No Keras here: these tests
read text only.
"""

import re
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent
README = REPOSITORY / "README.md"
PAGES = [README, *sorted((REPOSITORY / "docs").glob("*.md"))]
README_LIMIT_BYTES = 12_500  # the front page is what a newcomer reads first; the rest is in docs/

FENCE = re.compile(r"^ {0,3}(```|~~~).*?^ {0,3}\1[^\n]*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
LINK = re.compile(r"!?\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]*)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(?P<text>.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
EXTERNAL = ("http://", "https://", "mailto:")


def without_code(markdown):
    """The text with fenced blocks and inline code spans blanked out (line numbers kept)."""
    markdown = FENCE.sub(lambda block: "\n" * block.group(0).count("\n"), markdown)
    return CODE_SPAN.sub("", markdown)


def slug(heading):
    """GitHub's id for a heading: the rendered text, lowercased, punctuation dropped except
    hyphens and underscores, spaces turned into hyphens."""
    text = CODE_SPAN.sub(lambda span: span.group(2), heading)
    text = LINK.sub(lambda link: link.group("text"), text)
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(page):
    """Every heading id of a page; a repeated heading gets -1, -2, ... as on GitHub."""
    seen = {}
    for match in HEADING.finditer(FENCE.sub("", page.read_text(encoding="utf-8"))):
        base = slug(match.group("text"))
        count = seen.get(base, 0)
        seen[base] = count + 1
        yield base if count == 0 else f"{base}-{count}"


def links(page):
    """(line, target) for every link and image of a page, code excluded."""
    text = without_code(page.read_text(encoding="utf-8"))
    for match in LINK.finditer(text):
        yield text.count("\n", 0, match.start()) + 1, match.group("target")


def broken_links(page):
    """One line per link or image of `page` that does not resolve."""
    problems = []
    for line, target in links(page):
        if target.startswith(EXTERNAL):
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        where = f"{page.name}:{line}: {target}"
        if not path and not anchor:
            problems.append(f"{where}: empty target")
        elif not resolved.exists():
            problems.append(f"{where}: no such file")
        elif anchor and (resolved.suffix != ".md" or anchor not in set(anchors(resolved))):
            problems.append(f"{where}: no heading #{anchor} in {resolved.name}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(REPOSITORY)))
def test_every_link_and_image_resolves(page):
    assert broken_links(page) == []


def test_readme_is_short():
    assert README.stat().st_size < README_LIMIT_BYTES


def test_every_docs_page_is_linked_from_the_readme():
    linked = {(README.parent / target.partition("#")[0]).resolve()
              for _, target in links(README) if not target.startswith(EXTERNAL)}
    assert [page.name for page in PAGES[1:] if page.resolve() not in linked] == []


# ---------------------------------------------------------------- the checker itself


@pytest.mark.parametrize("heading, expected", [
    ("The go_backwards alignment", "the-go_backwards-alignment"),
    ("The claims beyond the tutorial's setting", "the-claims-beyond-the-tutorials-setting"),
    ("2. The smallest and fastest model that is 100% accurate",
     "2-the-smallest-and-fastest-model-that-is-100-accurate"),
    ("Inside the model: what the `LSTM`s keep", "inside-the-model-what-the-lstms-keep"),
])
def test_slug_follows_github(heading, expected):
    assert slug(heading) == expected


@pytest.mark.parametrize("body, problem", [
    ("[fine](other.md#a-heading) ![fine](pic.png) [here](#top) [web](https://example.org/x)", None),
    ("```sh\n[not a link](missing.md)\n```\n`[nor](this.md)`", None),
    ("[gone](missing.md)", "no such file"),
    ("![gone](missing.png)", "no such file"),
    ("[wrong](other.md#no-such-heading)", "no heading #no-such-heading"),
    ("[wrong](#nowhere)", "no heading #nowhere"),
    ("[repeated](other.md#a-heading-2)", "no heading #a-heading-2"),
])
def test_checker_catches_broken_links(tmp_path, body, problem):
    (tmp_path / "other.md").write_text("# A heading\n\n## A heading\n")
    (tmp_path / "pic.png").write_bytes(b"")
    page = tmp_path / "page.md"
    page.write_text(f"# Top\n\n{body}\n")
    problems = broken_links(page)
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0]
