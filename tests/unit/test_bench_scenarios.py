"""make bench measures only answers it checked: in process, each of its scenarios gets
the statuses it expects from the mock, from the mock validating with openapi-core alone,
and from the bare app (a scenario that does not raises, and the bench stops)."""

from __future__ import annotations

import sys

from support import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

import bench  # noqa: E402
import in_process  # noqa: E402

from mockserver import settings  # noqa: E402
from mockserver.pipeline.security.tokens import issue_token  # noqa: E402


def test_every_scenario_gets_its_expected_statuses_in_process(capsys):
    token = issue_token(settings.jwt_secret(), bench.MORGAN, bench.LOGIN["email"], 3600)
    chosen = bench.scenarios(ROOT / "openapi.yaml", token)
    in_process.measure(chosen, count=20)
    printed = capsys.readouterr().out
    assert [line.split("  ")[0] for line in printed.splitlines()[2:]] == [scenario.name for scenario in chosen]
