"""Every catalogue event has a webhook (entity, action) pair, and bodies are strict JSON."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("headwater_webhooks")

from headwater.events.catalogue import EVENT_NAMES  # noqa: E402
from headwater_webhooks.catalog import PAIRS, body, sample_event  # noqa: E402


def test_every_event_has_a_pair_and_pairs_are_unique():
    assert set(PAIRS) == set(EVENT_NAMES)
    assert len(set(PAIRS.values())) == len(PAIRS)


@pytest.mark.parametrize("name", EVENT_NAMES)
def test_bodies_are_strict_json(name):
    event = sample_event(name)
    text = json.dumps(body(event), allow_nan=False)
    data = json.loads(text)
    assert (data["entity"], data["action"]) == PAIRS[name] and data["timestamp"].endswith("+00:00")
