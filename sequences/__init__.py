"""Your own sequences: variable lengths, masking, one label per sequence, Japanese Vowels, a model
you can keep. README.md lists the scripts and commands."""

import suite  # noqa: F401  (a Python without the requirements stops here, with one line)
