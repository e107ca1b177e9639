"""parse_filter / parse_order_by against every rule and example of the search-grammar spec."""

from __future__ import annotations

import pytest

from headwater.exceptions import ErrorCode, HeadwaterError
from headwater.search import Comparison, OrderKey, SearchSyntaxError, parse_filter, parse_order_by

KINDS = ["runs", "experiments", "registered_models", "model_versions"]


def one(filter_string: str, kind: str = "runs") -> Comparison:
    (comparison,) = parse_filter(filter_string, kind)
    return comparison


def rejected(filter_string: str, kind: str = "runs") -> SearchSyntaxError:
    with pytest.raises(SearchSyntaxError) as info:
        parse_filter(filter_string, kind)
    assert info.value.error_code == ErrorCode.INVALID_PARAMETER_VALUE
    assert info.value.http_status == 400
    assert f"at position {info.value.position}" in info.value.message
    return info.value


def triple(c: Comparison) -> tuple:
    return (c.entity, c.key, c.op, c.value)


# -- empty filters, unknown kind ------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("empty", [None, "", "   ", "\n\t"])
def test_empty_filter_matches_everything(kind, empty):
    assert parse_filter(empty, kind) == []
    assert parse_order_by(None, kind) == [] and parse_order_by([], kind) == []


def test_unknown_kind_is_an_error():
    with pytest.raises(HeadwaterError, match="Unknown search kind"):
        parse_filter("name = 'x'", "traces")


# -- spec examples ----------------------------------------------------------------


def test_runs_example_metric_param_backticked_tag():
    parsed = parse_filter(
        "metrics.rmse < 1 and params.model = \"ridge\" and tags.`mlflow.source.type` = 'LOCAL'", "runs"
    )
    assert [triple(c) for c in parsed] == [
        ("metric", "rmse", "<", 1),
        ("param", "model", "=", "ridge"),
        ("tag", "mlflow.source.type", "=", "LOCAL"),
    ]
    assert [c.position for c in parsed] == [0, 21, 48]


def test_runs_example_run_id_in_list():
    c = one(
        "attributes.run_id IN ('b4ba5abe5f064cb2b3531d1cc2bc6ec8', '553b2eec4df04ad2a2d576e39c927e9e')"
    )
    assert triple(c) == (
        "attribute",
        "run_id",
        "IN",
        ("b4ba5abe5f064cb2b3531d1cc2bc6ec8", "553b2eec4df04ad2a2d576e39c927e9e"),
    )


def test_runs_example_time_like_is_null():
    parsed = parse_filter("start_time >= 1700000000000 and run_name LIKE 'r%' and tags.team IS NULL", "runs")
    assert [triple(c) for c in parsed] == [
        ("attribute", "start_time", ">=", 1700000000000),
        ("attribute", "run_name", "LIKE", "r%"),
        ("tag", "team", "IS NULL", None),
    ]


def test_runs_example_datasets():
    parsed = parse_filter("datasets.name = 'train' and datasets.context IN ('training')", "runs")
    assert [triple(c) for c in parsed] == [
        ("dataset", "name", "=", "train"),
        ("dataset", "context", "IN", ("training",)),
    ]


def test_experiments_example():
    parsed = parse_filter(
        "name LIKE 'proj-%' and tags.owner = 'ana' and creation_time > 1700000000000", "experiments"
    )
    assert [triple(c) for c in parsed] == [
        ("attribute", "name", "LIKE", "proj-%"),
        ("tag", "owner", "=", "ana"),
        ("attribute", "creation_time", ">", 1700000000000),
    ]


def test_registered_models_prompt_tag_filter():
    c = one("tags.`mlflow.prompt.is_prompt` = 'true'", "registered_models")
    assert triple(c) == ("tag", "mlflow.prompt.is_prompt", "=", "true")


# -- lexical rules ----------------------------------------------------------------


