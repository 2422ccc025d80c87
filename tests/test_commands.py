"""Every command the documentation shows still runs: its script exists, its flags parse, and
every make target it names is in the Makefile. A moved script or a renamed flag fails here,
naming the page and the command.

Where commands are found:
- README.md, docs/*.md and every folder's README.md: the lines of shell blocks (```sh, also
  bash, shell, console and unlabelled fences; a ```text block is a program's output) and every
  inline code span.
- The module docstrings of the scripts (the top level and the topic folders): their indented
  lines and their inline code spans.

A command starts its line or span:
- `python FILE.py [flags]` or `python -m PACKAGE.MODULE [flags]`, the interpreter written as
  `python`, `python3` or `.venv/bin/python`, after any `NAME=value` assignments
  (`KERAS_BACKEND=jax`), before any `# comment` (a command inside a comment is not checked);
- `FILE.py --flag ...`, a script with its flags but no interpreter, as the make targets' table
  writes them;
- `make TARGET ... [NAME=value]`.
Other tools' modules (`python -m pytest`, `python -m pip`) are not the project's commands: only
the files they name must exist. A code span that is only a Python file's path (`suite/cli.py`)
must name a file.

A python command is checked without training, fetching or writing anything: the script must
be a file at the top level (`python FILE.py`) or a module under the repository root
(`python -m PACKAGE.MODULE`; a script in a topic folder runs only that way), and its flags
must parse: the script's parse_args(flags) runs with `suite.cli.parse` replaced by the
parser's own parse_args alone. So a script's own check of its values (some read the files
their flags name), its memory estimate and the proof of its output folder do not run. An
all-capitals word given to a flag is a placeholder (`--unlike-keras DETAIL`): the flag must
exist, and the word stands for its first choice. A script without parse_args
(bench/tutorial_bilstm.py, the tutorial's own, which trains as it is imported) is never
imported: its commands must give no flags. A command that a page shows as
one that fails (SHOWN_FAILING: a folder script run as a file) must fail.

PyTorch is optional (`make test` runs without it) and the plain PyTorch scripts import it at
module level, after their flags. So the scripts are imported against a stand-in torch whose
every name is a harmless placeholder, whether or not torch is installed, and the test means
the same on every machine. The repository's modules imported that way are dropped after this
file's tests and the ones imported before are put back. No Keras: the scripts import it lazily.
"""

import ast
import contextlib
import importlib
import importlib.abc
import importlib.machinery
import inspect
import io
import re
import shlex
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent
MAKEFILE = REPOSITORY / "Makefile"
SHELL_FENCES = {"", "sh", "bash", "shell", "console"}
# Modules of other tools that a page may show run by python -m: not the project's scripts.
TOOLS = {"pip", "pytest", "venv", "ensurepip"}
# Commands a page shows as what does not work, each with the page that shows it: they must fail.
SHOWN_FAILING = {
    ("docs/how_it_works.md", "python book/bilstm_book.py"),  # a folder script run as a file
}
MIN_COMMANDS = 100  # the pages and docstrings show about 190; a broken pattern finds far fewer

