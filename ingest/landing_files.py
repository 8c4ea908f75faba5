"""The files of a landing folder: which belong to which source, in which format and encoding.

A landing folder holds one entry per source: `NAME.csv`, `NAME.jsonl`, `NAME.parquet` (any letter case,
`.csv.gz` and `.jsonl.gz` too), or a folder `NAME/` of such files (Hive-style `date=YYYY-MM-DD/`
partitions allowed). Entries starting with `.` or `_` are ignored. A file inside a source folder in any
other format stops the run with its name: data is never skipped without a word.

`_sources.yaml` in the landing folder declares what a file cannot say about itself:

```yaml
sources:
  users:
    encoding: gb18030   # default utf-8; any codec Python knows (gbk, gb18030, big5, utf-16, latin-1, …)
```

A text file is checked against its declared encoding; one that is not in it stops the run naming the
file and the offset of its first bad byte. Files in another encoding are transcoded to UTF-8 once, into a
scratch folder, for DuckDB to read.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, field_validator

from file_schemas import FileModel, FileSchemaError, read_mapping, validate_file

FORMATS = {".csv": "csv", ".csv.gz": "csv", ".jsonl": "jsonl", ".jsonl.gz": "jsonl", ".ndjson": "jsonl",
           ".parquet": "parquet"}
MANIFEST = "_sources.yaml"
CHUNK_BYTES = 16 * 2**20


class ContractError(ValueError):
    """The landing data breaks the input contract in a way that stops the run."""


@dataclass(frozen=True)
class LandingFile:
    path: Path
    relative: str
    format: str
    size: int

    @property
    def compressed(self) -> bool:
        return self.path.name.lower().endswith(".gz")


def file_format(name: str) -> str | None:
    """The format a file name says (`csv`, `jsonl`, `parquet`), in any letter case; None for others."""
    lower = name.lower()
    for suffix, kind in sorted(FORMATS.items(), key=lambda item: -len(item[0])):
        if lower.endswith(suffix):
            return kind
    return None


def find_source_files(landing: Path, source: str) -> list[LandingFile]:
    """All files of one source, sorted by their path relative to the landing folder.

    Raises:
        ContractError: a file inside the source's folder has a format the contract does not read.
    """
    found: list[Path] = []
    if landing.is_dir():
        for entry in landing.iterdir():
            if entry.is_file() and not entry.name.startswith((".", "_")):
                kind = file_format(entry.name)
                if kind and entry.name[: len(entry.name) - len(_suffix(entry.name))] == source:
                    found.append(entry)
    folder = landing / source
    unsupported = []
    if folder.is_dir():
        for path in folder.rglob("*"):
            if not path.is_file() or any(part.startswith((".", "_")) for part in path.relative_to(folder).parts):
                continue
            if file_format(path.name) is None:
                unsupported.append(path.relative_to(landing).as_posix())
            else:
                found.append(path)
    if unsupported:
        raise ContractError(
            f"{', '.join(sorted(unsupported)[:5])}{' …' if len(unsupported) > 5 else ''}: a source folder may hold "
            f"only {', '.join(sorted(FORMATS))} files (prefix a file with _ to leave it out); nothing was read")
    return [LandingFile(p, p.relative_to(landing).as_posix(), file_format(p.name) or "", p.stat().st_size)
            for p in sorted(found, key=lambda p: p.relative_to(landing).as_posix())]


def unknown_landing_entries(landing: Path, known: set[str]) -> list[str]:
    """Entries in the landing folder that name no source of the contract (reported, not read)."""
    names = []
    for entry in sorted(landing.iterdir()):
        if entry.name.startswith((".", "_")):
            continue
        stem = entry.name if entry.is_dir() else entry.name[: len(entry.name) - len(_suffix(entry.name))]
        if stem not in known or (entry.is_file() and file_format(entry.name) is None):
            names.append(entry.name)
    return names


def _suffix(name: str) -> str:
    lower = name.lower()
    for suffix in sorted(FORMATS, key=len, reverse=True):
        if lower.endswith(suffix):
            return name[len(name) - len(suffix):]
    return Path(name).suffix


class SourceOptions(FileModel):
    """What `_sources.yaml` may say about one source."""

    encoding: str = "utf-8"

    @field_validator("encoding")
    @classmethod
    def _known_codec(cls, value: str) -> str:
        try:
            return codecs.lookup(value).name
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}; use a codec name such as utf-8, gb18030 or gbk") from None


class LandingManifest(FileModel):
    """`_sources.yaml`: options per source (every key a source of the contract)."""

    sources: dict[str, SourceOptions] = Field(default_factory=dict)


class ManifestError(FileSchemaError):
    """`_sources.yaml` is malformed."""


def read_manifest(landing: Path, known_sources: set[str]) -> LandingManifest:
    """The landing folder's `_sources.yaml`, or the defaults when there is none."""
    path = landing / MANIFEST
    if not path.is_file():
        return LandingManifest()
    data, lines = read_mapping(path, ManifestError, allow_empty=True)
    manifest = validate_file(LandingManifest, data, path, ManifestError, lines)
    unknown = sorted(set(manifest.sources) - known_sources)
    if unknown:
        raise ManifestError(path, f"sources.{unknown[0]}", f"no source of the contract is called {unknown[0]!r}",
                            lines.line_of(("sources", unknown[0])))
    return manifest


