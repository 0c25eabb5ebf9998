"""The mutation score of `make mutation`: mutmut's results, less the mutants listed as
equivalent in tests/mutation-equivalents.txt (each with its reason).

Exits 1 when a surviving mutant is neither killed nor listed, or a listed one no longer
survives (the list must stay true).
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EQUIVALENTS = ROOT / "tests" / "mutation-equivalents.txt"


def equivalents() -> dict[str, str]:
    """Mutant name -> why no test can tell it from the original ("name: reason" lines)."""
    listed = {}
    for line in EQUIVALENTS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, reason = line.partition(": ")
            if not reason.strip():
                sys.exit(f"{EQUIVALENTS.name}: {name} has no reason")
            listed[name.strip()] = reason.strip()
    return listed


def results() -> dict[str, str]:
    """Mutant name -> status (killed, survived, timeout, ...), as mutmut reports them."""
    mutmut = Path(sys.executable).with_name("mutmut")
    out = subprocess.run(
        [str(mutmut), "results", "--all", "true"], cwd=ROOT, capture_output=True, text=True, timeout=300, check=True
    ).stdout
    pairs = (line.strip().rpartition(": ") for line in out.splitlines() if ": " in line)
    return {name: status for name, _, status in pairs}


DETECTED = {"killed", "timeout", "segfault", "suspicious", "caught by type check"}
SURVIVED = {"survived", "no tests"}


def main() -> int:
    statuses, listed = results(), equivalents()
    survivors = {name for name, status in statuses.items() if status in SURVIVED}
    detected = sum(status in DETECTED for status in statuses.values())
    equivalent = survivors & listed.keys()
    unexplained = sorted(survivors - listed.keys())
    stale = sorted(name for name in listed if name not in survivors)
    not_run = len(statuses) - detected - len(survivors)
    scored = detected + len(unexplained)
    counts = Counter(statuses.values())
    print(f"mutants: {len(statuses)} ({', '.join(f'{s} {n}' for s, n in sorted(counts.items()))})")
    print(f"equivalent (listed in {EQUIVALENTS.relative_to(ROOT)}): {len(equivalent)}")
    print(f"mutation score: {detected}/{scored} = {100 * detected / max(scored, 1):.1f}% (equivalents left out)")
    if not_run:
        print(f"NOT RUN: {not_run} mutants; run `mutmut run` to the end")
    for name in unexplained:
        print(f"SURVIVED, neither killed nor listed: {name}   (mutmut show {name})")
    if unexplained:
        # mutmut keeps each verdict until the mutated function changes: a new test needs a re-run.
        print("after adding a test, `.venv/bin/mutmut run NAME` checks a survivor again")
    for name in stale:
        print(f"LISTED as equivalent but {statuses.get(name, 'gone')}: {name}")
    return 1 if unexplained or stale or not_run else 0


if __name__ == "__main__":
    sys.exit(main())
