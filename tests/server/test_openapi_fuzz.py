"""Schemathesis against the live server's /openapi.json: no 5xx, and every answer fits the document.

Two 5xx answers are MLflow's by design and allowed here: INVALID_STATE (500)
for renaming a deleted experiment (spec/rest-api.md §4), and NOT_IMPLEMENTED
(501) for what this server deliberately does not offer yet (multipart
uploads, presigned URLs, logged-model inputs and outputs).
"""

from __future__ import annotations

import os

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.slow

_BY_DESIGN = {("INVALID_STATE", "/api/2.0/mlflow/experiments/update"), ("NOT_IMPLEMENTED", None)}
_CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]


def _check(case) -> None:
    response = case.call(timeout=30)
    if response.status_code >= 500:
        code = response.json().get("error_code")
        assert (code, case.operation.path) in _BY_DESIGN or (code, None) in _BY_DESIGN, (
            f"{case.operation.method.upper()} {case.operation.path}: {response.status_code} {response.text}")
    case.validate_response(response, checks=_CHECKS)


def test_no_server_error_and_answers_fit_the_document(tracking_server):
    # Driven by hand: schemathesis' pytest plugin does not run under this pytest version.
    schema = schemathesis.openapi.from_url(f"{tracking_server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40
    for operation in operations:
        run = settings(max_examples=int(os.environ.get("HEADWATER_FUZZ_EXAMPLES", "15")), deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                       database=None)(given(case=operation.as_strategy())(_check))
        run()
