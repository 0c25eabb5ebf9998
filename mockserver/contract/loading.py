"""Reading an OpenAPI document: YAML or JSON, `$ref`s to other files bundled in, and the
line of every JSON pointer, so that each warning and refusal can name where it is.

YAML is parsed once (libyaml when present) into its node tree, from which the data is
built; the tree stays to answer `line(pointer)`. Dates stay strings, as in JSON.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml

from mockserver.contract.pointers import escape, pointer_parts

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loading without YAML 1.1 timestamps: `2024-01-15` stays the string JSON has."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}


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

    def line(self, pointer: str) -> int | None:
        node = self.node
        if node is None:
            return None
        for part in pointer_parts(pointer):
            if isinstance(node, yaml.MappingNode):
                node = next((value for key, value in node.value if key.value == part), None)
            elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
                node = node.value[int(part)]
            else:
                node = None
            if node is None:
                return None
        return node.start_mark.line + 1


def read_source(path: Path) -> SourceFile:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot read the document: {exc}") from None
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        try:  # JSON that YAML 1.1 refuses (rare): no lines, but served
            return SourceFile(path, json.loads(text), None)
        except ValueError:
            mark = getattr(exc, "problem_mark", None)
            where = f"{path}:{mark.line + 1}" if mark else str(path)
            reason = getattr(exc, "problem", None) or str(exc)
            raise SpecError(f"{where}: not YAML or JSON: {reason}") from None
    return SourceFile(path, data, node)


@dataclass
class Document:
    """The main file's data with other files' `$ref`s bundled in, and where things are."""

    path: Path
    data: dict[str, Any]
    main: SourceFile
    bundled: list[Problem] = field(default_factory=list)  # one note per $ref to another file
    files: list[Path] = field(default_factory=list)  # every file read: the main one, then those $ref'd

    def line(self, pointer: str) -> int | None:
        return self.main.line(pointer)

    def problem(self, pointer: str, message: str) -> Problem:
        return Problem(pointer, self.line(pointer), message, str(self.path))


def load_document(path: Path) -> Document:
    main = read_source(path)
    if not isinstance(main.data, dict):
        raise SpecError(f"{path}: not an OpenAPI document (the top level is not an object)")
    document = Document(path, main.data, main, files=[path.resolve()])
    if _has_external_refs(main.data):
        bundler = _Bundler(document)
        bundler.bundle()
        document.files = list(bundler.files)
    return document


def _has_external_refs(node: Any) -> bool:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            return True
        return any(_has_external_refs(value) for value in node.values())
    if isinstance(node, list):
        return any(_has_external_refs(value) for value in node)
    return False


class _Bundler:
    """Replaces each `$ref` to another file with the part it points to (its own `$ref`s,
    local to that file, followed in turn), as Prism and swagger-cli bundle documents."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self.files: dict[Path, SourceFile] = {document.path.resolve(): document.main}

    def bundle(self) -> None:
        self.document.data = self._walk(self.document.data, self.document.path.resolve(), "", ())

    def _walk(self, node: Any, base: Path, pointer: str, stack: tuple[str, ...]) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and (not ref.startswith("#") or base != self.document.path.resolve()):
                return self._inline(ref, base, pointer, stack)
            return {key: self._walk(value, base, f"{pointer}/{escape(key)}", stack) for key, value in node.items()}
        if isinstance(node, list):
            return [self._walk(value, base, f"{pointer}/{index}", stack) for index, value in enumerate(node)]
        return node

    def _inline(self, ref: str, base: Path, pointer: str, stack: tuple[str, ...]) -> Any:
        file_part, _, fragment = ref.partition("#")
        target_path = (base.parent / unquote(file_part)).resolve() if file_part else base
        key = f"{target_path}#{fragment}"
        where = self.document.problem(pointer, "")
        if key in stack:
            raise SpecError(f"{_where(where)}: $ref {ref} refers back to itself across files; cannot be bundled")
        if target_path not in self.files:
            if not target_path.is_file():
                raise SpecError(f"{_where(where)}: $ref {ref}: no such file {target_path}")
            self.files[target_path] = read_source(target_path)
        target: Any = self.files[target_path].data
        for part in pointer_parts(fragment):
            if isinstance(target, dict) and part in target:
                target = target[part]
            elif isinstance(target, list) and part.isdigit() and int(part) < len(target):
                target = target[int(part)]
            else:
                raise SpecError(f"{_where(where)}: $ref {ref}: {target_path.name} has no #{fragment}")
        if pointer and base == self.document.path.resolve():
            self.document.bundled.append(
                self.document.problem(pointer, f"$ref {ref} to another file: bundled in from {target_path.name}")
            )
        return self._walk(copy.deepcopy(target), target_path, pointer, (*stack, key))


def _where(problem: Problem) -> str:
    return str(problem).removesuffix(": ")
