"""What real documents send and answer, as the mock reads and generates it: XML request
bodies read by the schemas' `xml` hints (tests/specs/petstore_xml.yaml), form fields
coerced only where the text fits (a boolean is true or false), 3.1 query parameters of a
type list (tests/specs/payments_31.yaml), and generated answers whose discriminators name
their option and whose oneOf options are told apart.
tests/process/test_served_documents.py runs schemathesis on the same documents."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mockserver.pipeline.respond.negotiate import SchemaChecker
from mockserver.pipeline.security.tokens import issue_token
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


def bearer() -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, 'usr_morgan_de', 'morgan.chen@northwind.dev', 600)}"}


# --- XML bodies ----------------------------------------------------------------------------


PET = (
    "<pet><id>10</id><name>doggie</name><category><id>1</id><name>Dogs</name></category>"
    "<photoUrls><photoUrl>https://example.com/a.png</photoUrl><photoUrl>b.png</photoUrl></photoUrls>"
    "<tags><tag><id>3</id><name>good</name></tag></tags><status>sold</status></pet>"
)


@pytest.mark.parametrize(
    "body",
    [
        PET,
        # As schemathesis sends a pet with an empty category and no photos or tags.
        "<pet><id>10</id><name>doggie</name><category></category><photoUrls></photoUrls><tags></tags>"
        "<status>sold</status></pet>",
        '<?xml version="1.0" encoding="UTF-8"?>\n<pet xmlns="urn:pets">\n  <name>doggie</name>\n'
        "  <photoUrls/>\n</pet>\n",
    ],
)
def test_a_valid_xml_pet_is_accepted(petstore, body):
    # Today's openapi-core reading: 400 "<Element 'pet' at 0x...> is not of type 'object'".
    for method in (petstore.post, petstore.put):
        response = method("/api/v3/pet", data=body, headers={**XML, **bearer()})
        assert response.status_code == 200, response.get_json()


def test_an_order_s_id_is_its_attribute(petstore):
    body = (
        '<order id="10"><petId>198772</petId><quantity>7</quantity><shipDate>2000-01-01T00:00:00Z</shipDate>'
        "<status>placed</status><complete>false</complete></order>"
    )
    assert petstore.post("/api/v3/store/order", data=body, headers=XML).status_code == 200


@pytest.mark.parametrize(
    "path, body, details",
    [
        (
            "/api/v3/store/order",
            '<order id="x"><quantity>seven</quantity><complete>0</complete></order>',
            {
                "id": "'x' is not of type 'integer'",
                "quantity": "'seven' is not of type 'integer'",
                "complete": "'0' is not of type 'boolean'",
            },
        ),
        ("/api/v3/store/order", "<order><status>lost</status></order>", {"status": "'lost' is not one of"}),
        ("/api/v3/pet", "<pet><id>10</id></pet>", {"name": "required", "photoUrls": "required"}),
        (
            "/api/v3/pet",
            "<pet><name>a</name><photoUrls>a.png</photoUrls></pet>",
            {"photoUrls": "is not of type 'array'"},
        ),
        ("/api/v3/pet", "<pet><name>a</name><photoUrls/><category>Dogs</category></pet>", {"category": "not of type"}),
        ("/api/v3/pet", "<pet><name>doggie", {"body": "Malformed XML: no element found"}),
        ("/api/v3/pet", "not xml", {"body": "Malformed XML: syntax error"}),
    ],
)
def test_an_xml_body_that_breaks_its_schema_is_refused_naming_each_field(petstore, path, body, details):
    response = petstore.post(path, data=body, headers={**XML, **bearer()})
    assert response.status_code == 400
    got = response.get_json()["details"]
    assert set(got) == set(details), got
    for field, reason in details.items():
        assert reason in got[field], got


@pytest.mark.parametrize(
    "body",
    [
        # The "billion laughs": entities within entities.
        '<?xml version="1.0"?><!DOCTYPE pet [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><pet><name>&c;</name><photoUrls/></pet>',
        # An external entity: a file of the server's.
        '<?xml version="1.0"?><!DOCTYPE pet [<!ENTITY x SYSTEM "file:///etc/passwd">]><pet><name>&x;</name></pet>',
        '<!DOCTYPE pet SYSTEM "http://127.0.0.1:9/pet.dtd"><pet><name>a</name><photoUrls/></pet>',
    ],
)
def test_xml_with_a_document_type_declaration_is_refused(petstore, body):
    response = petstore.post("/api/v3/pet", data=body, headers={**XML, **bearer()})
    assert response.status_code == 400
    assert response.get_json()["details"] == {"body": "XML with a document type declaration (DTD) is refused"}


def test_xml_nested_too_deeply_is_refused(petstore):
    body = "<pet>" + "<a>" * 100 + "</a>" * 100 + "</pet>"
    response = petstore.post("/api/v3/pet", data=body, headers={**XML, **bearer()})
    assert response.status_code == 400
    assert "nested too deeply" in response.get_json()["details"]["body"]


# --- form bodies ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["0", "1", "yes", "no", "on", "off", "y", "t", ""])
def test_a_form_boolean_is_true_or_false_only(petstore, text):
    # openapi-core's caster reads each of these as a boolean: schemathesis's `complete=0` (ST201).
    response = petstore.post("/api/v3/store/order", data=f"id=10&complete={text}", content_type=FORM)
    assert response.status_code == 400
    assert response.get_json()["details"] == {"complete": f"{text!r} is not a boolean"}


@pytest.mark.parametrize("text", ["true", "false", "True", "FALSE"])
def test_a_form_boolean_written_true_or_false_is_accepted(petstore, text):
    assert petstore.post("/api/v3/store/order", data=f"id=10&complete={text}", content_type=FORM).status_code == 200


def test_the_forms_document_refuses_a_digest_of_0():
    client = client_for("forms.yaml")
    assert client.post("/subscriptions", data="email=a%40example.com&digest=true", content_type=FORM).status_code == 204
    response = client.post("/subscriptions", data="email=a%40example.com&digest=0", content_type=FORM)
    assert response.status_code == 400
    assert response.get_json()["details"] == {"digest": "'0' is not a boolean"}


FORM_ARRAYS = """
openapi: 3.0.3
info: {title: Form arrays, version: "1"}
paths:
  /pets:
    post:
      operationId: addPet
      requestBody:
        required: true
        content:
          application/x-www-form-urlencoded:
            schema:
              type: object
              required: [name, photoUrls]
              properties:
                name: {type: string}
                photoUrls: {type: array, items: {type: string}}
                flags: {type: array, items: {type: boolean}}
      responses:
        "201":
          description: Added
        "400":
          description: Invalid pet