@pytest.mark.parametrize("joiner", ["and", "AND", "And", "aNd"])
def test_and_in_any_case(joiner):
    assert len(parse_filter(f"metrics.a > 1 {joiner} metrics.b < 2", "runs")) == 2


@pytest.mark.parametrize(
    "text, position", [("metrics.a > 1 OR metrics.b < 2", 14), ("metrics.a > 1 or metrics.b < 2", 14)]
)
def test_or_is_rejected(text, position):
    error = rejected(text)
    assert "Invalid clause(s) in filter string: '" in error.message
    assert error.message.split("'")[1].upper() == "OR"
    assert error.position == position


def test_parenthesised_group_is_rejected_with_its_text():
    error = rejected("params.q = 'b' and (params.p = 'a')")
    assert "Invalid clause(s) in filter string: '(params.p = 'a')'" in error.message
    assert error.position == 19


def test_group_around_everything_is_rejected():
    assert rejected("(metrics.a > 1 and metrics.b < 2)").position == 0


def test_multiple_statements_are_rejected():
    error = rejected("metrics.a > 1; metrics.b < 2")
    assert "Search filter contained multiple expression" in error.message
    assert error.position == 13


def test_trailing_semicolon_is_an_invalid_clause():
    assert "Invalid clause(s) in filter string: ';'" in rejected("metrics.a > 1;").message


@pytest.mark.parametrize("value", ["ridge", "`ridge`", "null"])
def test_unquoted_string_value_is_rejected(value):
    error = rejected(f"params.model = {value}")
    assert "Parameter value is either not quoted" in error.message
    assert error.position == len("params.model = ")


def test_values_are_never_unescaped():
    assert one("params.p = 'it''s'").value == "it''s"
    assert one('tags.t = "say ""hi"""').value == 'say ""hi""'
    assert one(r"tags.t = 'a\'b'").value == r"a\'b"


@pytest.mark.parametrize(
    "text, value",
    [("3", 3), ("-1", -1), ("2.5", 2.5), ("1e-3", 1e-3), ("-1.5E3", -1500.0), (".5", 0.5), ("7.", 7.0)],
)
def test_numbers(text, value):
    c = one(f"metrics.m >= {text}")
    assert c.value == value and type(c.value) is type(value)


@pytest.mark.parametrize("quoted", ["'1'", '"1"'])
def test_quoted_number_for_metric_is_rejected(quoted):
    error = rejected(f"metrics.m = {quoted}")
    assert "Expected numeric value type for metric" in error.message and quoted in error.message
    assert error.position == len("metrics.m = ")


@pytest.mark.parametrize(
    "text, key",
    [
        ("metrics.`my metric` > 0", "my metric"),
        ('metrics."my-metric" > 0', "my-metric"),
        ("metrics.'single q' > 0", "single q"),
        ("metrics.`a.b` > 0", "a.b"),
    ],
)
def test_quoted_keys(text, key):
    assert one(text).key == key


def test_identifier_is_split_at_the_first_dot():
    c = one("tags.mlflow.runName = 'x'")
    assert (c.entity, c.key) == ("tag", "mlflow.runName")


@pytest.mark.parametrize("op", ["<=", ">=", "!=", "=", "<", ">"])
def test_comparators_with_and_without_spaces(op):
    assert one(f"metrics.m{op}1").op == op
    assert one(f"metrics.m {op} 1").op == op


@pytest.mark.parametrize(
    "text, op",
    [
        ("params.p like 'a%'", "LIKE"),
        ("params.p Ilike 'a%'", "ILIKE"),
        ("run_id in ('a')", "IN"),
        ("run_id Not In ('a')", "NOT IN"),
        ("params.p is null", "IS NULL"),
        ("params.p Is Not Null", "IS NOT NULL"),
    ],
)
def test_comparator_keywords_in_any_case(text, op):
    assert one(text).op == op


def test_diamond_operator_is_rejected():
    error = rejected("metrics.m <> 1")
    assert "'<>'" in error.message and "!=" in error.message
    assert error.position == 10


