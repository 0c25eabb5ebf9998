"""Loading a document of several files: the bundler. A schema that refers to itself
through other files (tests/specs/recursive/) is placed under components/schemas, as
redocly and swagger-cli bundle it (tests/api/test_any_document.py serves it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockserver.contract.index import Contract
from mockserver.contract.loading import SpecError, load_document
from mockserver.contract.pointers import lookup

RECURSIVE = Path(__file__).resolve().parents[1] / "specs" / "recursive" / "main.yaml"
JSON = "content/application~1json/schema"


def test_a_schema_that_refers_to_itself_through_another_file_is_named_under_components():
    data = load_document(RECURSIVE).data
    node = data["components"]["schemas"]["node"]  # schemas/node.yaml, its root: named after its file
    assert lookup(node, "/properties/children/items/properties/node") == {"$ref": "#/components/schemas/node"}
    assert node["required"] == ["name"]
    # The same file by two relative paths, and from another operation: one schema.
    for pointer in ("~1nodes/post/requestBody", "~1nodes/post/responses/201", "~1nodes~1{nodeId}/get/responses/200"):
        assert lookup(data["paths"], f"/{pointer}/{JSON}") == {"$ref": "#/components/schemas/node"}


def test_schemas_that_refer_to_each_other_across_files_are_named_where_the_cycle_is_entered():
    document = load_document(RECURSIVE)
    schemas = document.data["components"]["schemas"]
    assert list(schemas) == ["Problem", "node", "Person"]  # the document's own, then the named ones
    # people.yaml#/definitions/Person -> org.yaml#/Organization -> Person: the organization is copied in.
    members = lookup(schemas["Person"], "/properties/employer/properties/members")
    assert members["items"] == {"$ref": "#/components/schemas/Person"}
    # Reached on its own, the organization is copied in again, its $ref to Person a local one.
    organization = lookup(document.data, f"/paths/~1orgs~1{{orgId}}/get/responses/200/{JSON}")
    assert organization["required"] == ["id", "members"]
    assert organization["properties"]["members"]["items"] == {"$ref": "#/components/schemas/Person"}
    assert {path.name for path in document.files} == {"main.yaml", "node.yaml", "child.yaml", "people.yaml", "org.yaml"}


def test_a_ref_to_another_file_named_in_the_served_document_has_its_note_with_the_local_name():
    """Only the $refs given a name under components/schemas are noted (the document served
    has a schema its author did not write); one copied in place is not."""
    notes = [str(problem) for problem in load_document(RECURSIVE).bundled]
    assert len(notes) == 5
    assert any(
        note.endswith(
            "main.yaml:17: #/paths/~1nodes/post/responses/201/content/application~1json/schema: $ref "
            "./shared/../schemas/node.yaml to another file: bundled in from node.yaml as #/components/schemas/node"
        )
        for note in notes
    )
    assert all("as #/components/schemas/" in note for note in notes)  # not the organization, copied in


def write(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return tmp_path / "main.yaml"


MAIN = """\
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /a:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "%s"}
"""


def test_the_local_name_is_one_the_document_does_not_use(tmp_path):
    main = MAIN % "tree.yaml#/Tree%20node" + "components:\n  schemas:\n    Tree_node: {type: string}\n"
    tree = "Tree node:\n  properties:\n    next: {$ref: '#/Tree%20node'}\n"
    data = load_document(write(tmp_path, {"main.yaml": main, "tree.yaml": tree})).data
    assert data["components"]["schemas"]["Tree_node"] == {"type": "string"}
    named = data["components"]["schemas"]["Tree_node2"]  # `Tree node`, made a name, then one not taken
    assert named == {"properties": {"next": {"$ref": "#/components/schemas/Tree_node2"}}}


def test_a_part_that_is_not_a_schema_and_refers_to_itself_is_still_refused(tmp_path):
    main = MAIN % "tree.yaml#/Tree"
    tree = "Tree:\n  type: object\n  x-again: {$ref: '#/Tree'}\n"
    with pytest.raises(SpecError, match=r"x-again: \$ref #/Tree refers back to itself across files; cannot be bundled"):
        load_document(write(tmp_path, {"main.yaml": main, "tree.yaml": tree}))


def test_refs_across_files_with_no_schema_between_are_refused_as_a_local_cycle(tmp_path):
    files = {"main.yaml": MAIN % "a.yaml#/A", "a.yaml": "A: {$ref: 'b.yaml#/B'}", "b.yaml": "B: {$ref: 'a.yaml#/A'}"}
    with pytest.raises(SpecError, match="#/components/schemas/A leads back to this schema with no property or item"):
        Contract(write(tmp_path, files))


def test_a_ref_from_a_file_under_a_symlinked_folder_goes_up_from_where_the_link_points(tmp_path):
    # doc/schemas -> ../shared/schemas: `../common.yaml` from schemas/a.yaml is shared/common.yaml,
    # as the system reads the path (a textual normalisation would look for doc/common.yaml).
    (tmp_path / "shared" / "schemas").mkdir(parents=True)
    (tmp_path / "shared" / "schemas" / "a.yaml").write_text("A: {$ref: '../common.yaml#/C'}\n")
    (tmp_path / "shared" / "common.yaml").write_text("C: {type: object, properties: {x: {type: integer}}}\n")
    (tmp_path / "doc").mkdir()
    (tmp_path / "doc" / "schemas").symlink_to("../shared/schemas")
    main = tmp_path / "doc" / "main.yaml"
    main.write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    get:\n      responses:\n"
        "        '200':\n          description: ok\n          content:\n            application/json:\n"
        "              schema: {$ref: 'schemas/a.yaml#/A'}\n"
    )
    document = load_document(main)
    schema = lookup(document.data, "/paths/~1x/get/responses/200/content/application~1json/schema")
    assert schema == {"type": "object", "properties": {"x": {"type": "integer"}}}
    assert tmp_path.joinpath("shared", "common.yaml").resolve() in {path.resolve() for path in document.files}
