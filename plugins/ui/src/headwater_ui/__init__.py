"""Headwater's web UI: a single-page app served by the tracking server.

The pages are static files (plain ES modules, CSS and a vendored copy of the
uPlot charting library) inside this package; they talk to the server's own
REST API. Installing the package is enough: the ``ui`` plugin's server
extension mounts them at ``/`` (under ``--static-prefix``). No Node.js is
needed to run or build it.
"""
