"""Line-aware reading of the project's YAML files, and their validation errors.

Every file schema (campaign, template, rule pack, lint pack, roles, KPI targets, rule segments) is a
pydantic model that forbids unknown keys. This module reads a file into a mapping together with the line
of every key, and turns a validation error into the file's `FileSchemaError` naming the file, the line,
the dotted key and the problem, e.g. `example.yaml:7: key 'segment.rfm_segmnt': unknown key; allowed
keys are [...]`.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, NoReturn

import yaml
from pydantic import BaseModel, ConfigDict, PlainValidator, ValidationError
from pydantic_core import PydanticCustomError

from file_schemas.schema_errors import FileSchemaError

Location = tuple[str | int, ...]


@dataclass(frozen=True)
class KeyLines:
    """The 1-based line of every mapping key and sequence item of a YAML document, by location."""

    lines: Mapping[Location, int] = field(default_factory=dict)

    def line_of(self, location: Location) -> int | None:
        """The line of `location`, else of its nearest enclosing key that has one (None for none)."""
        current = tuple(location)
        while current:
            if current in self.lines:
                return self.lines[current]
            current = current[:-1]
        return None


NO_LINES = KeyLines()


class FileModel(BaseModel):
    """Base of every file schema: unknown keys are errors, and a parsed file is immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def read_mapping(path: str | Path, error: type[FileSchemaError],
                 allow_empty: bool = False) -> tuple[dict[str, Any], KeyLines]:
    """Read a YAML file whose top level must be a mapping, with the line of every key.

    With `allow_empty`, a file holding nothing (or only comments) reads as an empty mapping.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise error(path, None, f"cannot be read ({exc.strerror})") from exc
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise error(path, None, f"is not valid YAML ({exc})", mark.line + 1 if mark else None) from exc
    finally:
        loader.dispose()
    if data is None and allow_empty:
        return {}, NO_LINES
    if not isinstance(data, dict):
        raise error(path, None, "must contain a mapping of keys at the top level",
                    node.start_mark.line + 1 if node is not None else None)
    lines: dict[Location, int] = {}
    _collect_lines(node, (), lines)
    return data, KeyLines(lines)


def _collect_lines(node: yaml.Node, prefix: Location, lines: dict[Location, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                location = (*prefix, key_node.value)
                lines[location] = key_node.start_mark.line + 1
                _collect_lines(value_node, location, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            location = (*prefix, index)
            lines[location] = item.start_mark.line + 1
            _collect_lines(item, location, lines)


def validate_file(model: type[FileModel], data: Mapping[str, Any], source: str | Path,
                  error: type[FileSchemaError], lines: KeyLines = NO_LINES,
                  context: Mapping[str, Any] | None = None) -> Any:
    """`model` validated from `data`, or the file's error for the first problem found.

    Problems are reported in the order of the model's fields (the order the files are documented in),
    except that an unknown key comes before any other problem of its mapping: a typo never hides behind
    the "is required" it causes.
    `context` reaches validators that need more than the value (e.g. the check names a pack may use).
    """
    try:
        return model.model_validate(dict(data), context=dict(context) if context else None)
    except ValidationError as exc:
        raise_file_error(exc, model, source, error, lines)


def raise_file_error(exc: ValidationError, model: type[BaseModel], source: str | Path,
                     error: type[FileSchemaError], lines: KeyLines) -> NoReturn:
    """Raise the file's error for the first problem of a pydantic validation error."""
    items = exc.errors(include_url=False)
    item = items[min(range(len(items)), key=lambda i: _report_order(items, i))]
    location: Location = tuple(item["loc"]) + tuple((item.get("ctx") or {}).get("at", ()))
    problem = _problem(item, model)
    raise error(source, dotted(location) or None, problem, lines.line_of(location)) from None


def _report_order(items: list[Any], index: int) -> float:
    """Where an error is reported: in field order, but an unknown key before anything else in its mapping."""
    item = items[index]
    if item["type"] != "extra_forbidden":
        return float(index)
    parent = tuple(item["loc"])[:-1]
    return min(i for i, other in enumerate(items) if tuple(other["loc"])[:len(parent)] == parent) - 0.5


def dotted(location: Location) -> str:
    """`('variants', 0, 'template', 'id')` → `variants[0].template.id`."""
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def fail(problem: str, *at: str | int) -> NoReturn:
    """Reject a value from inside a model validator; `at` is the key below the model that is wrong."""
    raise PydanticCustomError("file_problem", "{problem}", {"problem": problem, "at": tuple(at)})


def _problem(item: Mapping[str, Any], model: type[BaseModel]) -> str:
    kind, value = item["type"], item.get("input")
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, tuple(item["loc"])[:-1])
        return f"unknown key; allowed keys are {allowed}"
    if kind == "missing" or (kind in ("model_type", "model_attributes_type", "dict_type", "list_type",
                                      "tuple_type") and (value is None or value == "")):
        return "is required"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be a mapping, got {value!r}"
    if kind in ("list_type", "tuple_type"):
        return f"must be a list, got {value!r}"
    message = str(item["msg"])
    return message.removeprefix("Value error, ")


def _allowed_keys(model: type[BaseModel], location: Location) -> list[str]:
    current: Any = model
    for part in location:
        current = _item_model(current, part)
        if current is None:
            return []
    return sorted(current.model_fields) if isinstance(current, type) and issubclass(current, BaseModel) else []


def _item_model(annotation: Any, part: str | int) -> Any:
    """The model reached from `annotation` by one location step (a field name or a list index)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if isinstance(part, int) or part not in annotation.model_fields:
            return None
        return _unwrap(annotation.model_fields[part].annotation)
    if isinstance(part, int):
        args = [arg for arg in typing.get_args(annotation) if arg is not Ellipsis]
        return _unwrap(args[0]) if args else None
    return None


def _unwrap(annotation: Any) -> Any:
    """`annotation` without `Annotated` and `| None`; a sequence type stays one, for the next (index) step."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        options = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return _unwrap(options[0]) if len(options) == 1 else None
    return annotation


# Value checks shared by the schemas; each message matches what the files' documentation promises.

def kind_check(kinds: tuple[type, ...], name: str, optional: bool = False) -> Callable[[Any], Any]:
    """A validator accepting exactly these Python types (a YAML `yes` is no number); blank is missing."""

    def check(value: Any) -> Any:
        if value is None and optional:
            return None
        if value is None or value == "":
            raise ValueError("is required")
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            raise ValueError(f"must be {name}, got {value!r}")
        return value

    return check


Text = Annotated[str, PlainValidator(kind_check((str,), "a string"))]
Integer = Annotated[int, PlainValidator(kind_check((int,), "an integer"))]
Number = Annotated[float, PlainValidator(kind_check((int, float), "an integer or a number"))]
Flag = Annotated[bool, PlainValidator(kind_check((bool,), "true or false"))]
TextList = Annotated[tuple[Any, ...], PlainValidator(lambda value: tuple(kind_check((list,), "a list")(value)))]
