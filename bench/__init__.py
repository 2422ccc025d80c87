"""The speed benchmark: README.md lists the scripts and their commands."""
