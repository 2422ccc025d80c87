"""PyTorch that computes what Keras computes: the plain PyTorch scripts' optimizer and losses.

Used by pytorch/bilstm_pytorch.py and pytorch/text_classify_pytorch.py, which never import Keras:

- `KerasAdam`: Adam with its epsilon where Keras adds it (PyTorch adds it elsewhere);
- `binary_crossentropy` and `categorical_crossentropy`: Keras's losses on probabilities, with
  Keras's clip of the probabilities to [1e-7, 1 - 1e-7] (PyTorch's own losses clamp each log at
  -100 instead);
- `write_results`: a run's files, its record naming plain PyTorch as the backend.

A script checks for PyTorch with `environment.require` before it imports this module.
"""

import math

import torch
import torch.nn.functional as F

EPSILON = 1e-7  # Keras's backend.epsilon(): its loss clip and its Adam's epsilon


class KerasAdam(torch.optim.Adam):
    """Adam with its epsilon where Keras adds it.

    Both libraries step by lr * m_hat / (denominator), with the same defaults but epsilon
    (PyTorch 1e-8, Keras 1e-7). PyTorch's denominator is sqrt(v_hat) + eps = sqrt(v) /
    sqrt(1 - beta2^t) + eps; Keras's is (sqrt(v) + eps) / sqrt(1 - beta2^t), the bias
    correction folded into its step size. Giving PyTorch eps / sqrt(1 - beta2^t) at step t makes
    the two the same.
    """

    def __init__(self, parameters, lr=0.001, betas=(0.9, 0.999), eps=EPSILON):
        super().__init__(parameters, lr=lr, betas=betas, eps=eps)
        self.keras_epsilon, self.steps = eps, 0

    def step(self, closure=None):
        self.steps += 1
        for group in self.param_groups:
            group["eps"] = self.keras_epsilon / math.sqrt(1 - group["betas"][1] ** self.steps)
        return super().step(closure)


def binary_crossentropy(probabilities, y, clip=True):
    """Keras's binary_crossentropy: the probabilities clipped to [1e-7, 1 - 1e-7], then the mean
    over the steps. (PyTorch's F.binary_cross_entropy alone clamps each log at -100 instead.)"""
    if clip:
        probabilities = probabilities.clamp(EPSILON, 1 - EPSILON)
    return F.binary_cross_entropy(probabilities, y)


def categorical_crossentropy(probabilities, labels):
    """Keras's categorical_crossentropy on softmax probabilities and class numbers, averaged over
    the batch: each row normalised to sum to one, clipped to [1e-7, 1 - 1e-7], -log of the true
    class's probability. (On TensorFlow, Keras reads the softmax's logits instead when it can:
    the same number but where a probability reaches the clip.)"""
    probabilities = probabilities / probabilities.sum(dim=-1, keepdim=True)
    probabilities = probabilities.clamp(EPSILON, 1 - EPSILON)
    return -torch.log(probabilities.gather(-1, labels[:, None])).mean()


def write_results(args, tables, figures, name):
    """outputs.write_results with the run's record, its backend named as plain PyTorch."""
    from suite import outputs

    record = outputs.run_record(name, args)
    record["backend"] = f"plain PyTorch {torch.__version__}"
    tables = {**tables, f"results/{name}_run.csv": record}
    outputs.write_results(args.output_dir, tables, figures, name=name, quiet=args.quiet)
