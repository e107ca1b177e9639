"""A well-formed plugin providing a tracking-store scheme and a flavor."""

from headwater.plugins import hookimpl
from headwater.plugins.types import FlavorProvider, TrackingStoreProvider


@hookimpl
def headwater_tracking_stores():
    yield TrackingStoreProvider(name="fake", schemes=("fake",), factory=lambda uri, root: ("fake-store", uri))


@hookimpl
def headwater_flavors():
    yield FlavorProvider(name="fake_flavor", flavor=object())
