"""The layout shows the architecture: what the top level holds, what imports what, the indexes.

- The top level holds what the design card names (the data, the four tutorial sections), the
  demo, the pages and the folders; every other script lives in a topic folder.
- Scripts import modules, not scripts: the one exception is a section script's model builders,
  which the tutorial itself reuses (demo.py and the benchmark run the scripts they run).
- Each topic folder has a README that lists each of its scripts with the command that runs it,
  and each script's docstring holds that command.

Read from the source with `ast`; nothing here imports Keras.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent
TOP_LEVEL = {
    # the design card's files and the demo
    "README.md", "requirements.txt", "Makefile", "cumsum_data.py", "lstm_baseline.py",
    "bilstm_classify.py", "compare_directions.py", "compare_merge_modes.py", "demo.py",
    # tests, committed runs and pages
    "tests", "plots", "results", "docs",
    # the one package of shared machinery, and the topic folders
    "suite", "book", "experiments", "text", "sequences", "pytorch", "bench",
}
TOPIC_FOLDERS = ["book", "experiments", "text", "sequences", "pytorch", "bench"]
# What a script may take from a section script: its model builders.
MODEL_BUILDERS = {"build_model", "build_backward_aligned", "get_models"}
# The scripts that run other scripts whole.
RUNNERS = {"demo", "bench.bench"}


def module_name(path):
    relative = path.relative_to(REPOSITORY).with_suffix("")
    return ".".join(relative.parts)


def scripts():
    """{module name: path} of every script: a file that runs as a program, the data module
    cumsum_data.py (whose __main__ prints an example) aside."""
    found = {}
    for path in sorted(REPOSITORY.glob("*.py")) + sorted(REPOSITORY.glob("*/*.py")):
        if path.parent.name in ("tests", "suite") or path.name == "cumsum_data.py":
            continue
        if '__name__ == "__main__"' in path.read_text():
            found[module_name(path)] = path
    return found


def imported_names(tree, script_modules):
    """(line, imported script, names taken from it) for every import of a script."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module in script_modules:
                yield node.lineno, node.module, {alias.name for alias in node.names}
            for alias in node.names:
                if f"{node.module}.{alias.name}" in script_modules:
                    yield node.lineno, f"{node.module}.{alias.name}", attributes_used(
                        tree, alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in script_modules:
                    yield node.lineno, alias.name, attributes_used(tree, alias.asname or alias.name)


def attributes_used(tree, name):
    """The attributes read from the module bound to `name`: {'build_model'} for
    `name.build_model(...)`."""
    return {node.attr for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id == name}


def test_the_top_level_holds_the_card_the_demo_and_the_folders():
    try:
        listed = subprocess.run(["git", "ls-files"], capture_output=True, text=True,
                                cwd=REPOSITORY, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: the tracked files cannot be listed")
    top = {name.split("/")[0] for name in listed if not name.startswith(".")}
    assert top == TOP_LEVEL


def test_every_script_outside_the_card_lives_in_a_topic_folder():
    for name, path in scripts().items():
        assert path.parent == REPOSITORY or path.parent.name in TOPIC_FOLDERS, name
    # The package holds modules only: nothing in it runs as a program.
    for path in sorted((REPOSITORY / "suite").glob("*.py")):
        assert 'if __name__ == "__main__"' not in path.read_text(), f"suite/{path.name} runs"


def test_scripts_import_modules_not_scripts():
    """Checked for every script and every module of suite/: an import of a script takes only
    model builders from it, unless the importer runs it whole (demo.py, the benchmark)."""
    script_modules = scripts()
    importers = [*script_modules.values(), *sorted((REPOSITORY / "suite").glob("*.py"))]
    checked = 0
    for path in importers:
        tree = ast.parse(path.read_text())
        for line, imported, names in imported_names(tree, script_modules):
            checked += 1
            if module_name(path) in RUNNERS:
                continue
            assert names <= MODEL_BUILDERS, (
                f"{path.relative_to(REPOSITORY)}:{line} takes {sorted(names - MODEL_BUILDERS)} "
                f"from the script {imported}: move what two scripts share into a module")
    assert checked >= 10  # the sections' builders are imported throughout: the walk sees them


def test_the_walk_sees_a_script_taking_more_than_a_builder():
    """The check above can fail: a made-up importer that takes a script's helper is caught."""
    tree = ast.parse("import compare_directions\ncompare_directions.CLAIMS\n"
                     "from book.bilstm_book import book_evaluation\n")
    found = {imported: names for _, imported, names in imported_names(tree, scripts())}
    assert found == {"compare_directions": {"CLAIMS"}, "book.bilstm_book": {"book_evaluation"}}


@pytest.mark.parametrize("folder", TOPIC_FOLDERS)
def test_each_topic_folder_lists_its_scripts_and_their_commands(folder):
    index = (REPOSITORY / folder / "README.md").read_text()
    folder_scripts = [path for name, path in scripts().items() if name.startswith(f"{folder}.")]
    folder_scripts += [REPOSITORY / folder / "tutorial_bilstm.py"] if folder == "bench" else []
    assert folder_scripts
    for path in folder_scripts:
        command = f"python -m {folder}.{path.stem}"
        assert f"`{path.name}`" in index, f"{folder}/README.md does not list {path.name}"
        assert command in index, f"{folder}/README.md lacks {command}"
        docstring = ast.get_docstring(ast.parse(path.read_text()))
        assert command in docstring, f"{path.name}'s docstring lacks {command}"


@pytest.mark.parametrize("name", [name for name in scripts() if "." in name])
def test_a_folder_script_run_as_a_file_says_how_to_run_it(name, tmp_path):
    """`python book/bilstm_book.py` cannot import suite/: one line with the module command, exit
    status 2, from any folder."""
    path = scripts()[name]
    completed = subprocess.run([sys.executable, str(path), "--help"], capture_output=True,
                               text=True, cwd=tmp_path)
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert completed.stderr.splitlines() == [
        f"error: run it from the repository root as a module: python -m {name}"]
