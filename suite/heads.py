"""A model with a head on each direction (Bidirectional with merge_mode=None), scored three ways.

`training` and the tagger stack the two heads' probabilities on a last axis, forward first. Each
head is scored as a model of its own, and so is the mean of their probabilities: the three rows a
two-headed model gives in every table, named after it (`bilstm_none_forw`, ...).
"""

TWO_HEADS = "bilstm_none"
HEADS = {"forw": lambda p: p[..., 0], "back": lambda p: p[..., 1],
         "ave": lambda p: p.mean(axis=-1)}
# The names of the heads' layers, which name their losses and metrics in Keras's logs
# ("forward_head_loss", ...); the mean of the heads has none.
LAYERS = {"forw": "forward_head", "back": "backward_head"}


def scored(name, probabilities):
    """{row name: probabilities}: a one-headed model's own, or the three readings of the
    two-headed model's (..., 2) probabilities."""
    if name == TWO_HEADS:
        return {f"{name}_{head}": read(probabilities) for head, read in HEADS.items()}
    return {name: probabilities}


def row_names(name):
    """The rows model `name` gives in the tables."""
    return [f"{name}_{head}" for head in HEADS] if name == TWO_HEADS else [name]


def layer_of(row_name):
    """The head layer a row of the two-headed model reads; None for the mean of the heads."""
    return LAYERS.get(row_name.removeprefix(f"{TWO_HEADS}_"))
