"""What real documents send and answer, as the mock reads and generates it: XML request
bodies read by the schemas' `xml` hints (tests/specs/petstore_xml.yaml), form fields
coerced only where the text fits (a boolean is true or false), 3.1 query parameters of a
type list (tests/specs/payments_31.yaml), and generated answers whose discriminators name
their option and whose oneOf options are told apart.
tests/process/test_served_documents.py runs schemathesis on the same documents."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockserver.server.app import create_app

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "tests" / "specs"
FIXTURES = ROOT / "fixtures"
SECRET = "served-bodies-tests-secret-0123456789abcdef"
XML = {"Content-Type": "application/xml"}
FORM = "application/x-www-form-urlencoded"


def client_for(name: str):
    return create_app(SPECS / name, FIXTURES, jwt_secret=SECRET).test_client()


@pytest.fixture(scope="module")
def petstore():
    return client_for("petstore_xml.yaml")


@pytest.fixture(scope="module")
def payments():
    return create_app(SPECS / "payments_31.yaml", FIXTURES, jwt_secret=SECRET)


# --- OpenAPI 3.1: type lists, discriminators, oneOf ------------------------------------------


@pytest.mark.parametrize(
    "query", ["?after=&limit=20", "?after=pay_1&limit=20", "?limit=20&captured=true", "?captured=false", ""]
)
def test_query_parameters_of_a_type_list_are_read(payments, query):
    # Today: every request is a 400 {"body": "Body cannot be decoded: Expected a string value, got <class 'list'>"}.
    response = payments.test_client().get(f"/payments{query}")
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize(
    "query, details",
    [
        ("?limit=twenty", {"limit": "'twenty' is not an integer"}),
        ("?limit=0", {"limit": "0 is less than the minimum of 1"}),
        ("?captured=maybe", {"captured": "'maybe' is not a boolean"}),
        ("?after=" + "x" * 41, {"after": "is too long"}),
    ],
)
def test_query_parameters_of_a_type_list_are_checked(payments, query, details):
    response = payments.test_client().get(f"/payments{query}")
    assert response.status_code == 400
    got = response.get_json()["details"]
    assert set(got) == set(details) and all(reason in got[field] for field, reason in details.items()), got
