"""Real text, sentiment and part-of-speech tagging: README.md lists the scripts and commands."""
