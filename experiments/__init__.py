"""Experiments beyond the tutorial: README.md lists the scripts and their commands."""
