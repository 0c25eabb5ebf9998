"""The contract suite's lifecycle checks (contract_tests/lifecycle.py) against the mock and
against Prism, on one document: `make lifecycles SPEC=FILE`.

Does a mock remember what it was told? Each server is started on a free 127.0.0.1 port
(Prism's install is bench.py's), every resource inferred from the document gets its
lifecycle (create, read back, listed, paged once, filtered, merge, replace, delete,
unknown ID, two IDs), and the table gives, per check, how many resources passed, failed
or had it skipped on each. Figures, not assertions: the assertions are
tests/api/test_lifecycles.py (the mock) and tests/api/test_lifecycle_teeth.py.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

from bench import PRISM_BIN, ROOT, free_port, prism_installed, start, stop

sys.path.insert(0, str(ROOT))

from contract_tests.lifecycle import CHECKS, FAILED, PASSED, Credentials, Lifecycles  # noqa: E402
from mockserver.contract.index import Contract  # noqa: E402
from mockserver.pipeline.security.schemes import DEFAULT_API_KEY  # noqa: E402
from mockserver.pipeline.security.tokens import issue_token  # noqa: E402
from mockserver.resources import infer  # noqa: E402

SECRET = "lifecycle-benchmark-secret-0123456789abcdefghijklmnopqrstuvwxyz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spec", type=Path, default=ROOT / "tests" / "specs" / "bookings.yaml")
    args = parser.parse_args()
    spec = args.spec.resolve()
    contract = Contract(spec)
    model = infer(contract)
    token = issue_token(SECRET, "usr_morgan_de", "morgan.chen@northwind.dev", 3600)
    credentials = Credentials(token, DEFAULT_API_KEY, "morgan.chen@northwind.dev:morgan-demo-password")
    mockserver = str(Path(sys.executable).with_name("mockserver"))
    servers = {"mock": lambda port: [mockserver, "serve", "--port", str(port), "--spec", str(spec)]}
    if prism_installed():
        servers["prism"] = lambda port: [str(PRISM_BIN), "mock", "-h", "127.0.0.1", "-p", str(port), str(spec)]
    env = {**os.environ, "MOCKSERVER_JWT_SECRET": SECRET}
    results: dict[str, Counter] = {}
    for name, command in servers.items():
        port = free_port()
        target = start(name, command(port), port, env)
        try:
            started = time.perf_counter()
            # Prism serves the paths as written, without the servers' base path.
            base = target.url + (contract.base_path if name == "mock" else "")
            lifecycles = Lifecycles(contract, model, base, credentials)
            counts: Counter = Counter()
            for resource in model.resources:
                for check in lifecycles.run(resource):
                    counts[check.name, check.outcome] += 1
                    if check.outcome == FAILED and name != "mock":
                        print(f"{name}: {check.line().splitlines()[0][:160]}")
            results[name] = counts
            print(f"{name}: {time.perf_counter() - started:.1f} s")
        finally:
            stop(target)
    names = list(results)
    print(f"\nlifecycle checks on {spec.name} ({len(model.resources)} resources): passed/failed/skipped")
    print(f"{'check':<12}" + "".join(f"{name:>16}" for name in names))
    for check in CHECKS:
        cells = [(results[n][check, PASSED], results[n][check, FAILED], results[n][check, "skipped"]) for n in names]
        row = "".join(f"{passed:>10}/{failed}/{skipped:<4}" for passed, failed, skipped in cells)
        print(f"{check:<12}{row}")


if __name__ == "__main__":
    main()
