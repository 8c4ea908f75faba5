"""The error of a malformed file: which file, which line, which key, and what is wrong."""

from __future__ import annotations

from pathlib import Path


class FileSchemaError(ValueError):
    """A file does not match its schema.

    Attributes:
        path: The file that failed to load.
        key: The offending key (dotted for nested keys), or None for file-level problems.
        line: The 1-based line of the offending key in the file, or None when unknown (e.g. a mapping
            that did not come from a file, or a required key that is absent at the top level).
        problem: What is wrong, in words.
    """

    def __init__(self, path: str | Path, key: str | None, problem: str, line: int | None = None) -> None:
        self.path = str(path)
        self.key = key
        self.line = line
        self.problem = problem
        super().__init__(self.describe())

    def describe(self) -> str:
        """`name.yaml:LINE: key 'a.b': problem (file PATH)`; subclasses may word it otherwise."""
        name = Path(self.path).name + (f":{self.line}" if self.line is not None else "")
        where = f"{name}: key '{self.key}'" if self.key else name
        return f"{where}: {self.problem} (file {self.path})"
