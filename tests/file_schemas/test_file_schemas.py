"""Line-aware YAML reading: a schema error names the file, the line of the key and the dotted key."""

import pytest
from pydantic import model_validator

from file_schemas import FileModel, FileSchemaError, fail, read_mapping, validate_file


class Inner(FileModel):
    id: str
    version: int


class Outer(FileModel):
    name: str
    items: list[Inner] = []

    @model_validator(mode="after")
    def _distinct(self) -> "Outer":
        ids = [item.id for item in self.items]
        if len(set(ids)) != len(ids):
            fail("ids must be distinct", "items")
        return self


def load(tmp_path, text):
    path = tmp_path / "thing.yaml"
    path.write_text(text, encoding="utf-8")
    data, lines = read_mapping(path, FileSchemaError)
    return validate_file(Outer, data, path, FileSchemaError, lines)


@pytest.mark.parametrize(("text", "line", "key", "problem"), [
    ("name: a\nitems:\n  - id: x\n    versoin: 1\n", 4, "items[0].versoin", "unknown key; allowed keys are ['id', 'version']"),
    ("name: a\nitems:\n  - id: x\n    version: one\n", 4, "items[0].version", "valid integer"),
    ("name: a\nitems:\n  - id: x\n    version: 1\n  - version: 2\n", 5, "items[1].id", "is required"),
    ("name: a\nitems:\n  - {id: x, version: 1}\n  - {id: x, version: 2}\n", 2, "items", "ids must be distinct"),
    ("nmae: a\n", 1, "nmae", "unknown key"),
])
def test_errors_name_the_line_and_the_dotted_key(tmp_path, text, line, key, problem):
    with pytest.raises(FileSchemaError) as raised:
        load(tmp_path, text)
    error = raised.value
    assert (error.line, error.key) == (line, key) and problem in error.problem
    assert str(error).startswith(f"thing.yaml:{line}: key '{key}': ")


def test_a_file_that_is_not_a_mapping_or_not_yaml(tmp_path):
    with pytest.raises(FileSchemaError, match="thing.yaml:1: must contain a mapping"):
        load(tmp_path, "- a\n- b\n")
    with pytest.raises(FileSchemaError, match=r"thing.yaml:2: is not valid YAML"):
        load(tmp_path, "name: a\n  items: [\n")
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing yet\n", encoding="utf-8")
    assert read_mapping(path, FileSchemaError, allow_empty=True)[0] == {}
