"""The book chapter and its exercises: README.md lists the scripts and their commands."""
