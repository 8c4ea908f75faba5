"""Roles files: `users: {name: role}`, who may act on campaigns and templates in which role."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import PlainValidator

from campaigns.campaign_errors import PermissionDenied, RolesFileError
from file_schemas.yaml_source import FileModel, read_mapping, validate_file

ROLES: frozenset[str] = frozenset({"analyst", "marketer", "compliance", "admin"})


def _users(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or not value:
        raise ValueError("needs a non-empty mapping 'users: {name: role}'")
    for user, role in value.items():
        if role not in ROLES:
            raise ValueError(f"user {user!r} has unknown role {role!r}; use {sorted(ROLES)}")
    return {str(user): str(role) for user, role in value.items()}


class RolesFileModel(FileModel):
    """The roles file format."""

    users: Annotated[dict[str, str], PlainValidator(_users)]


def load_roles(path: str | Path) -> dict[str, str]:
    """Read a roles file: user name → role (analyst, marketer, compliance, admin).

    Raises:
        RolesFileError: naming the file, the line and the offending key.
    """
    data, lines = read_mapping(path, RolesFileError)
    model: RolesFileModel = validate_file(RolesFileModel, data, path, RolesFileError, lines)
    return dict(model.users)


class RolesFile:
    """A roles file as a role directory (`role_of`); read on every look-up, so edits apply at once."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def role_of(self, user: str) -> str | None:
        """The user's role, or None when the file does not list them.

        Raises:
            PermissionDenied: there is no roles file (nobody has a role; fail closed).
            RolesFileError: the file is malformed.
        """
        if not self.path.is_file():
            raise PermissionDenied(f"no roles file ({self.path}); set FINGROWTH_ROLES")
        return load_roles(self.path).get(user)
