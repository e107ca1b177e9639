"""Registry input rules and models:/ URI parsing."""

from __future__ import annotations

import pytest

from headwater.entities import ModelVersionStage
from headwater.exceptions import ErrorCode, HeadwaterError
from headwater.registry import validation as rv
from headwater.tracking.model_uri import ModelUri, parse_model_uri


def code(call):
    with pytest.raises(HeadwaterError) as info:
        call()
    return info.value.error_code, info.value.message


@pytest.mark.parametrize("name", ["m", "churn model", "a.b-c_d", "ünïcode", "x" * 256, "a@b"])
def test_good_model_names(name):
    assert rv.validate_model_name(name) == name


@pytest.mark.parametrize(
    "name, fragment",
    [
        ("", "Missing value"),
        ("  ", "Missing value"),
        (None, "Missing value"),
        ("a/b", "cannot contain '/' or ':'"),
        ("a:b", "cannot contain '/' or ':'"),
        (".", "resolve to"),
        ("..x", "resolve to"),
        ("x" * 257, "maximum length of 256"),
    ],
)
def test_bad_model_names(name, fragment):
    error, message = code(lambda: rv.validate_model_name(name))
    assert error == ErrorCode.INVALID_PARAMETER_VALUE and fragment in message


@pytest.mark.parametrize("given, number", [(3, 3), ("3", 3), (" 12 ", 12)])
def test_versions(given, number):
    assert rv.parse_version(given) == number


@pytest.mark.parametrize("given", ["abc", "1.5", True, "v1"])
def test_non_integer_versions(given):
    error, message = code(lambda: rv.parse_version(given))
    assert error == ErrorCode.INVALID_PARAMETER_VALUE
    assert message == f"Parameter 'version' must be an integer, got '{given}'."


@pytest.mark.parametrize(
    "alias, message",
    [
        ("latest", "'latest' alias name (case insensitive) is reserved."),
        ("LaTeSt", "'latest' alias name (case insensitive) is reserved."),
        ("v3", "Version alias name 'v3' is reserved."),
        ("V10", "Version alias name 'V10' is reserved."),
        ("", "Registered model alias name cannot be empty."),
    ],
)
def test_reserved_and_empty_aliases(alias, message):
    assert code(lambda: rv.validate_alias(alias)) == (ErrorCode.INVALID_PARAMETER_VALUE, message)


@pytest.mark.parametrize("stage, canonical", [("none", "None"), ("STAGING", "Staging"), ("Production", "Production")])
def test_stage_names(stage, canonical):
    assert ModelVersionStage.parse(stage).value == canonical


def test_unknown_stage_message():
    error, message = code(lambda: ModelVersionStage.parse("foo"))
    assert message == "Invalid Model Version stage: foo. Value must be one of None, Staging, Production, Archived."


@pytest.mark.parametrize(
    "uri, parsed",
    [
        ("models:/m/3", ModelUri("models:/m/3", name="m", version="3")),
        ("models:/m/production", ModelUri("models:/m/production", name="m", stage="Production")),
        ("models:/m/Latest", ModelUri("models:/m/Latest", name="m", latest=True)),
        ("models:/my model@champion", ModelUri("models:/my model@champion", name="my model", alias="champion")),
        ("models:/m-" + "a" * 32, ModelUri("models:/m-" + "a" * 32, model_id="m-" + "a" * 32)),
    ],
)
def test_model_uris(uri, parsed):
    assert parse_model_uri(uri) == parsed


@pytest.mark.parametrize(
    "uri", ["models:/m", "models:m/1", "models://host/m/1", "models:/m/1/2", "models:/m/Prod", "models:/@a",
            "runs:/abc/model", "models:/m/1?x=1"],
)
def test_malformed_model_uris(uri):
    assert code(lambda: parse_model_uri(uri))[0] == ErrorCode.INVALID_PARAMETER_VALUE
