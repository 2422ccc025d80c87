"""The tutorial's models in plain PyTorch: README.md lists the scripts and their commands."""
