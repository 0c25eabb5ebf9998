"""The contract suite's coverage report (contract_tests/coverage.py): responses matched to
their operation and declared status, undeclared statuses and content types, the shares,
and CONTRACT_COVERAGE_MIN."""

from __future__ import annotations

import json

import pytest
from support import ROOT

from contract_tests.coverage import Coverage, minimum_share
from mockserver.contract.index import Contract

BOOKINGS = ROOT / "tests" / "specs" / "bookings.yaml"
PETSTORE = ROOT / "tests" / "specs" / "petstore.yaml"


def test_responses_count_for_their_operation_and_declared_status():
    coverage = Coverage(Contract(BOOKINGS))
    base = "http://127.0.0.1:9/v1"
    coverage.record("POST", f"{base}/bookings", 201, "application/json", "test_a")
    coverage.record("GET", f"{base}/bookings/6b2f7a3e-1c1d-4c55-9d59-0d7c3f1f2a10", 404, "application/json", "test_b")
    coverage.record("GET", f"{base}/bookings/x/notes", 500, "text/html", "test_c")
    coverage.record("GET", f"{base}/tags/vip", 200, "text/html", "test_d")  # declared JSON
    coverage.record("GET", f"{base}/nowhere", 200, "application/json", "test_e")  # no operation
    report = coverage.document()
    by_id = {o["operationId"]: o for o in report["operations"]}
    assert by_id["createBooking"]["statuses"] == {"201": ["test_a"]}
    assert by_id["getBooking"]["statuses"] == {"200": [], "404": ["test_b"]}
    assert by_id["listNotes"]["undeclared"] == {"500": ["test_c"]}
    assert by_id["getTag"]["undeclared"] == {"200 text/html": ["test_d"]}
    assert report["operationsCovered"] == 4 and report["operationsTotal"] == 11
    assert report["statusesCovered"] == 3
    assert report["undeclared"] == 2
    lines = coverage.lines()
    assert any(line.startswith("GET /bookings/{bookingId} ") and "200✗ 404✓" in line for line in lines)
    assert lines[-1].startswith("operations covered: 4/11 (36%)")


def test_a_literal_path_wins_over_a_template():
    coverage = Coverage(Contract(PETSTORE))
    coverage.record("GET", "http://h/api/v3/pet/findByStatus?status=sold", 200, "application/json", "t")
    by_id = {o["operationId"]: o for o in coverage.document()["operations"]}
    assert by_id["findPetsByStatus"]["statuses"]["200"] == ["t"]
    assert not any(by_id["getPetById"]["statuses"].values())


def test_the_report_is_written_as_json(tmp_path):
    coverage = Coverage(Contract(BOOKINGS))
    coverage.write(tmp_path / "reports" / "coverage.json")
    assert json.loads((tmp_path / "reports" / "coverage.json").read_text())["operationsTotal"] == 11


@pytest.mark.parametrize("text, share", [("0.8", 0.8), ("80%", 0.8), ("80", 0.8), ("", None)])
def test_the_minimum_share(monkeypatch, text, share):
    monkeypatch.setenv("CONTRACT_COVERAGE_MIN", text)
    assert minimum_share() == share


def test_a_minimum_past_everything_is_refused(monkeypatch):
    monkeypatch.setenv("CONTRACT_COVERAGE_MIN", "150%")
    with pytest.raises(ValueError, match="CONTRACT_COVERAGE_MIN"):
        minimum_share()
