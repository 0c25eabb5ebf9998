"""A tolerant check of an OpenAPI 3.0/3.1 document, in place of a strict validator.

Real-world documents are imperfect, and a strict validator refuses most of them (and
took 7-8 s on the 363-operation Mudbase description to do so). This walks the document
once, repairs what has one meaning to a mock, and reports each repair as a `Problem`
(JSON pointer, line, what was done). It refuses, with the same pointer and line, only
what cannot be served: not OpenAPI 3.0/3.1, no paths, or a `$ref` an operation needs
that points nowhere or back to its own schema with no property or item between (`A:
{allOf: [$ref: A]}`: no value could ever be checked against it).

Its work is linear in the document (loading.py bounds the document's size): each node is
seen once a place it has, and every check is a look-up, never a scan of a list.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from mockserver.contract.loading import Document, Problem, SpecError, escape, pointer_parts
from mockserver.contract.pointers import lookup_ref

# Keys whose values are data (examples, defaults...), not schema or document structure.
DATA_KEYS = {"example", "examples", "default", "enum", "const", "value"}
COMPOSITIONS = ("oneOf", "anyOf", "allOf")
# Where a schema applies the schemas under it to the same value (so a $ref there that
# leads back to the schema never ends); `properties`, `items`... apply them to a part.
IN_PLACE_LISTS = COMPOSITIONS
IN_PLACE = ("not", "if", "then", "else")
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_MISSING = object()
MAX_NESTING = 8  # options within options looked into for a discriminator's values


def _refuses_null(node: dict, version: str) -> bool:
    """Whether a schema's own `type` refuses null (nothing else looked into)."""
    types = node.get("type")
    if isinstance(types, str):
        return types != "null" and not (version == "3.0" and node.get("nullable") is True)
    return isinstance(types, list) and bool(types) and "null" not in types


