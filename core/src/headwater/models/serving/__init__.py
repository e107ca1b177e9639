"""The scoring server: serve one model over MLflow's scoring protocol (spec/scoring-protocol.md).

:mod:`~headwater.models.serving.parsing` reads requests and writes answers,
:mod:`~headwater.models.serving.app` is the ASGI app, and
:mod:`~headwater.models.serving.server` starts it under uvicorn
(``headwater models serve`` and :func:`headwater.models.serve`).
"""
