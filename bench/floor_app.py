"""The HTTP floor: a bare Starlette app under uvicorn that parses the JSON body and answers JSON.

Every path answers, so the same client calls (log-metric, log-batch, experiments/get)
run against it unchanged; what they cost here is what any Python ASGI server pays
before doing any work. Run as ``uvicorn bench.floor_app:app``.
"""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def answer(request: Request) -> JSONResponse:
    body = await request.body()
    if body:
        json.loads(body)
    return JSONResponse({"experiment": {"experiment_id": "0"}} if request.method == "GET" else {})


app = Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST"])])
