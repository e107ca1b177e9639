"""A plugin with a misspelt hook name: it must be reported, not silently ignored."""

from headwater.plugins import hookimpl


@hookimpl
def headwater_tracking_storez():
    return []