def _named_values(prop: Any) -> list[str]:
    """The strings a property schema names as its values (`const`, an `enum`, alone or in
    the non-null options of an anyOf/oneOf); [] where it names none."""
    if not isinstance(prop, dict):
        return []
    values = [prop["const"]] if "const" in prop else prop.get("enum")
    if isinstance(values, list):
        return [value for value in values if isinstance(value, str)]
    options = [
        option for option in [*(prop.get("anyOf") or []), *(prop.get("oneOf") or [])] if isinstance(option, dict)
    ]
    return [value for option in options if option.get("type") != "null" for value in _named_values(option)]


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
    if walker.added_schemas:
        document.data["components"]["schemas"].update(walker.added_schemas)
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
        self.added_schemas: dict[str, dict] = {}  # added to components/schemas once the walk is done

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
            if _is_operation_responses(pointer):
                for key in [key for key in node if not _is_response_key(key)]:
                    del node[key]
                    message = f"response key {key[:40]!r} is neither a status (200, 4XX) nor default: ignored"
                    self.warn(f"{pointer}/{escape(key)}", message)
        for keyword in COMPOSITIONS:
            if node.get(keyword) == []:
                del node[keyword]
                self.warn(f"{pointer}/{keyword}", f"empty {keyword}: ignored, as if absent")
        required = node.get("required")
        if isinstance(required, list) and len(set(map(str, required))) < len(required):
            node["required"] = list(dict.fromkeys(required))
            counts = Counter(map(str, required))
            duplicates = sorted(name for name, count in counts.items() if count > 1)
            self.warn(f"{pointer}/required", f"duplicate required entries {duplicates}: each counted once")
        schema_type = node.get("type")
        if isinstance(schema_type, list) and self.version == "3.0":
            self._type_array_in_30(node, schema_type, pointer)
        if "nullable" in node and self.version == "3.1":
            self._nullable_in_31(node, pointer)
        for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
            if exclusive in node:
                self._exclusive_bound(node, exclusive, bound, pointer)
        if isinstance(node.get("discriminator"), dict):
            self._implicit_mapping(node, pointer)
        if "default" in node and node["default"] is None and _refuses_null(node, self.version):
            # openapi-core fills a missing property with its default before validating it
            # (the OpenAI description's `noise_reduction: {type: object, default: null}`).
            del node["default"]
            self.warn(f"{pointer}/default", "default null, which the schema's type refuses: ignored")

    def _implicit_mapping(self, node: dict, pointer: str) -> None:
        """A discriminator without a mapping names each option by its schema's name
        (`#/components/schemas/{value}`), but documents commonly mean the values their
        option's property allows (`role: {enum: [developer]}` in ChatCompletionRequestDeveloperMessage;
        an inline option, which has no name, by its place: `#/.../oneOf/1`),
        or that an option's own options allow (the OpenAI description's `InputItem`, whose
        `Item` option is a `oneOf` of 27 item types): those values are mapped to their
        option, so that valid values are not refused. A value that several options allow
        is mapped to a schema added for it, any of those options."""
        discriminator = node["discriminator"]
        name = discriminator.get("propertyName")
        mapping = discriminator.get("mapping") if isinstance(discriminator.get("mapping"), dict) else {}
        allowing: dict[str, list[str]] = {}  # value -> the options that allow it
        options = [
            option.get("$ref", f"#{pointer}/{keyword}/{index}")  # an inline one by where it is
            for keyword in ("oneOf", "anyOf")
            for index, option in enumerate(node.get(keyword) or [])
            if isinstance(option, dict)
        ]
        refs = [
            ref for ref in options if isinstance(ref, str) and ref.startswith(("#/components/schemas/", f"#{pointer}/"))
        ]
        # A value that names an option's schema is that option's already (Cat and Dog, each
        # allOf a Pet whose petType allows both): it is not mapped to another.
        named = {*mapping, *(ref.removeprefix("#/components/schemas/") for ref in refs)}
        for ref in refs:
            self._allowing(allowing, named, ref, name)
        added = {value: refs[0] if len(refs) == 1 else self._any_of(value, refs) for value, refs in allowing.items()}
        if added:
            discriminator["mapping"] = {**mapping, **added}
            shown = ", ".join(sorted(added)[:5]) + (", ..." if len(added) > 5 else "")
            self.warn(
                f"{pointer}/discriminator",
                f"no mapping for the values {shown} of {name!r}, which name no schema: each mapped to the option"
                " whose property allows it",
            )

    def _allowing(self, allowing: dict[str, list[str]], named: set[str], ref: str, name: str) -> None:
        """Note `ref` under each value of `name` its schema allows that names no schema yet."""
        for value in self._values_of(lookup_ref(self.document.data, ref, None), name, MAX_NESTING):
            if value not in named and ref not in allowing.get(value, ()):
                allowing.setdefault(value, []).append(ref)

    def _values_of(self, schema: Any, name: str, depth: int) -> list[str]:
        """The values of the property `name` that `schema` allows one at a time: the one
        value of its property (or of its allOf parts'), or those of its options'."""
        schema = self._resolved(schema)
        if not isinstance(schema, dict) or depth <= 0:
            return []
        named = _named_values(self._resolved(schema.get("properties", {}).get(name)))
        if named:
            return named
        for part in schema.get("allOf") or []:  # the first part that names them
            found = self._values_of(part, name, depth - 1)
            if found:
                return found
        options = [*(schema.get("oneOf") or []), *(schema.get("anyOf") or [])]
        return [value for option in options for value in self._values_of(option, name, depth - 1)]

    def _resolved(self, node: Any) -> Any:
        if isinstance(node, dict) and isinstance(node.get("$ref"), str):
            return lookup_ref(self.document.data, node["$ref"], None)
        return node

    def _any_of(self, value: str, refs: list[str]) -> str:
        """A schema added under components/schemas (after the walk) that is any of `refs`."""
        base = "MockserverAnyOf_" + "".join(c if c.isalnum() or c in "._-" else "_" for c in value)
        schemas = self.document.data.setdefault("components", {}).setdefault("schemas", {})
        name, number = base, 1
        while name in schemas or name in self.added_schemas:
            number += 1
            name = f"{base}_{number}"
        self.added_schemas[name] = {"anyOf": [{"$ref": ref} for ref in refs]}
        return f"#/components/schemas/{name}"

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

    def _exclusive_bound(self, node: dict, exclusive: str, bound: str, pointer: str) -> None:
        """`exclusiveMinimum` (or `...Maximum`) in the other version's form: a boolean beside
        `minimum` in 3.0, the bound itself in 3.1. The OpenAI description's 3.1
        `{minimum: 0, exclusiveMinimum: true}` reads as "more than 1" to a 3.1 validator
        (true is 1): every learning rate below 1 was refused."""
        value = node[exclusive]
        if self.version == "3.1" and isinstance(value, bool):
            if value and isinstance(node.get(bound), int | float) and not isinstance(node[bound], bool):
                node[exclusive] = node.pop(bound)
            else:
                del node[exclusive]
            self.warn(f"{pointer}/{exclusive}", f"a boolean {exclusive} is OpenAPI 3.0; read as 3.0 says it")
        elif self.version == "3.0" and isinstance(value, int | float) and not isinstance(value, bool):
            existing = node.get(bound)
            stricter = isinstance(existing, int | float) and (
                existing > value if bound == "minimum" else existing < value
            )
            if stricter:  # {minimum: 5, exclusiveMinimum: 3} is `at least 5`
                del node[exclusive]
            else:
                node[bound], node[exclusive] = value, True
            self.warn(f"{pointer}/{exclusive}", f"a numeric {exclusive} is OpenAPI 3.1; read as 3.1 says it")

    def _nullable_in_31(self, node: dict, pointer: str) -> None:
        nullable = node.pop("nullable")
        if nullable is True:
            schema_type = node.get("type")
            if isinstance(schema_type, str):
                node["type"] = [schema_type, "null"]
            elif isinstance(schema_type, list) and "null" not in schema_type:
                node["type"] = [*schema_type, "null"]
            elif schema_type is None and "discriminator" not in node:
                # No type, its values in options (the OpenAI description's `tracing`: `nullable`
                # and a oneOf of a string and an object, `default: null`): null is one more option.
                # Unless an option allows it already (StopConfiguration's string is nullable):
                # in a oneOf, null would then match two.
                for keyword in ("anyOf", "oneOf"):
                    options = node.get(keyword)
                    # Read as 3.0 reads it: an option not walked yet may still say `nullable`.
                    resolved = [self._resolved(option) for option in options] if isinstance(options, list) else []
                    if resolved and all(isinstance(each, dict) and _refuses_null(each, "3.0") for each in resolved):
                        node[keyword] = [*options, {"type": "null"}]
                        break
        self.warn(f"{pointer}/nullable", "nullable is OpenAPI 3.0; read as a type that also allows null")

    def check_refs(self) -> None:
        """A `$ref` that points nowhere, or back to its own schema in place, is a warning
        where no operation needs it, else a refusal."""
        broken = [(pointer, ref, "points nowhere") for pointer, ref in self.refs if not self._resolves(ref)]
        message = "leads back to this schema with no property or item between: no value can be checked against it"
        broken += [(pointer, ref, message) for pointer, ref in self._in_place_cycles()]
        if not broken:
            return
        used = self._reachable()
        for pointer, ref, reason in broken:
            if (_component_of(pointer) or _path_root(pointer)) in used:
                raise SpecError(f"{_at(self.document, pointer)}: $ref {ref} {reason}, and an operation uses it")
            self.warn(pointer, f"$ref {ref} {reason}; no operation uses it")

    def _resolves(self, ref: str) -> bool:
        return lookup_ref(self.document.data, ref, _MISSING) is not _MISSING

    def _in_place_cycles(self) -> list[tuple[str, str]]:
        """(pointer, ref) of each $ref that closes a cycle of schemas applied in place: the
        schema at its target applies, through $refs and compositions only, the schema the
        $ref is in. A depth-first walk with an explicit stack, each schema walked once."""
        edges: dict[str, list[tuple[str, str, str]]] = {}  # schema -> (target, pointer, ref) it applies in place
        for pointer, ref in self.refs:
            target = "".join(f"/{escape(part)}" for part in pointer_parts(ref[1:]))
            for owner in _in_place_owners(pointer):
                edges.setdefault(owner, []).append((target, pointer, ref))
        cycles: list[tuple[str, str]] = []
        state: dict[str, bool] = {}  # schema -> True while walked, False once done
        for start in edges:
            if start in state:
                continue
            state[start] = True
            stack = [(start, iter(edges[start]))]
            while stack:
                schema, pending = stack[-1]
                step = next(pending, None)
                if step is None:
                    state[schema] = False
                    stack.pop()
                    continue
                target, pointer, ref = step
                if state.get(target) is True:
                    cycles.append((pointer, ref))
                elif target not in state:
                    state[target] = True
                    stack.append((target, iter(edges.get(target, ()))))
        return list(dict.fromkeys(cycles))

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


def _in_place_owners(pointer: str) -> list[str]:
    """`pointer` and each schema that applies it in place: /A/allOf/0/not -> /A/allOf/0, /A."""
    parts = pointer.split("/")
    owners = [pointer]
    while True:
        if len(parts) > 2 and parts[-2] in IN_PLACE_LISTS and parts[-1].isdigit():
            parts = parts[:-2]
        elif len(parts) > 1 and parts[-1] in IN_PLACE:
            parts = parts[:-1]
        else:
            return owners
        owners.append("/".join(parts))


def _is_operation_responses(pointer: str) -> bool:
    parts = pointer.split("/")
    return len(parts) == 5 and parts[1] == "paths" and parts[3] in HTTP_METHODS


def _is_response_key(key: str) -> bool:
    """200, 4XX (any case), default, or an extension (x-...)."""
    if key == "default" or key.startswith("x-"):
        return True
    return len(key) == 3 and key[0] in "12345" and (key[1:].isascii() and key[1:].isdigit() or key[1:].upper() == "XX")
