"""The four tutorial sections one after another, with their defaults: what `make demo` runs.

It prints and writes what the four commands print and write,

    python lstm_baseline.py
    python bilstm_classify.py
    python compare_directions.py
    python compare_merge_modes.py

but in one process, so Keras starts once and each model's compiled training program is built
once: the LSTM of the first section and the BiLSTM of the second train with the same programs
as the comparisons that follow. Like them, it writes under runs/ unless told otherwise;
`make demo OUT=.` rewrites the committed plots/ and results/.

    python demo.py
"""

import time

import bilstm_classify
import compare_directions
import compare_merge_modes
import lstm_baseline
from suite import cli

SECTIONS = [lstm_baseline, bilstm_classify, compare_directions, compare_merge_modes]


def parse_args(argv=None):
    parser = cli.ArgumentParser(__name__, description=__doc__)
    cli.add_output_argument(parser)
    parser.add_argument("--quiet", action="store_true", help="print only the final tables")
    return cli.parse(parser, argv)


def main(argv=None, section_flags=()):
    """Run the four sections; `section_flags` go to each of them (the tests give a tiny budget)."""
    args = parse_args(argv)
    flags = (list(section_flags) + ["--output-dir", str(args.output_dir)]
             + (["--quiet"] if args.quiet else []))
    start = time.perf_counter()
    for section in SECTIONS:
        print(f"\n$ python {section.__name__}.py {' '.join(flags)}\n", flush=True)
        section.main(flags)
    output_dir = args.output_dir.resolve()
    print(f"\nThe four sections took {time.perf_counter() - start:.1f} s. "
          f"Plots: {output_dir / 'plots'}  Results: {output_dir / 'results'}")


if __name__ == "__main__":
    main()
