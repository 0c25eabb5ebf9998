"""The proof of teeth of the lifecycle checks (contract_tests/lifecycle.py): against a
hand-written reference server of tests/specs/bookings.yaml (tests/bookings_server.py)
every check that applies passes and every answer conforms to the document; against each
of its broken variants the check aimed at the bug fails. A variant no lifecycle check
catches is named so (NOT CAUGHT), with the check it would need. Every answer is also
put to schemathesis's conformance checks, for the table's last column.

The table is printed at the end of the run (conftest.py's terminal summary)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import pytest
import schemathesis
from bookings_server import BUGS, make_app
from schemathesis.errors import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from suite_runs import TEETH_KEY
from support import ROOT

from contract_tests.lifecycle import FAILED, PASSED, Check, Credentials, Lifecycles
from mockserver.contract.index import Contract
from mockserver.resources import infer
from mockserver.server.serving import serve_in_background

SPEC = ROOT / "tests" / "specs" / "bookings.yaml"
CONTRACT = Contract(SPEC)
MODEL = infer(CONTRACT)
CONFORMANCE = [status_code_conformance, content_type_conformance, response_schema_conformance]

# Every check the document's operations allow: bookings have them all; notes no paging,
# merge, replace or delete; tags no list, change or delete, and their names are chosen.
APPLIES = {
    *(f"bookings: {name}" for name in ("create", "read back", "listed", "paged once", "filtered", "merge", "replace")),
    *(f"bookings: {name}" for name in ("delete", "unknown id", "two ids")),
    *(f"notes: {name}" for name in ("create", "read back", "listed", "unknown id", "two ids")),
    *(f"tags: {name}" for name in ("create", "read back", "unknown id")),
}
# variant -> the check aimed at it, or None where no lifecycle check is (and what would be)
AIMED = {
    "forgets-creates": "read back",
    "stale-reads": "merge",
    "patch-replaces": "merge",
    "put-drops-fields": "replace",
    "delete-nothing": "delete",
    "ignores-paging": "paged once",
    "ignores-filter": "filtered",
    "same-ids": "two ids",
    "500-unknown-id": "unknown id",
    "page-total": "paged once",
    "undeclared-status": "create",
}
# variant -> what check it would need, for a variant no lifecycle check catches (none now:
# the filter and an undeclared 2xx were, until the `filtered` check and the create's
# declared status)
NEEDED: dict[str, str] = {}


@dataclass
class Run:
    checks: list[Check]
    nonconforming: list[str]  # schemathesis's conformance failures, "METHOD /path: title"

    def lines(self, outcome: str) -> list[str]:
        return [f"{check.resource}: {check.name}" for check in self.checks if check.outcome == outcome]


@pytest.fixture(scope="module")
def schema() -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_path(SPEC)


@pytest.fixture(scope="module")
def table(pytestconfig) -> list[tuple[str, str, str]]:
    return pytestconfig.stash.setdefault(TEETH_KEY, [])


def run(bug: str | None, schema: schemathesis.BaseSchema) -> Run:
    """Every lifecycle check against the reference server, or its variant `bug`."""
    nonconforming: list[str] = []

    def conforms(response, *args, **kwargs) -> None:
        path = urlsplit(response.request.url).path.removeprefix(CONTRACT.base_path)
        operation = schema.find_operation_by_path(response.request.method, path)
        try:
            case = operation.Case(path_parameters=path_parameters(operation.path, path))
            case.validate_response(response, checks=CONFORMANCE)
        except FailureGroup as group:
            nonconforming.extend(f"{response.request.method} {path}: {f.title}" for f in group.exceptions)

    with serve_in_background(make_app(bug)) as url:
        lifecycles = Lifecycles(CONTRACT, MODEL, url + CONTRACT.base_path, Credentials(token="any-token"))
        lifecycles.session.hooks["response"].append(conforms)
        checks = [check for resource in lifecycles.checkable() for check in lifecycles.run(resource)]
    return Run(checks, nonconforming)


def path_parameters(template: str, path: str) -> dict[str, str]:
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    match = re.fullmatch(pattern, path)
    return {name: unquote(value) for name, value in match.groupdict().items()} if match else {}


def conformance_cell(result: Run) -> str:
    titles = sorted({line.split(": ", 1)[1] for line in result.nonconforming})
    return "; ".join(titles) or "nothing"


def test_every_variant_has_a_row():
    assert set(AIMED) == set(BUGS)


def test_the_reference_passes_every_lifecycle_check_and_conforms(schema, table):
    result = run(None, schema)
    assert result.lines(FAILED) == [], "\n".join(c.line() for c in result.checks if c.outcome == FAILED)
    assert set(result.lines(PASSED)) == APPLIES, "a check that applies was skipped"
    assert result.nonconforming == []
    table.append(("(the reference)", f"0 failed, {len(APPLIES)} passed", conformance_cell(result)))


@pytest.mark.parametrize("bug", list(AIMED))
def test_each_variant_fails_the_check_aimed_at_it(bug: str, schema, table):
    result = run(bug, schema)
    failed = result.lines(FAILED)
    aimed = AIMED[bug]
    if aimed is not None and f"bookings: {aimed}" in failed:
        others = [line.removeprefix("bookings: ") for line in failed if line != f"bookings: {aimed}"]
        caught = aimed + (f" (also {', '.join(others)})" if others else "")
    else:
        caught = f"NOT CAUGHT: {NEEDED.get(bug, f'{aimed} passed')}"
    table.append((bug, caught, conformance_cell(result)))
    if aimed is None:
        # Said so, not hidden: should a check come to catch it, this row must change.
        assert failed == [], f"{bug} is now caught by {failed}: update AIMED"
    else:
        assert f"bookings: {aimed}" in failed, f"{bug} ({BUGS[bug]}) passed {aimed}; failed: {failed}"
    if bug == "undeclared-status":  # schemathesis's status_code_conformance sees it too
        assert "POST /bookings: Undocumented status code" in result.nonconforming, result.nonconforming


def test_the_reference_keeps_what_no_lifecycle_check_reaches():
    """The filter, JSON patches, a tag's 409 and the bearer scheme, through the test
    client; and the filter bug is real, where no lifecycle check looks."""
    for bug in (None, "ignores-filter"):
        client = make_app(bug).test_client()
        auth = {"Authorization": "Bearer any-token"}
        created = client.post(
            "/v1/bookings", json={"passenger": "Ada", "flight": "BA117", "status": "held"}, headers=auth
        )
        assert created.status_code == 201
        booking = created.json["data"]
        listed = client.get("/v1/bookings?status=confirmed", headers=auth).json
        assert [item["id"] for item in listed["data"]] == ([] if bug is None else [booking["id"]])
        if bug is not None:
            continue
        assert client.get("/v1/bookings?status=held", headers=auth).json["pagination"]["total"] == 1
        assert client.get("/v1/bookings", headers={}).status_code == 401
        patch = [{"op": "test", "path": "/seats", "value": 1}, {"op": "replace", "path": "/seats", "value": 3}]
        patched = client.patch(
            f"/v1/bookings/{booking['id']}",
            data=json.dumps(patch),
            headers=auth,
            content_type="application/json-patch+json",
        )
        assert patched.status_code == 200 and patched.json["data"]["seats"] == 3
        wrong = client.patch(
            f"/v1/bookings/{booking['id']}",
            data=json.dumps([{"op": "remove", "path": "/id"}]),
            headers=auth,
            content_type="application/json-patch+json",
        )
        assert wrong.status_code == 400 and wrong.json["status"] == 400
        assert client.post("/v1/tags", json={"name": "vip"}, headers=auth).status_code == 201
        assert client.post("/v1/tags", json={"name": "vip"}, headers=auth).status_code == 409
        assert client.get("/v1/tags/vip", headers=auth).json == {"name": "vip"}
        assert client.delete(f"/v1/bookings/{booking['id']}", headers=auth).status_code == 204
        assert client.get(f"/v1/bookings/{booking['id']}/notes", headers=auth).status_code == 404
