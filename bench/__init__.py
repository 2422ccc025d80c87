"""The speed benchmark: README.md lists the scripts and their commands."""

import suite  # noqa: F401  (a Python without the requirements stops here, with one line)