def open_bytes(file: LandingFile):
    """A binary reader of the file's content (decompressed when it is gzipped)."""
    return gzip.open(file.path, "rb") if file.compressed else open(file.path, "rb")


def check_encoding(file: LandingFile, encoding: str) -> None:
    """Stop naming the file and the offset of its first bad byte when it is not in `encoding`.

    Raises:
        ContractError: the file holds bytes that are not valid in the declared encoding.
    """
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = 0
    with open_bytes(file) as handle:
        while chunk := handle.read(CHUNK_BYTES):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                _raise_bad_bytes(file, encoding, offset + error.start, chunk, error.start)
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            _raise_bad_bytes(file, encoding, offset, b"", 0)


def _raise_bad_bytes(file: LandingFile, encoding: str, offset: int, chunk: bytes, at: int) -> None:
    line = _line_at(file, offset)
    shown = chunk[at: at + 4].hex(" ") if chunk else "end of file"
    hint = ("declare the file's encoding in the landing folder's _sources.yaml (for example `sources: "
            f"{{{file.relative.split('/')[0].split('.')[0]}: {{encoding: gb18030}}}}`)" if encoding == "utf-8"
            else "check the encoding declared in _sources.yaml")
    raise ContractError(f"{file.relative} is not valid {encoding}: the first bad byte is at offset {offset} "
                        f"(line {line}, bytes {shown}); {hint}")


def _line_at(file: LandingFile, offset: int) -> int:
    with open_bytes(file) as handle:
        return handle.read(offset).count(b"\n") + 1


def transcoded(file: LandingFile, encoding: str, scratch: Path) -> Path:
    """A UTF-8 copy of a file in another encoding, made once per content (checked while copying)."""
    check_encoding(file, encoding)
    stat = file.path.stat()
    digest = hashlib.sha256(f"{file.path.absolute()}\0{stat.st_size}\0{stat.st_mtime_ns}\0{encoding}".encode())
    target = scratch / f"{digest.hexdigest()[:24]}-{file.path.name.removesuffix('.gz').removesuffix('.GZ')}"
    if not target.is_file():
        scratch.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(target.suffix + ".partial")
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        with open_bytes(file) as source, open(partial, "w", encoding="utf-8", newline="") as sink:
            while chunk := source.read(CHUNK_BYTES):
                sink.write(decoder.decode(chunk))
            sink.write(decoder.decode(b"", final=True))
        os.replace(partial, target)
    return target


def physical_lines(file: LandingFile) -> int:
    """The file's number of lines, not counting blank lines at its end (a last line without a terminator
    counts). Lines end with `\\n`, `\\r\\n` or a lone `\\r` (old Mac exports); counted on the bytes."""
    lines, tail, newline = 0, b"", None
    with open_bytes(file) as handle:
        while chunk := handle.read(CHUNK_BYTES):
            if newline is None:
                newline = b"\n" if b"\n" in chunk else (b"\r" if b"\r" in chunk else None)
            if newline is not None:
                lines += chunk.count(newline)
            tail = (tail + chunk)[-256:]
    if not tail:
        return 0
    if newline is None:
        return 1
    body = tail.rstrip(b"\r\n")
    trailing = tail[len(body):].count(newline)
    # The terminator of the last line ends it; any more terminators are blank lines at the end.
    return lines - max(trailing - 1, 0) + (0 if trailing else 1)
