"""Headwater's plugin system (pluggy).

Quick start for plugin authors: implement a hook from
:mod:`headwater.plugins.hookspecs` with the ``hookimpl`` marker and declare
your module under ``[project.entry-points.headwater]``; ``headwater plugins``
then lists it. See docs/plugins/.
"""

import pluggy

from headwater.plugins.hookspecs import PROJECT_NAME

hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

__all__ = ["hookimpl"]