"""


@pytest.mark.parametrize(
    "body, status",
    [
        ("name=a&photoUrls=x.png&photoUrls=y.png", 201),
        # One field is an array of one item (OpenAPI's `style: form, explode: true`): the same
        # bytes as the string schemathesis offers as an invalid `photoUrls=AAA`.
        ("name=a&photoUrls=x.png", 201),
        ("name=a", 201),  # an empty array: no field
        ("name=a&photoUrls=x&flags=true&flags=false", 201),
        ("name=a&photoUrls=x&flags=true&flags=0", 400),
    ],
)
def test_a_form_array_is_its_field_repeated(tmp_path, body, status):
    spec = tmp_path / "form_arrays.yaml"
    spec.write_text(FORM_ARRAYS)
    client = create_app(spec, FIXTURES, jwt_secret=SECRET).test_client()
    response = client.post("/pets", data=body, content_type=FORM)
    assert response.status_code == status, response.get_data(as_text=True)


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


def test_every_generated_answer_of_the_payments_is_valid(payments):
    # Today: three "no valid value generated" (a source matching both oneOf options) and the
    # events' discriminator naming no schema.
    assert app_problems(payments) == []


def test_a_discriminator_names_the_option_of_the_generated_value(payments):
    client = payments.test_client()
    events = client.get("/events").get_json()
    assert [event["type"] for event in events] == ["PaymentSucceeded"]  # the implicit mapping: the schema's name
    created = client.post(
        "/payments", json={"amount": 5, "currency": "EUR", "source": {"type": "card", "card": {"last4": "4242"}}}
    )
    assert created.status_code == 201
    assert created.get_json()["method"]["kind"] == "card"  # the explicit mapping's key


def test_a_source_under_oneof_and_unevaluated_properties_is_valid(payments):
    components = yaml.safe_load((SPECS / "payments_31.yaml").read_text())["components"]
    checker = SchemaChecker({"components": components}, "3.1")
    created = payments.test_client().post(
        "/payments", json={"amount": 5, "currency": "EUR", "source": {"type": "card", "card": {"last4": "4242"}}}
    )
    listed = payments.test_client().get("/payments").get_json()["data"]
    for payment in [created.get_json(), *listed]:
        # Not bank_account beside card: the source would match both options.
        assert set(payment["source"]) <= {"type", "card", "reference"}, payment
        assert checker.is_valid({"$ref": "#/components/schemas/Payment"}, payment), payment


def app_problems(app) -> list[str]:
    return [str(problem) for problem in app.extensions["mockserver.startup"]["problems"]]
