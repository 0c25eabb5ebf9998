"""Reading an OpenAPI document: YAML or JSON, `$ref`s to other files bundled in, and the
line of every JSON pointer, so that each warning and refusal can name where it is.

YAML is parsed once (libyaml when present) into its node tree, from which the data is
built; the tree stays to answer `line(pointer)`. Dates stay strings, as in JSON.

Every file is bounded before its data is built (MAX_DOCUMENT_* below): its size, and
its node tree as the data would be, YAML aliases expanded (a "billion laughs" of 1.5 KB
would be billions of values), nested no deeper than a limit, and without an alias to a
node that contains it (data without end). The bundled document is held to the same
bounds. So every later walk of the data (repairs, generator, validators) is bounded too:
a hostile document is refused with its file, line and reason.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml

from mockserver.contract.pointers import array_index, escape, objects, pointer_parts

# Bounds of an OpenAPI document (`--spec`) and of the files its $refs bring in, so that
# start-up on any input ends within seconds, serving or refusing with file, line and
# reason. Bytes: of each file, and of all of them together. Values: every mapping,
# sequence, key and scalar of the data, YAML aliases expanded (an alias stands for a copy
# of its anchor), in each file and in the bundled document. Levels: of nesting, so that
# the walks over the data (several Python frames a level) stay far from the recursion
# limit. The 363-operation Mudbase description is 1.3 MB, 81,000 values and 16 levels.
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
MAX_DOCUMENT_NODES = 1_000_000
MAX_DOCUMENT_DEPTH = 128

# Where a schema is, by the last part of its pointer, or by the one before it.
_SCHEMA_KEYS = {"schema", "items", "not", "additionalProperties", "additionalItems", "contains", "if", "then", "else"}
_SCHEMA_KEYS |= {"propertyNames", "unevaluatedItems", "unevaluatedProperties", "contentSchema"}
_SCHEMAS_KEYS = {"schemas", "properties", "patternProperties", "allOf", "anyOf", "oneOf", "prefixItems"}
_SCHEMAS_KEYS |= {"dependentSchemas", "$defs", "definitions"}


_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loading without YAML 1.1 timestamps: `2024-01-15` stays the string JSON has."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    """An integer, or a YAML error at its line for one that Python refuses to read (more
    than 4300 digits: a ValueError, and a traceback, before)."""
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_int(loader, node)
    except ValueError:
        limit = sys.get_int_max_str_digits()
        digits = f"an integer of {len(node.value)} characters: Python reads at most {limit} digits"
        raise yaml.constructor.ConstructorError(None, None, digits, node.start_mark) from None


_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)


class SpecError(Exception):
    """The document cannot be served: unreadable, or broken where it matters."""


@dataclass(frozen=True)
class Problem:
    """A warning (or the reason of a refusal) about one place of the document."""

    pointer: str  # RFC 6901, e.g. /components/schemas/Pet/required
    line: int | None
    message: str
    file: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: #{self.pointer}: {self.message}"


@dataclass
class SourceFile:
    path: Path
    data: Any
    node: yaml.Node | None  # None when parsed as plain JSON (no lines)
    size: int = 0  # bytes
    # Per mapping node (by id), its keys' value nodes: a look-up per pointer part, not a scan.
    _keys: dict[int, dict[Any, yaml.Node]] = field(default_factory=dict, repr=False, compare=False)

    def line(self, pointer: str) -> int | None:
        node = self.node
        if node is None:
            return None
        for part in pointer_parts(pointer):
            if isinstance(node, yaml.MappingNode):
                keys = self._keys.get(id(node))
                if keys is None:
                    keys = self._keys[id(node)] = {}
                    for key, value in node.value:
                        if isinstance(key, yaml.ScalarNode):
                            keys.setdefault(key.value, value)
                node = keys.get(part)
            elif isinstance(node, yaml.SequenceNode) and (index := array_index(part, len(node.value))) is not None:
                node = node.value[index]
            else:
                node = None
            if node is None:
                return None
        return node.start_mark.line + 1


def read_source(path: Path) -> SourceFile:
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as exc:
        raise SpecError(f"{path}: cannot read the document: {exc}") from None
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise SpecError(f"{path}: larger than the limit of {MAX_DOCUMENT_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        byte = f"byte 0x{raw[exc.start]:02x} at offset {exc.start}"
        raise SpecError(f"{path}:{line}: not YAML or JSON: {byte} is not UTF-8 (a binary file?)") from None
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is not None:
                _check_nodes(path, node)
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except RecursionError:  # the pure-Python composer (no libyaml) on deep nesting
        raise SpecError(f"{path}: nested deeper than the limit of {MAX_DOCUMENT_DEPTH} levels") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        try:  # JSON that YAML 1.1 refuses (rare): no lines, but served
            data = json.loads(text)
        except RecursionError:  # libyaml refuses past 1000 levels; json.loads then overflows
            raise SpecError(f"{where}: nested deeper than the limit of {MAX_DOCUMENT_DEPTH} levels") from None
        except ValueError:
            reason = getattr(exc, "problem", None) or str(exc)
            raise SpecError(f"{where}: not YAML or JSON: {reason}") from None
        _check_data(path, data)
        return SourceFile(path, data, None, len(raw))
    return SourceFile(path, data, node, len(raw))


def _check_nodes(path: Path, root: yaml.Node) -> None:
    """A SpecError unless the data of `root` is within the bounds, aliases expanded, and
    finite. Each collection node is visited once (a depth-first walk, an explicit stack):
    the values and levels under a node shared by aliases are counted once, then added up."""
    if isinstance(root, yaml.ScalarNode):
        return
    done: dict[int, tuple[int, int]] = {}  # id(node) -> (values, levels) of its data
    open_: set[int] = set()  # the nodes being walked: those that contain the current one
    shared = False  # whether a node was met again (through an alias)
    stack: list[tuple[yaml.Node, list[yaml.Node] | None, int]] = [(root, None, 0)]
    while stack:
        node, nested, scalars = stack.pop()
        key = id(node)
        if nested is not None:  # every nested collection is done: add them up
            open_.discard(key)
            values, levels = 1 + scalars, 1 if scalars else 0  # levels below this node
            for child in nested:
                child_values, child_levels = done[id(child)]
                values += child_values
                levels = max(levels, child_levels)
            levels += 1
            if values > MAX_DOCUMENT_NODES or levels > MAX_DOCUMENT_DEPTH:
                _out_of_bounds(f"{path}:{node.start_mark.line + 1}", values, levels, shared)
            done[key] = (values, levels)
        elif key in open_:
            where = f"{path}:{node.start_mark.line + 1}"
            raise SpecError(f"{where}: a YAML alias refers to a node that contains it: the data would never end")
        elif key in done:
            shared = True
        else:
            open_.add(key)
            children = node.value
            if isinstance(node, yaml.MappingNode):
                children = [part for pair in children for part in pair]
            nested = [child for child in children if not isinstance(child, yaml.ScalarNode)]
            stack.append((node, nested, len(children) - len(nested)))
            stack.extend((child, None, 0) for child in nested)


def _check_data(path: Path, data: Any) -> None:
    """`_check_nodes` for data read as JSON (a tree: nothing shared, no lines)."""
    values = 0
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, levels = stack.pop()
        values += 1
        if values > MAX_DOCUMENT_NODES or levels > MAX_DOCUMENT_DEPTH:
            _out_of_bounds(str(path), values, levels, False)
        if isinstance(node, dict):
            stack.extend((child, levels + 1) for pair in node.items() for child in pair)
        elif isinstance(node, list):
            stack.extend((child, levels + 1) for child in node)


def _out_of_bounds(where: str, values: int, levels: int, aliased: bool) -> None:
    if levels > MAX_DOCUMENT_DEPTH:
        raise SpecError(f"{where}: nested deeper than the limit of {MAX_DOCUMENT_DEPTH} levels")
    aliases = " once its YAML aliases are expanded" if aliased else ""
    raise SpecError(f"{where}: more than the limit of {MAX_DOCUMENT_NODES} values{aliases}")


@dataclass
class Document:
    """The main file's data with other files' `$ref`s bundled in, and where things are."""

    path: Path
    data: dict[str, Any]
    main: SourceFile
    bundled: list[Problem] = field(default_factory=list)  # a note per $ref to another file given a local name
    files: list[Path] = field(default_factory=list)  # every file read: the main one, then those $ref'd

    def line(self, pointer: str) -> int | None:
        return self.main.line(pointer)

    def problem(self, pointer: str, message: str) -> Problem:
        return Problem(pointer, self.line(pointer), message, str(self.path))


def load_document(path: Path) -> Document:
    main = read_source(path)
    if not isinstance(main.data, dict):
        line = main.node.start_mark.line + 1 if main.node is not None else 1
        found = "the file is empty" if main.data is None else f"the top level is a {type(main.data).__name__}"
        raise SpecError(f"{path}:{line}: not an OpenAPI document ({found}, not an object)")
    document = Document(path, main.data, main, files=[path.resolve()])
    if _has_external_refs(main.data):
        bundler = _Bundler(document)
        bundler.bundle()
        document.files = list(bundler.files)
    return document


def _has_external_refs(data: Any) -> bool:
    for node in objects(data):
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            return True
    return False


class _Bundler:
    """Replaces each `$ref` to another file with the part it points to (its own `$ref`s,
    local to that file, followed in turn), as Prism and swagger-cli bundle documents.

    A schema that refers to itself, there or through other files, cannot be copied in:
    the first time it is reached it is placed under `#/components/schemas/<name>` (its
    pointer's last part, or its file's name; made unique), as redocly and swagger-cli
    bundle it, and each `$ref` to it, the recursive ones included, becomes a local one.
    A part that is not a schema and refers to itself is refused.

    The bundled document is new data (a copy of each part, the file's own data untouched),
    held to the bounds of one file: a value for each it holds, parts brought in by $refs
    (and YAML aliases) included, and levels counted across the files."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.main = document.path.resolve()
        self.files: dict[Path, SourceFile] = {self.main: document.main}
        self.paths: dict[tuple[Path, str], Path] = {}  # (base, file part of a $ref) -> the file, resolved once
        self.folders: dict[str, str] = {}  # a folder as $refs name it -> its real path
        self.values = 0
        self.bytes = document.main.size
        self.names: dict[str, str] = {}  # "file#fragment" of a schema that refers to itself -> its local name
        self.schemas: dict[str, Any] = {}  # local name -> the schema, bundled

    def bundle(self) -> None:
        self.document.data = self._walk(self.document.data, self.main, "", ())
        if self.schemas:
            components = self.document.data.setdefault("components", {})
            schemas = components.setdefault("schemas", {}) if isinstance(components, dict) else None
            if not isinstance(schemas, dict):
                where = _where(self.document.problem("/components", ""))
                raise SpecError(f"{where}: components.schemas is not an object: no place for the recursive schemas")
            schemas.update(self.schemas)

    def _walk(self, node: Any, base: Path, pointer: str, stack: tuple[str, ...], levels: int = 1) -> Any:
        self.values += 1
        if self.values > MAX_DOCUMENT_NODES or levels > MAX_DOCUMENT_DEPTH:
            limit = f"{MAX_DOCUMENT_DEPTH} levels" if levels > MAX_DOCUMENT_DEPTH else f"{MAX_DOCUMENT_NODES} values"
            # The line of the main file's $ref that brought this part in (the pointer, past it, is in other files).
            outer = pointer
            while outer and self.document.line(outer) is None:
                outer = outer.rpartition("/")[0]
            where = _where(Problem(pointer, self.document.line(outer), "", str(self.document.path)))
            raise SpecError(
                f"{where}: with the files its $refs name bundled in, the document passes the limit of {limit}"
            )
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and (not ref.startswith("#") or base != self.main):
                return self._inline(ref, base, pointer, stack, levels)
            return {
                key: self._walk(value, base, f"{pointer}/{escape(key)}", stack, levels + 1)
                for key, value in node.items()
            }
        if isinstance(node, list):
            return [self._walk(item, base, f"{pointer}/{index}", stack, levels + 1) for index, item in enumerate(node)]
        return node

    def _inline(self, ref: str, base: Path, pointer: str, stack: tuple[str, ...], levels: int) -> Any:
        file_part, _, fragment = ref.partition("#")
        if not file_part:
            self.paths[base, file_part] = base  # a local $ref of the file it is in
        elif (base, file_part) not in self.paths:
            # The directory resolved once (symlinks followed before `..`, as the system does),
            # not each file: DigitalOcean's 2,907 files had 7,891 distinct $ref targets, 0.4 s
            # of realpath walks.
            folder, _, file_name = unquote(file_part).rpartition("/")
            where = os.path.join(base.parent, folder)
            if where not in self.folders:
                self.folders[where] = os.path.realpath(where)
            self.paths[base, file_part] = Path(self.folders[where], file_name)
        target_path = self.paths[base, file_part]
        key = f"{target_path}#{fragment}"

        def where() -> str:
            return _where(self.document.problem(pointer, ""))

        if key in stack and key not in self.names:
            parts = pointer.split("/")
            if parts[-1] not in _SCHEMA_KEYS and (len(parts) < 3 or parts[-2] not in _SCHEMAS_KEYS):
                raise SpecError(f"{where()}: $ref {ref} refers back to itself across files; cannot be bundled")
            self.names[key] = self._name(target_path, fragment)
        if key in self.names:
            return self._named(key, ref, target_path, base, pointer)
        if target_path not in self.files:
            if not target_path.is_file():
                raise SpecError(f"{where()}: $ref {ref}: no such file {target_path}")
            self.files[target_path] = read_source(target_path)
            self.bytes += self.files[target_path].size
            if self.bytes > MAX_DOCUMENT_BYTES:
                limit = f"the limit of {MAX_DOCUMENT_BYTES} bytes"
                raise SpecError(f"{where()}: $ref {ref}: the files of the document together pass {limit}")
        target: Any = self.files[target_path].data
        for part in pointer_parts(fragment):
            if isinstance(target, dict) and part in target:
                target = target[part]
            elif isinstance(target, list) and (index := array_index(part, len(target))) is not None:
                target = target[index]
            else:
                raise SpecError(f"{where()}: $ref {ref}: {target_path.name} has no #{fragment}")
        bundled = self._walk(target, target_path, pointer, (*stack, key), levels)
        if key in self.names:  # it refers to itself: under its name, and a $ref to it here
            self.schemas[self.names[key]] = bundled
            return self._named(key, ref, target_path, base, pointer)
        return bundled  # copied in place, as the reader would: no warning (a multi-file document has thousands)

    def _named(self, key: str, ref: str, path: Path, base: Path, pointer: str) -> dict[str, str]:
        local = f"#/components/schemas/{self.names[key]}"
        if pointer and base == self.main:
            note = f"$ref {ref} to another file: bundled in from {path.name} as {local}"
            self.document.bundled.append(self.document.problem(pointer, note))
        return {"$ref": local}

    def _name(self, path: Path, fragment: str) -> str:
        """A name under components/schemas for the schema at `path#fragment`, unused."""
        parts = pointer_parts(fragment)
        name = re.sub(r"[^A-Za-z0-9._-]", "_", parts[-1] if parts else path.stem) or "schema"
        components = self.document.data.get("components")
        declared = components.get("schemas") if isinstance(components, dict) else None
        taken = {*self.names.values(), *(declared if isinstance(declared, dict) else ())}
        unique, number = name, 1
        while unique in taken:
            number += 1
            unique = f"{name}{number}"
        return unique


def _where(problem: Problem) -> str:
    return str(problem).removesuffix(": ")
