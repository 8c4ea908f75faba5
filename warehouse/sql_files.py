"""SQL that lives beside the domain code that owns it, loaded by name.

A domain package keeps its queries in `<package>/sql/<name>.sql`; `load_query("activity", "user_profile")`
returns the text. Queries take DuckDB named parameters (`$as_of`), never string formatting.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files


@cache
def load_query(package: str, name: str) -> str:
    """The text of `<package>/sql/<name>.sql`.

    Raises:
        FileNotFoundError: the package has no such query.
    """
    resource = files(package) / "sql" / f"{name}.sql"
    if not resource.is_file():
        raise FileNotFoundError(f"no query {name!r} in {package}/sql/")
    return resource.read_text(encoding="utf-8")
