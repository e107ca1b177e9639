"""docs/observers.md lists every catalogue event with its payload and every field."""

from __future__ import annotations

from pathlib import Path

from headwater.events.catalogue import EVENT_PAYLOADS

DOC = Path(__file__).resolve().parents[2] / "docs" / "observers.md"


def test_every_event_and_field_is_documented():
    rows = {line.split("|")[1].strip(" `"): line for line in DOC.read_text().splitlines()
            if line.startswith("| `")}
    for name, payload in EVENT_PAYLOADS.items():
        assert name in rows, f"{name} is missing from docs/observers.md"
        assert f"`{payload.__name__}`" in rows[name]
        for field in payload.model_fields:
            assert f"`{field}`" in rows[name], f"{name}.{field} is missing from docs/observers.md"