def test_syntax_errors_carry_positions():
    assert rejected("params.my-param = 'x'").position == 9
    assert rejected("metrics.m >").position == len("metrics.m >")
    assert rejected("metrics.m > 1 and").position == len("metrics.m > 1 and")
    assert rejected("params.p = 'unterminated").position == 11


def test_keyword_names_can_be_keys():
    assert one("params.and = 'x'").key == "and"
    assert one("tags.`or` = 'x'").key == "or"


# -- IN lists ---------------------------------------------------------------------


def test_in_list_needs_values():
    error = rejected("run_id IN ()")
    assert "non-empty list" in error.message and error.position == 10


@pytest.mark.parametrize("item", ["1", "abc", "('a')"])
def test_in_list_takes_only_quoted_strings(item):
    assert rejected(f"run_id IN ('a', {item})").position == len("run_id IN ('a', ")


def test_list_with_equals_is_rejected():
    assert "IN or NOT IN" in rejected("run_id = ('a')").message


def test_in_on_params_is_rejected():
    error = rejected("params.p IN ('a')")
    assert "support comparison with a list of quoted string values" in error.message
    assert error.position == 9


@pytest.mark.parametrize(
    "kind, text",
    [
        ("runs", "run_id NOT IN ('a')"),
        ("runs", "dataset.name IN ('a')"),
        ("runs", "dataset.digest IN ('a')"),
        ("runs", "dataset.context NOT IN ('a')"),
        ("experiments", "experiment_id IN ('1', '2')"),
        ("registered_models", "name IN ('a')"),
        ("model_versions", "name IN ('a')"),
        ("model_versions", "run_id NOT IN ('a')"),
    ],
)
def test_where_in_is_allowed(kind, text):
    assert one(text, kind).op in ("IN", "NOT IN")


@pytest.mark.parametrize(
    "kind, text",
    [
        ("runs", "status IN ('FINISHED')"),
        ("runs", "run_name IN ('a')"),
        ("runs", "tags.t IN ('a')"),
        ("runs", "metrics.m IN ('1')"),
        ("experiments", "name IN ('a')"),
        ("experiments", "tags.t IN ('a')"),
        ("model_versions", "source_path IN ('a')"),
        ("model_versions", "tags.t IN ('a')"),
        ("registered_models", "tags.t NOT IN ('a')"),
    ],
)
def test_where_in_is_not_allowed(kind, text):
    assert "list of quoted string values" in rejected(text, kind).message


# -- search_runs --------------------------------------------------------------------


@pytest.mark.parametrize(
    "prefix, entity",
    [
        ("metric", "metric"),
        ("metrics", "metric"),
        ("parameter", "param"),
        ("parameters", "param"),
        ("param", "param"),
        ("params", "param"),
        ("tag", "tag"),
        ("tags", "tag"),
    ],
)
def test_runs_entity_prefixes(prefix, entity):
    value = "1" if entity == "metric" else "'1'"
    assert one(f"{prefix}.k = {value}").entity == entity


@pytest.mark.parametrize("prefix", ["", "attribute.", "attributes.", "attr.", "run."])
def test_runs_attribute_prefixes(prefix):
    assert triple(one(f"{prefix}status = 'FINISHED'")) == ("attribute", "status", "=", "FINISHED")


@pytest.mark.parametrize("prefix", ["dataset", "datasets"])
def test_runs_dataset_prefixes(prefix):
    assert one(f"{prefix}.digest = 'abc'").entity == "dataset"


def test_runs_unknown_prefix():
    error = rejected("metricz.m > 1")
    assert "Invalid entity type 'metricz'" in error.message and error.position == 0


@pytest.mark.parametrize("key", ["run_id", "run_name", "status", "user_id", "artifact_uri"])
@pytest.mark.parametrize("op", ["=", "!=", "LIKE", "ILIKE"])
def test_runs_string_attributes(key, op):
    assert triple(one(f"attributes.{key} {op} 'x'")) == ("attribute", key, op, "x")


