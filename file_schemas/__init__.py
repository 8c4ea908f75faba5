"""Typed file schemas: line-aware YAML reading and validation errors that name file, line and key.

No Dagster and no other project package here: campaigns, dashboards and segments build their file
schemas (pydantic models that forbid unknown keys) on this.
"""

from file_schemas.schema_errors import FileSchemaError
from file_schemas.yaml_source import (
    NO_LINES,
    FileModel,
    KeyLines,
    dotted,
    fail,
    raise_file_error,
    read_mapping,
    validate_file,
)

__all__ = ["NO_LINES", "FileModel", "FileSchemaError", "KeyLines", "dotted", "fail", "raise_file_error",
           "read_mapping", "validate_file"]
