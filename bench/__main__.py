"""`make bench`: every benchmark, each printing its figures and checking its own results."""

import sys

from bench import engine_bench


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    engine_bench.main(n)


if __name__ == "__main__":
    main()
