"""Run the benchmarks: `python bench/run.py --size full|small [--only NAME]`.

Results go to bench/results/<name>.json; each prints the naive baseline measured in the same run.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import setup_django  # noqa: E402

BENCHMARKS = ["import", "segments", "index_patch", "pages", "launch", "tasks", "metrics", "activity", "scores",
              "recommendations", "triggers"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=["full", "small"], default="full")
    parser.add_argument("--only", choices=BENCHMARKS)
    args = parser.parse_args()
    vendor = setup_django()
    for name in [args.only] if args.only else BENCHMARKS:
        module = __import__(f"bench.bench_{name}", fromlist=["run"])
        module.run(args.size, vendor)


if __name__ == "__main__":
    main()