@pytest.mark.parametrize("key", ["`run name`", "`Run name`", "`Run Name`", '"Run Name"', "run_name"])
def test_run_name_aliases(key):
    assert one(f"{key} = 'x'").key == "run_name"
    assert one(f"attributes.{key} = 'x'").key == "run_name"


@pytest.mark.parametrize("key", ["created", "Created", "start_time"])
def test_created_is_start_time(key):
    assert triple(one(f"{key} > 5")) == ("attribute", "start_time", ">", 5)


def test_runs_time_attributes_accept_floats():
    assert one("start_time >= 1.5").value == 1.5
    assert one("end_time < 1e12").value == 1e12


@pytest.mark.parametrize("text", ["start_time = '5'", "end_time > abc"])
def test_runs_time_attributes_need_numbers(text):
    assert "Expected numeric value" in rejected(text).message


@pytest.mark.parametrize("text", ["start_time LIKE 1", "status > 'a'", "metrics.m LIKE 1", "params.p < 'a'"])
def test_runs_operator_not_allowed_for_key(text):
    assert "Invalid comparator" in rejected(text).message


@pytest.mark.parametrize("key", ["lifecycle_stage", "experiment_id", "foo"])
def test_runs_unknown_attribute(key):
    error = rejected(f"attributes.{key} = 'x'")
    assert f"Invalid attribute key '{key}'" in error.message
    assert error.position == len("attributes.")


def test_runs_unknown_dataset_key():
    assert "Invalid dataset key 'source'" in rejected("dataset.source = 'x'").message


@pytest.mark.parametrize("entity", ["params", "tags"])
@pytest.mark.parametrize("op", ["IS NULL", "IS NOT NULL"])
def test_is_null_for_params_and_tags(entity, op):
    assert one(f"{entity}.k {op}").op == op


@pytest.mark.parametrize("text", ["metrics.m IS NULL", "run_name IS NOT NULL", "dataset.name IS NULL"])
def test_is_null_elsewhere_is_rejected(text):
    assert "IS NULL / IS NOT NULL is only supported for params and tags" in rejected(text).message


@pytest.mark.parametrize("text", ["params.p = 1", "tags.t = 2.5", "run_id = 3", "dataset.name = 1"])
def test_numbers_for_strings_are_rejected(text):
    assert "Expected a quoted string value" in rejected(text).message


# -- search_experiments --------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["", "attribute.", "attributes."])
def test_experiment_attribute_prefixes(prefix):
    assert triple(one(f"{prefix}name = 'x'", "experiments")) == ("attribute", "name", "=", "x")


@pytest.mark.parametrize("prefix", ["attr", "run", "metrics", "params", "dataset"])
def test_experiment_rejected_prefixes(prefix):
    error = rejected(f"{prefix}.name = 'x'", "experiments")
    assert f"Invalid entity type '{prefix}'" in error.message


@pytest.mark.parametrize("key", ["creation_time", "last_update_time"])
def test_experiment_times_take_integers_only(key):
    assert one(f"{key} <= 17", "experiments").value == 17
    error = rejected(f"{key} > 1.5", "experiments")
    assert "integer" in error.message and error.position == len(key) + 3
    assert "integer" in rejected(f"{key} > '15'", "experiments").message


def test_experiment_id_takes_quoted_integers():
    assert one("experiment_id = '12'", "experiments").value == "12"
    assert one("experiment_id IN ('1', \"2\")", "experiments").value == ("1", "2")
    assert "quoted string" in rejected("experiment_id = 12", "experiments").message
    assert "integer" in rejected("experiment_id = 'abc'", "experiments").message
    assert "integer" in rejected("experiment_id IN ('1', 'x')", "experiments").message
    assert "Invalid comparator" in rejected("experiment_id LIKE '1%'", "experiments").message


