"""Projects: run an MLproject entry point reproducibly and record it as a run.

``headwater.projects.run(uri, entry_point, parameters=...)`` is the Python form
of ``headwater run``. Running a project runs its code, by design: run only
projects you trust. Backends that run entry points elsewhere are plugins
(``headwater_project_backends``); the built-in ``local`` one runs them here.

Names are imported on first use, so that loading the built-in backend plugin
(this package) costs the plugin manager next to nothing.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "run": "headwater.projects.runner",
    "ProjectRunFailed": "headwater.projects.runner",
    "ProjectJob": "headwater.projects.backend",
    "SubmittedRun": "headwater.projects.backend",
    "Project": "headwater.projects.spec",
    "ProjectError": "headwater.projects.spec",
    "load_project": "headwater.projects.spec",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'headwater.projects' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
