"""Artifact previews: the head of a file, parsed on the server with safe parsers.

The UI asks for a preview and renders what comes back as text (a CSV becomes
rows of strings, an MLmodel file a JSON object), so nothing a run logged is
ever interpreted as markup or script in the browser. YAML goes through
``yaml.safe_load`` only. Files are read up to :data:`PREVIEW_BYTES`.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import posixpath
from typing import Any, Iterable

import yaml

PREVIEW_BYTES = 1024 * 1024
CSV_MAX_ROWS = 1000
CSV_MAX_COLUMNS = 200
IMAGE_EXTENSIONS = frozenset({"png", "jpg", "jpeg", "gif", "bmp", "webp", "ico"})
_KINDS = {"json": "json", "yaml": "yaml", "yml": "yaml", "csv": "csv", "tsv": "csv"}


def preview_kind(name: str) -> str:
    """``mlmodel``, ``image``, ``json``, ``yaml``, ``csv`` or ``text`` (decided by the name)."""
    base = posixpath.basename(name)
    if base == "MLmodel":
        return "mlmodel"
    extension = posixpath.splitext(base)[1].lstrip(".").lower()
    if extension in IMAGE_EXTENSIONS:
        return "image"
    return _KINDS.get(extension, "text")


def read_head(chunks: Iterable[bytes], limit: int = PREVIEW_BYTES) -> tuple[bytes, bool]:
    """The first ``limit`` bytes of a stream and whether there was more."""
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        if len(buffer) > limit:
            return bytes(buffer[:limit]), True
    return bytes(buffer), False


def _plain(value: Any) -> Any:
    """YAML's dates and odd keys made into JSON values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def _csv_table(text: str, name: str) -> dict[str, Any]:
    delimiter = "\t" if name.lower().endswith(".tsv") else ","
    rows = []
    for i, row in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter)):
        if i > CSV_MAX_ROWS:
            break
        rows.append(row[:CSV_MAX_COLUMNS])
    header, body = (rows[0], rows[1:]) if rows else ([], [])
    return {"columns": header, "rows": body[:CSV_MAX_ROWS], "rows_truncated": len(body) > CSV_MAX_ROWS}


def build_preview(name: str, head: bytes, truncated: bool) -> dict[str, Any]:
    """The preview answer for a file called ``name`` whose first bytes are ``head``."""
    kind = preview_kind(name)
    out: dict[str, Any] = {"name": posixpath.basename(name), "kind": kind, "truncated": truncated}
    if kind == "image":
        return out
    if b"\0" in head[:8192]:
        out["kind"] = "binary"
        return out
    text = head.decode("utf-8", errors="replace")
    out["text"] = text
    if truncated:
        return out  # a cut-off document would not parse
    try:
        if kind == "json":
            out["text"] = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        elif kind == "csv":
            out["table"] = _csv_table(text, name)
        elif kind in ("yaml", "mlmodel"):
            data = _plain(yaml.safe_load(text))
            if kind == "mlmodel":
                out["mlmodel"] = data if isinstance(data, dict) else {}
    except (ValueError, yaml.YAMLError, csv.Error) as exc:
        out["parse_error"] = f"{type(exc).__name__}: {exc}"
    return out