def test_experiment_tags_take_is_null():
    assert one("tags.owner IS NULL", "experiments").op == "IS NULL"
    error = rejected("name IS NULL", "experiments")
    assert "only supported for tags" in error.message


def test_experiment_unknown_attribute():
    assert "Invalid attribute key 'artifact_location'" in rejected(
        "artifact_location = 'x'", "experiments"
    ).message


# -- registry searches ----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["registered_models", "model_versions"])
def test_registry_prefixes(kind):
    assert one("attribute.name = 'm'", kind).entity == "attribute"
    assert one("tag.k = 'v'", kind).entity == "tag"
    assert one("tags.k = 'v'", kind).entity == "tag"
    for prefix in ("attributes", "attr", "run", "params"):
        assert f"Invalid entity type '{prefix}'" in rejected(f"{prefix}.name = 'm'", kind).message


@pytest.mark.parametrize("kind", ["registered_models", "model_versions"])
def test_registry_tags_have_no_is_null(kind):
    assert "not supported" in rejected("tags.k IS NULL", kind).message


def test_registered_models_only_filter_on_name():
    for op in ("=", "!=", "LIKE", "ILIKE"):
        assert one(f"name {op} 'm'", "registered_models").op == op
    assert "Invalid attribute key 'creation_timestamp'" in rejected(
        "creation_timestamp > 1", "registered_models"
    ).message


@pytest.mark.parametrize("value", ["3", "'3'", '"3"'])
@pytest.mark.parametrize("op", ["=", "!=", "<", "<=", ">", ">="])
def test_version_number_takes_int_or_quoted_int(op, value):
    c = one(f"version_number {op} {value}", "model_versions")
    assert (c.op, c.value) == (op, 3) and type(c.value) is int


@pytest.mark.parametrize("value", ["1.5", "'x'", "abc"])
def test_version_number_rejects_non_integers(value):
    rejected(f"version_number = {value}", "model_versions")


def test_model_version_keys():
    assert one("source_path LIKE 's3://%'", "model_versions").key == "source_path"
    assert one("run_id = 'abc'", "model_versions").key == "run_id"
    for key in ("creation_timestamp", "last_updated_timestamp", "version", "source"):
        assert "Invalid attribute key" in rejected(f"{key} = '1'", "model_versions").message


# -- order_by ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "item, expected",
    [
        ("metrics.m", OrderKey("metric", "m", True)),
        ("metrics.m DESC", OrderKey("metric", "m", False)),
        ("metric.`my metric` desc", OrderKey("metric", "my metric", False)),
        ("params.p asc", OrderKey("param", "p", True)),
        ("tags.mlflow.runName Asc", OrderKey("tag", "mlflow.runName", True)),
        ("start_time", OrderKey("attribute", "start_time", True)),
        ("attributes.created DESC", OrderKey("attribute", "start_time", False)),
        ("Created", OrderKey("attribute", "start_time", True)),
        ("end_time", OrderKey("attribute", "end_time", True)),
        ("run_name", OrderKey("attribute", "run_name", True)),
        ("status", OrderKey("attribute", "status", True)),
        ("user_id", OrderKey("attribute", "user_id", True)),
        ("artifact_uri", OrderKey("attribute", "artifact_uri", True)),
        ("attr.run_id dEsC", OrderKey("attribute", "run_id", False)),
    ],
)
def test_runs_order_by(item, expected):
    assert parse_order_by([item], "runs") == [expected]


def test_order_by_keeps_the_given_order_and_adds_no_tie_breakers():
    keys = parse_order_by(["metrics.a", "params.b DESC"], "runs")
    assert keys == [OrderKey("metric", "a", True), OrderKey("param", "b", False)]


@pytest.mark.parametrize("item", ["lifecycle_stage", "experiment_id", "foo DESC"])
def test_runs_order_by_unknown_attribute(item):
    error = _order_rejected([item], "runs")
    assert "Invalid order_by key" in error.message and error.position == 0


def test_runs_order_by_dataset_is_rejected():
    assert "Invalid order_by entity: dataset" in _order_rejected(["datasets.name"], "runs").message


