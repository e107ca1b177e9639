"""Random run names such as ``brave-owl-42`` for runs created without one."""

from __future__ import annotations

import random

_ADJECTIVES = (
    "amber", "bold", "brave", "bright", "calm", "clever", "crisp", "dapper", "eager", "fast",
    "gentle", "glad", "grand", "honest", "keen", "kind", "lively", "lucky", "mellow", "merry",
    "nimble", "noble", "proud", "quick", "quiet", "rare", "sharp", "shy", "silent", "smooth",
    "steady", "sunny", "swift", "tidy", "vivid", "warm", "wise", "witty", "young", "zesty",
)
_NOUNS = (
    "otter", "owl", "heron", "trout", "fox", "lynx", "wren", "finch", "badger", "beaver",
    "crane", "eagle", "falcon", "gull", "hare", "ibis", "jay", "kestrel", "lark", "mink",
    "newt", "osprey", "pike", "quail", "raven", "salmon", "stork", "swan", "teal", "vole",
    "willow", "alder", "birch", "cedar", "maple", "reed", "fern", "moss", "pebble", "brook",
)


def random_run_name(rng: random.Random | None = None) -> str:
    rng = rng or random
    return f"{rng.choice(_ADJECTIVES)}-{rng.choice(_NOUNS)}-{rng.randint(1, 999)}"
