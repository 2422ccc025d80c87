"""What a run holds in memory, estimated before it starts, against what the machine has.

Each script states its own needs: it passes `cli.parse` a function of its parsed flags that
returns `(bytes, flag, in words)`, usually `training_memory` with the script's own numbers, and
`cli.parse` refuses a run the machine cannot hold with one line naming the flag, exit 2.
"""

from pathlib import Path

GIB = 2**30


def training_memory(repeats, timesteps, units, sequences, eval_sequences, checkpoints=1,
                    sequences_flag="--epochs"):
    """What training the tutorial's models on the cumulative-sum problem holds at once, roughly,
    in bytes: (bytes, flag, in words).

    The terms, for the largest setting of a run: the training sequences of every seed (float32
    values and int32 labels, stacked from one seed's float64 draws); the held-out sequences with
    one set of predictions per checkpoint and, for each of the two models that train side by
    side, the LSTM outputs of predicting all of them at once; and for those two models every
    seed's weights with Adam's two moments and a gradient. `flag` names the largest term;
    `sequences_flag` is the flag that sets the number of training sequences.
    """
    weights = 2 * (4 * units * (units + 2) + 2 * units + 1)  # a BiLSTM, the largest model
    terms = {
        sequences_flag: ("training sequences", (repeats + 1) * sequences * timesteps * 16),
        "--eval-sequences": ("held-out sequences, predictions and activations",
                             repeats * eval_sequences * timesteps
                             * (8 + 4 * checkpoints + 2 * 4 * 2 * units)),
        "--units": ("weights and optimizer state", 2 * repeats * 4 * 4 * weights),
    }
    flag = max(terms, key=lambda name: terms[name][1])
    what = ", ".join(f"{name} {size / GIB:,.1f} GiB" for name, size in terms.values())
    return sum(size for _, size in terms.values()), flag, what


def section_memory(args):
    """`training_memory` for the flags of `cli.add_common_arguments` (and --heldout-every)."""
    every = getattr(args, "heldout_every", 0)
    return training_memory(args.repeats, args.timesteps, args.units, args.epochs,
                           args.eval_sequences,
                           checkpoints=1 + (args.epochs // every if every else 0))


def available_memory():
    """Bytes this process can still allocate: the least of the system's available memory and
    the room left under a cgroup limit; None where neither can be read."""
    limits = []
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    limits.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError):
        pass
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit != "max":
            used = int(Path("/sys/fs/cgroup/memory.current").read_text())
            limits.append(int(limit) - used)
    except (OSError, ValueError):
        pass
    return min(limits) if limits else None


def too_much(needed):
    """None if `needed` bytes fit in the memory available, else the problem in words."""
    available = available_memory()
    if available is None or needed <= available:
        return None
    return f"more than the {available / GIB:,.1f} GiB of memory available"