FENCE = re.compile(r"^ {0,3}(```|~~~)[ \t]*(?P<info>[^\n]*)\n(?P<body>.*?)^ {0,3}\1[^\n]*$",
                   re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
INTERPRETER = re.compile(r"^(?:\S*/)?python3?$")
SCRIPT_PATH = re.compile(r"^[\w./-]+\.py$")
PLACEHOLDER = re.compile(r"^[A-Z][A-Z0-9_]*$")
COMMENT = re.compile(r"(?:^|\s)#.*$")  # a shell comment: # at the start of a word
# A line or span worth tokenising: it starts with assignments, then an interpreter, make or a
# Python file.
CANDIDATE = re.compile(r"^(?:[A-Za-z_]\w*=\S*\s+)*(?:\S*python3?|make|[\w./-]+\.py)"
                       r"(?:\s|$)")


# ---------------------------------------------------------------- finding the commands


@dataclass
class Command:
    kind: str  # "python", "make", "tool" or "path"
    text: str  # as written, without its comment, whitespace collapsed
    environment: dict = field(default_factory=dict)
    script: str = ""  # the file as written (FILE.py), or "" for a module
    module: str = ""  # PACKAGE.MODULE after -m
    arguments: list = field(default_factory=list)  # flags, or make's targets and assignments


def parse_command(text):
    """The Command a line or code span starts with, or None when it starts with none."""
    text = COMMENT.sub("", " ".join(text.split())).removeprefix("$ ")
    if not CANDIDATE.match(text):
        return None
    try:
        tokens = shlex.split(text)
    except ValueError:  # an unbalanced quote in prose: not a command
        return None
    environment = {}
    while tokens and ASSIGNMENT.match(tokens[0]):
        name, _, value = tokens.pop(0).partition("=")
        environment[name] = value
    if not tokens:
        return None
    head, rest = tokens[0], tokens[1:]
    if head == "make":
        if not [word for word in rest if not word.startswith("-") and "=" not in word]:
            return None  # make alone runs its first rule, nothing a page could get wrong
        return Command("make", text, environment, arguments=rest)
    if INTERPRETER.match(head):
        if len(rest) >= 2 and rest[0] == "-m":
            kind = "tool" if rest[1].split(".")[0] in TOOLS else "python"
            return Command(kind, text, environment, module=rest[1], arguments=rest[2:])
        if rest and rest[0].endswith(".py"):
            return Command("python", text, environment, script=rest[0], arguments=rest[1:])
        return None  # the interpreter alone, or python -c: not a script's command
    if SCRIPT_PATH.match(head):
        if rest and rest[0].startswith("-"):
            # A script named with its flags, as the make targets' table writes it: its flags
            # are checked as the module's, however the script is started.
            return Command("python", text, environment, module=module_of(head),
                           arguments=rest)
        return Command("path", text, script=head) if not rest else None
    return None


def module_of(path):
    """'book/bilstm_book.py' -> 'book.bilstm_book'."""
    return path.removesuffix(".py").removeprefix("./").replace("/", ".")


def markdown_commands(text):
    """(line, Command) for the shell blocks' lines and the inline code spans of a page."""
    found = []
    for block in FENCE.finditer(text):
        if block.group("info").strip().lower() not in SHELL_FENCES:
            continue
        first = text.count("\n", 0, block.start("body")) + 1
        lines = block.group("body").splitlines()
        offset = 0
        while offset < len(lines):
            start, line = offset, lines[offset]
            while line.endswith("\\") and offset + 1 < len(lines):  # continued on the next line
                offset += 1
                line = line[:-1] + " " + lines[offset]
            command = parse_command(line)
            if command is not None:
                found.append((first + start, command))
            offset += 1
    prose = FENCE.sub(lambda block: "\n" * block.group(0).count("\n"), text)
    for span in CODE_SPAN.finditer(prose):
        command = parse_command(span.group(2))
        if command is not None:
            found.append((prose.count("\n", 0, span.start()) + 1, command))
    return found


def docstring_commands(source):
    """(line within the docstring, Command) for a module docstring's indented lines and its
    code spans."""
    docstring = ast.get_docstring(ast.parse(source)) or ""
    found = []
    for number, line in enumerate(docstring.splitlines(), start=1):
        if line[:1].isspace():
            command = parse_command(line)
            if command is not None:
                found.append((number, command))
    for span in CODE_SPAN.finditer(docstring):
        command = parse_command(span.group(2))
        if command is not None:
            found.append((docstring.count("\n", 0, span.start()) + 1, command))
    return found


def pages():
    """README.md, docs/*.md and the folders' README.md, as they are now."""
    folder_readmes = [page for page in REPOSITORY.glob("*/README.md")
                      if not page.parent.name.startswith(".")]
    found = {REPOSITORY / "README.md", *REPOSITORY.glob("docs/*.md"), *folder_readmes}
    return sorted(page for page in found if page.exists())


def packages():
    """The repository's packages: top-level folders with an __init__.py."""
    return sorted(init.parent.name for init in REPOSITORY.glob("*/__init__.py"))


def scripts():
    """The scripts: the top level's Python files and those of the topic folders (every package
    but the shared suite/)."""
    found = sorted(REPOSITORY.glob("*.py"))
    for package in packages():
        if package != "suite":
            found += sorted(path for path in (REPOSITORY / package).glob("*.py")
                            if path.name != "__init__.py")
    return found


def all_commands():
    """{(source, command text): (line, Command)}, once per source and command, sources in
    order."""
    found = {}
    for page in pages():
        for line, command in markdown_commands(page.read_text(encoding="utf-8")):
            found.setdefault((relative(page), command.text), (line, command))
    for script in scripts():
        for line, command in docstring_commands(script.read_text(encoding="utf-8")):
            found.setdefault((f"{relative(script)} docstring", command.text), (line, command))
    return found


def relative(path):
    return path.relative_to(REPOSITORY).as_posix()


COMMANDS = all_commands()


def of_kind(*kinds):
    return [pytest.param(source, line, command, id=f"{source}: {text}")
            for (source, text), (line, command) in COMMANDS.items() if command.kind in kinds]


# ---------------------------------------------------------------- a stand-in for torch


class Placeholder:
    """Any name of the stand-in torch: called, subscripted, used as a decorator or as a base
    class, it gives another placeholder (or, as a base, plain object)."""

    def __init__(self, *args, **kwargs):
        pass

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return Placeholder()

    def __call__(self, *args, **kwargs):
        return Placeholder()

    def __getitem__(self, key):
        return Placeholder()

    def __mro_entries__(self, bases):
        return (object,)


class StandInTorch(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves `torch` and every `torch.*` as an empty package whose names are placeholders."""

    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        module = types.ModuleType(spec.name)
        module.__getattr__ = lambda name: Placeholder()
        return module

    def exec_module(self, module):
        pass


@contextlib.contextmanager
def scripts_with_standin_torch():
    """Inside: the repository's modules import afresh, with the stand-in torch. After: those
    modules and the stand-in are dropped and sys.modules holds what it held before."""
    roots = {"torch", *packages(), *(path.stem for path in REPOSITORY.glob("*.py"))}

    def ours(name):
        return name.split(".")[0] in roots

    saved = {name: module for name, module in sys.modules.items() if ours(name)}
    for name in saved:
        del sys.modules[name]
    finder = StandInTorch()
    sys.meta_path.insert(0, finder)
    sys.path.insert(0, str(REPOSITORY))
    try:
        yield
    finally:
        sys.path.remove(str(REPOSITORY))
        sys.meta_path.remove(finder)
        for name in [name for name in sys.modules if ours(name)]:
            del sys.modules[name]
        sys.modules.update(saved)


@pytest.fixture(scope="module")
def standin_torch():
    with scripts_with_standin_torch():
        yield


# ---------------------------------------------------------------- checking a command


def makefile_targets():
    """The Makefile's targets (its rules and .PHONY) and the variables it uses."""
    text = MAKEFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    targets = set()
    for match in re.finditer(r"^([^\s:#=][^:#=]*?)\s*:(?!=)(.*)$", text, re.MULTILINE):
        names = match.group(2).split() if match.group(1) == ".PHONY" else match.group(1).split()
        targets.update(names)
    variables = set(re.findall(r"\$[({](\w+)[)}]", text))
    return targets, variables


def make_problem(command):
    """None, or what is wrong with a make command."""
    targets, variables = makefile_targets()
    for word in command.arguments:
        if word.startswith("-"):
            continue
        name, assigned, _ = word.partition("=")
        if assigned and name not in variables:
            return f"the Makefile uses no variable {name}"
        if not assigned and word not in targets:
            return f"the Makefile has no target {word!r}"
    return None


def script_file(command):
    """(file, module name) of a python command's script, or a problem as a string."""
    if command.module:
        parts = command.module.split(".")
        path = REPOSITORY.joinpath(*parts).with_suffix(".py")
        folders = [REPOSITORY.joinpath(*parts[:end]) for end in range(1, len(parts))]
        if not path.is_file() or not all((f / "__init__.py").is_file() for f in folders):
            return f"no module {command.module} under the repository root"
        return path, command.module
    path = REPOSITORY / command.script
    if not path.is_file():
        return f"no file {command.script} in the repository root"
    if path.parent != REPOSITORY:
        return f"{command.script} runs from the repository root as " \
               f"python -m {module_of(command.script)}"
    return path, path.stem


def flags_only(parser, argv=None, check=None, **ignored):
    """suite.cli.parse with nothing but the parser: the flags are read, nothing else runs."""
    argv = list(argv or [])
    for index, word in enumerate(argv):
        if index and PLACEHOLDER.match(word) and argv[index - 1].startswith("--"):
            action = parser._option_string_actions.get(argv[index - 1])
            if action is not None and action.choices:
                argv[index] = str(next(iter(action.choices)))
    return parser.parse_args(argv)


def python_problem(command, monkeypatch):
    """None, or what is wrong with a python command: its script, or the parser's error."""
    backend = command.environment.get("KERAS_BACKEND")
    if backend is not None:
        from suite import environment

        if backend not in environment.BACKENDS:
            return f"KERAS_BACKEND={backend} is not a backend: {sorted(environment.BACKENDS)}"
    found = script_file(command)
    if isinstance(found, str):
        return found
    path, name = found
    tree = ast.parse(path.read_text(encoding="utf-8"))
    if not any(isinstance(node, ast.FunctionDef) and node.name == "parse_args"
               for node in tree.body):
        return f"{relative(path)} takes no flags" if command.arguments else None
    module = importlib.import_module(name)
    monkeypatch.setattr(importlib.import_module("suite.cli"), "parse", flags_only)
    monkeypatch.setattr(sys, "argv", [path.name])  # the parser's errors name the script
    output = io.StringIO()
    try:
        with contextlib.redirect_stderr(output), contextlib.redirect_stdout(io.StringIO()):
            module.parse_args(command.arguments)
    except SystemExit as exit:
        if exit.code not in (0, None):  # 0: --help
            return output.getvalue().strip() or f"exit status {exit.code}"
    return None


# ---------------------------------------------------------------- the tests


def test_the_pages_and_docstrings_show_enough_commands():
    """A broken pattern cannot make this file pass by finding nothing."""
    commands = [command for _, command in COMMANDS.values()]
    kinds = [command.kind for command in commands]
    assert kinds.count("python") + kinds.count("make") >= MIN_COMMANDS
    assert any(command.module for command in commands if command.kind == "python")
    assert any(command.script for command in commands if command.kind == "python")
    assert any(command.environment for command in commands if command.kind == "python")
    assert "make" in kinds
    docstrings = {source for source, _ in COMMANDS if source.endswith("docstring")}
    assert len(docstrings) >= 10
    assert {"README.md", "docs/tutorial.md"} <= {source for source, _ in COMMANDS}


@pytest.mark.usefixtures("standin_torch")
@pytest.mark.parametrize(("source", "line", "command"), of_kind("python"))
def test_python_command(source, line, command, monkeypatch):
    problem = python_problem(command, monkeypatch)
    if (source, command.text) in SHOWN_FAILING:
        assert problem is not None, f"{source}:{line}: {command.text}: shown failing, but runs"
    else:
        assert problem is None, f"{source}:{line}: {command.text}: {problem}"


def recorded_commands():
    """(file, command) for the command of every committed run record (results/*_run.csv) and
    every command timed in results/benchmark_commands.csv ('label: command')."""
    import pandas as pd

    found = []
    for path in sorted((REPOSITORY / "results").glob("*_run.csv")):
        found += [(relative(path), text) for text in pd.read_csv(path)["command"]]
    timed = pd.read_csv(REPOSITORY / "results" / "benchmark_commands.csv")["command"]
    found += [("results/benchmark_commands.csv", text.split(": ", 1)[-1]) for text in timed
              if "python" in text]  # the in-process rows are passes of a run, not commands
    return found


@pytest.mark.usefixtures("standin_torch")
@pytest.mark.parametrize(("source", "text"), recorded_commands())
def test_the_committed_runs_record_commands_that_run(source, text, monkeypatch):
    """A committed result names the command that wrote it: that command still runs."""
    command = parse_command(text)
    assert command is not None and command.kind == "python", f"{source}: {text}"
    problem = python_problem(command, monkeypatch)
    assert problem is None, f"{source}: {text}: {problem}"


@pytest.mark.parametrize(("source", "line", "command"), of_kind("make"))
def test_make_command(source, line, command):
    problem = make_problem(command)
    assert problem is None, f"{source}:{line}: {command.text}: {problem}"


@pytest.mark.parametrize("source", sorted({source for (source, _), (_, command)
                                           in COMMANDS.items() if command.kind == "path"}))
def test_every_python_file_named_exists(source):
    """A span that names a Python file names one that exists, from the repository root or
    from the page's own folder."""
    folder = (REPOSITORY / source.removesuffix(" docstring")).parent
    missing = [f"{line}: {command.script}"
               for (page, _), (line, command) in COMMANDS.items()
               if page == source and command.kind == "path"
               and not ((REPOSITORY / command.script).is_file()
                        or (folder / command.script).is_file())]
    assert missing == []


def test_tool_commands_name_files_that_exist():
    """python -m pytest and the like are not taken for the project's scripts, but the test
    files they name exist."""
    missing = [f"{source}:{line}: {command.text}"
               for (source, _), (line, command) in COMMANDS.items() if command.kind == "tool"
               for word in command.arguments
               if word.partition("::")[0].endswith(".py")
               and not (REPOSITORY / word.partition("::")[0]).is_file()]
    assert missing == []


@pytest.mark.usefixtures("standin_torch")
@pytest.mark.parametrize(("text", "named"), [pytest.param(*case, id=case[0]) for case in [
    ("python -m experiments.claims_atlas --no-such-flag", "--no-such-flag"),
    ("python -m book.smallest_model --units five", "--units"),
    ("python -m pytorch.bilstm_pytorch --unlike-keras no-such-detail", "--unlike-keras"),
    ("python -m pytorch.bilstm_pytorch --no-such-flag DETAIL", "--no-such-flag"),
    ("python -m pytorch.text_classify_pytorch --no-such-flag", "--no-such-flag"),
    ("python claims_atlas.py", "no file claims_atlas.py"),
    ("python -m claims_atlas", "no module claims_atlas"),
    ("python book/bilstm_book.py", "python -m book.bilstm_book"),
    ("KERAS_BACKEND=theano python lstm_baseline.py", "theano"),
    ("python -m bench.tutorial_bilstm --quiet", "takes no flags"),
]])
def test_a_stale_command_fails(text, named, monkeypatch):
    """The checks can fail: a wrong flag, value, script or backend is named in the problem."""
    problem = python_problem(parse_command(text), monkeypatch)
    assert problem is not None and named in problem


@pytest.mark.parametrize(("text", "named"), [pytest.param(*case, id=case[0]) for case in [
    ("make no-such-target", "no-such-target"),
    ("make demo NO_SUCH_VARIABLE=1", "NO_SUCH_VARIABLE"),
]])
def test_a_stale_make_command_fails(text, named):
    problem = make_problem(parse_command(text))
    assert problem is not None and named in problem


def test_the_forms_of_a_command():
    """What the pages write, taken apart: assignments, interpreter, module or file, flags,
    comment; make with targets and variables; a table's output row is not a command."""
    command = parse_command("KERAS_BACKEND=jax .venv/bin/python -m book.bilstm_book --repeats 5"
                            "  # seeds 0-4")
    assert (command.kind, command.environment, command.module, command.arguments) == (
        "python", {"KERAS_BACKEND": "jax"}, "book.bilstm_book", ["--repeats", "5"])
    command = parse_command("python compare_merge_modes.py --merge-modes sum concat")
    assert (command.script, command.arguments) == (
        "compare_merge_modes.py", ["--merge-modes", "sum", "concat"])
    command = parse_command("book/bilstm_book.py --repeats 5")
    assert (command.kind, command.module) == ("python", "book.bilstm_book")
    command = parse_command("make\n   demo OUT=.")
    assert (command.kind, command.arguments) == ("make", ["demo", "OUT=."])
    assert parse_command(".venv/bin/python -m pytest -s -m backend").kind == "tool"
    assert parse_command("suite/cli.py").kind == "path"
    for not_a_command in (".venv/bin/python", "python3-pattern", "make", "the make targets"):
        assert parse_command(not_a_command) is None
    page = inspect.cleandoc("""
        ```sh
        make bench   # .venv/bin/python -m bench.bench
        ```

        ```text
        python demo.py        jax  cold    40.1
        ```
        Run `python lstm_baseline.py`.

        ```sh
        $ python -m experiments.claims_atlas \\
            --from-runs results/claims_atlas_runs.csv
        ```
        """)
    assert [(line, command.text) for line, command in markdown_commands(page)] == [
        (2, "make bench"),
        (11, "python -m experiments.claims_atlas --from-runs results/claims_atlas_runs.csv"),
        (8, "python lstm_baseline.py")]