@pytest.mark.parametrize("item", ["metrics.m up", "metrics.m DESCENDING"])
def test_bad_direction(item):
    error = _order_rejected([item], "runs")
    assert "Invalid ordering key" in error.message and error.position == len("metrics.m ")


@pytest.mark.parametrize("item", ["metrics.m DESC ASC", "metrics.m = 1", "", "  "])
def test_malformed_order_by(item):
    with pytest.raises(HeadwaterError) as info:
        parse_order_by([item], "runs")
    assert info.value.error_code == ErrorCode.INVALID_PARAMETER_VALUE


@pytest.mark.parametrize(
    "kind, items",
    [
        ("runs", ["metrics.m", "metrics.m DESC"]),
        ("runs", ["start_time", "created DESC"]),
        ("experiments", ["name", "attributes.name DESC"]),
        ("registered_models", ["timestamp", "last_updated_timestamp"]),
        ("model_versions", ["name ASC", "name"]),
    ],
)
def test_duplicate_order_by_is_internal_error(kind, items):
    with pytest.raises(HeadwaterError) as info:
        parse_order_by(items, kind)
    assert info.value.error_code == ErrorCode.INTERNAL_ERROR
    assert info.value.http_status == 500
    assert "`order_by` contains duplicate fields" in info.value.message


def test_different_entities_with_one_key_are_not_duplicates():
    assert len(parse_order_by(["metrics.x", "params.x", "tags.x"], "runs")) == 3


@pytest.mark.parametrize("key", ["name", "experiment_id", "creation_time", "last_update_time"])
def test_experiments_order_by(key):
    assert parse_order_by([f"{key} DESC"], "experiments") == [OrderKey("attribute", key, False)]
    assert parse_order_by([f"attributes.{key}"], "experiments") == [OrderKey("attribute", key, True)]


def test_experiments_order_by_rejects_tags_and_other_keys():
    assert "Invalid order_by entity: tag" in _order_rejected(["tags.owner"], "experiments").message
    assert "Invalid order_by key" in _order_rejected(["artifact_location"], "experiments").message


def test_registered_models_order_by():
    assert parse_order_by(["name", "timestamp DESC"], "registered_models") == [
        OrderKey("attribute", "name", True),
        OrderKey("attribute", "last_updated_timestamp", False),
    ]
    assert parse_order_by(["last_updated_timestamp"], "registered_models") == [
        OrderKey("attribute", "last_updated_timestamp", True)
    ]
    error = _order_rejected(["creation_timestamp"], "registered_models")
    assert "Invalid order_by key 'creation_timestamp'" in error.message
    assert "Invalid order_by entity: tag" in _order_rejected(["tags.k"], "registered_models").message


@pytest.mark.parametrize("key", ["name", "version_number", "creation_timestamp", "last_updated_timestamp"])
def test_model_versions_order_by(key):
    assert parse_order_by([f"{key} desc"], "model_versions") == [OrderKey("attribute", key, False)]


def test_model_versions_order_by_unknown_key():
    assert "Invalid order_by key 'source_path'" in _order_rejected(["source_path"], "model_versions").message


def _order_rejected(items, kind) -> SearchSyntaxError:
    with pytest.raises(SearchSyntaxError) as info:
        parse_order_by(items, kind)
    assert info.value.error_code == ErrorCode.INVALID_PARAMETER_VALUE
    return info.value


def test_keys_after_a_prefix_may_start_with_digits_or_be_unicode():
    assert one("metrics.1st_loss > 0").key == "1st_loss"
    assert one("params.größe = 'L'").key == "größe"
    assert parse_order_by(["metrics.2nd DESC"], "runs") == [OrderKey("metric", "2nd", False)]


def test_order_by_unknown_entity():
    error = _order_rejected(["metricz.m DESC"], "runs")
    assert "Invalid entity type 'metricz'" in error.message and error.position == 0
