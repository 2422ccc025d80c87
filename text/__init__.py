"""Real text, sentiment and part-of-speech tagging: README.md lists the scripts and commands."""

import suite  # noqa: F401  (a Python without the requirements stops here, with one line)
