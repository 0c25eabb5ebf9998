"""Start-up time of the mock and of Prism on one document: `make startup SPEC=FILE`.

Each is started in turn, `--rounds` times, alternating which goes first, and timed from
the process start until it answers HTTP on 127.0.0.1 (Prism's install and the helpers
are bench.py's). Figures, not assertions.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

from bench import PRISM_BIN, ROOT, free_port, prism_installed, start, stop


def commands(spec: Path, port: int) -> dict[str, list[str]]:
    mockserver = str(Path(sys.executable).with_name("mockserver"))
    return {
        "mock": [mockserver, "serve", "--port", str(port), "--spec", str(spec)],
        "prism": [str(PRISM_BIN), "mock", "-h", "127.0.0.1", "-p", str(port), str(spec)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spec", type=Path, default=ROOT / "openapi.yaml")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    spec = args.spec.resolve()
    names = ["mock", "prism"] if prism_installed() else ["mock"]
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(args.rounds):
        order = names if round_number % 2 == 0 else names[::-1]
        for name in order:
            port = free_port()
            target = start(name, commands(spec, port)[name], port, dict(os.environ))
            times[name].append(target.started_in)
            stop(target)
    print(f"start-up on {spec} ({args.rounds} rounds, until it answers HTTP):")
    for name, values in times.items():
        listed = " ".join(f"{value:.2f}" for value in values)
        print(f"  {name:<6} median {statistics.median(values):5.2f} s   ({listed})")


if __name__ == "__main__":
    main()
