"""Random, readable run names such as ``brave-owl-42`` for runs created without one."""

from __future__ import annotations

import random

_ADJECTIVES = (
    "agile amber bold brave bright brisk calm clever cosmic crisp daring deft eager fair fearless"
    " gentle glad golden grand happy hardy honest humble jolly keen kind lively lucid lucky merry"
    " mighty nimble noble polite proud quick quiet rapid rare regal sharp shiny silent smart snappy"
    " spry steady stoic sunny swift tidy upbeat valiant vivid warm wise witty zealous zesty"
).split()
_NOUNS = (
    "ant badger bat bear bee bison boar carp cat cod colt crab crane crow deer doe dove duck eagle"
    " eel elk falcon finch fox frog goat goose gull hare hawk hen heron horse ibis jay koala lamb"
    " lark lion lynx mole moth mouse newt otter owl ox panda pig pike quail ram raven robin seal"
    " shark sheep shrew slug snail sparrow squid stork swan tern toad trout vole wasp whale wolf wren yak"
).split()

_random = random.SystemRandom()


def random_run_name() -> str:
    return f"{_random.choice(_ADJECTIVES)}-{_random.choice(_NOUNS)}-{_random.randint(0, 999)}"
