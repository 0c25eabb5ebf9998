"""A tolerant check of an OpenAPI 3.0/3.1 document, in place of a strict validator.

Real-world documents are imperfect, and a strict validator refuses most of them (and
took 7-8 s on the 363-operation Mudbase description to do so). This walks the document
once, repairs what has one meaning to a mock, and reports each repair as a `Problem`
(JSON pointer, line, what was done). It refuses, with the same pointer and line, only
what cannot be served: not OpenAPI 3.0/3.1, no paths, or a `$ref` an operation needs
that points nowhere.
"""

from __future__ import annotations

from typing import Any

from mockserver.contract.loading import Document, Problem, SpecError, escape, pointer_parts

# Keys whose values are data (examples, defaults...), not schema or document structure.
DATA_KEYS = {"example", "examples", "default", "enum", "const", "value"}
COMPOSITIONS = ("oneOf", "anyOf", "allOf")


def openapi_version(document: Document) -> str:
    """ "3.0" or "3.1", or a SpecError naming what the document is instead."""
    version = document.data.get("openapi")
    if isinstance(version, str) and version.startswith(("3.0.", "3.1.")) or version in ("3.0", "3.1"):
        return version[:3]
    if "swagger" in document.data:
        raise SpecError(f"{_at(document, '/swagger')}: Swagger 2.0 is not served; convert it to OpenAPI 3")
    raise SpecError(f"{_at(document, '/openapi')}: not an OpenAPI 3.0 or 3.1 document (openapi: {version!r})")


def repair(document: Document) -> list[Problem]:
    """Repair `document.data` in place; the warnings, in document order."""
    version = openapi_version(document)
    paths = document.data.get("paths")
    if not isinstance(paths, dict) or not paths:
        raise SpecError(f"{_at(document, '/paths')}: the document has no paths, so nothing to serve")
    walker = _Walker(document, version)
    walker.walk(document.data, "")
    walker.check_refs()
    return document.bundled + walker.problems


def _at(document: Document, pointer: str) -> str:
    return str(document.problem(pointer, "")).removesuffix(": ")


class _Walker:
    def __init__(self, document: Document, version: str) -> None:
        self.document = document
        self.version = version
        self.problems: list[Problem] = []
        self.refs: list[tuple[str, str]] = []  # (pointer of the $ref, target)

    def warn(self, pointer: str, message: str) -> None:
        self.problems.append(self.document.problem(pointer, message))

    def walk(self, node: Any, pointer: str) -> None:
        if isinstance(node, list):
            for index, item in enumerate(node):
                self.walk(item, f"{pointer}/{index}")
            return
        if not isinstance(node, dict):
            return
        self.repair_node(node, pointer)
        for key, value in node.items():
            if key in DATA_KEYS and not pointer.endswith(("/properties", "/responses")) or str(key).startswith("x-"):
                continue
            self.walk(value, f"{pointer}/{escape(key)}")

    def repair_node(self, node: dict, pointer: str) -> None:
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#"):
            self.refs.append((pointer, ref))
        if pointer.endswith("/responses"):
            for key in [key for key in node if not isinstance(key, str)]:  # YAML reads `200:` as a number
                node[str(key)] = node.pop(key)
        for keyword in COMPOSITIONS:
            if node.get(keyword) == []:
                del node[keyword]
                self.warn(f"{pointer}/{keyword}", f"empty {keyword}: ignored, as if absent")
        required = node.get("required")
        if isinstance(required, list) and len(set(map(str, required))) < len(required):
            node["required"] = list(dict.fromkeys(required))
            duplicates = sorted({name for name in required if required.count(name) > 1})
            self.warn(f"{pointer}/required", f"duplicate required entries {duplicates}: each counted once")
        schema_type = node.get("type")
        if isinstance(schema_type, list) and self.version == "3.0":
            self._type_array_in_30(node, schema_type, pointer)
        if "nullable" in node and self.version == "3.1":
            self._nullable_in_31(node, pointer)

    def _type_array_in_30(self, node: dict, types: list, pointer: str) -> None:
        others = [name for name in types if name != "null"]
        if "null" in types:
            node["nullable"] = True
        if len(others) == 1:
            node["type"] = others[0]
        else:
            del node["type"]
            if others:
                node.setdefault("anyOf", []).extend({"type": name} for name in others)
        self.warn(f"{pointer}/type", f"type {types} is OpenAPI 3.1; read as 3.0 says it (type and nullable)")

    def _nullable_in_31(self, node: dict, pointer: str) -> None:
        nullable = node.pop("nullable")
        if nullable is True:
            schema_type = node.get("type")
            if isinstance(schema_type, str):
                node["type"] = [schema_type, "null"]
            elif isinstance(schema_type, list) and "null" not in schema_type:
                node["type"] = [*schema_type, "null"]
        self.warn(f"{pointer}/nullable", "nullable is OpenAPI 3.0; read as a type that also allows null")

    def check_refs(self) -> None:
        """A `$ref` that points nowhere is a warning where no operation needs it, else a refusal."""
        broken = [(pointer, ref) for pointer, ref in self.refs if not self._resolves(ref)]
        if not broken:
            return
        used = self._reachable()
        for pointer, ref in broken:
            if any(pointer == root or pointer.startswith(root + "/") for root in used):
                raise SpecError(f"{_at(self.document, pointer)}: $ref {ref} points nowhere, and an operation uses it")
            self.warn(pointer, f"$ref {ref} points nowhere; no operation uses it")

    def _resolves(self, ref: str) -> bool:
        node: Any = self.document.data
        for part in pointer_parts(ref[1:]):
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return False
        return True

    def _reachable(self) -> set[str]:
        """Pointers of the paths and of every component an operation reaches through $refs."""
        by_component: dict[str, list[str]] = {}
        roots = {"/paths", "/webhooks"}
        for pointer, ref in self.refs:
            owner = _component_of(pointer)
            by_component.setdefault(owner or _path_root(pointer), []).append(ref[1:])
        reached = set()
        pending = [target for root in roots for target in by_component.get(root, [])]
        while pending:
            target = _component_of(pending.pop()) or ""
            if target and target not in reached:
                reached.add(target)
                pending.extend(by_component.get(target, []))
        return reached | roots


def _component_of(pointer: str) -> str | None:
    """/components/schemas/Pet for any pointer inside that component."""
    parts = pointer.split("/")
    return "/".join(parts[:4]) if len(parts) >= 4 and parts[1] == "components" else None


def _path_root(pointer: str) -> str:
    return "/".join(pointer.split("/")[:2])
