"""Input rules and limits shared by every store (MLflow's, so clients agree).

Each check raises :class:`HeadwaterError` with INVALID_PARAMETER_VALUE and a
message naming what was wrong. Stores call these before writing anything.
"""

from __future__ import annotations

import functools
import math
import numbers
import posixpath
import re
from typing import Iterable, Sequence

from headwater.entities import DatasetInput, Metric, Param, RunTag
from headwater.exceptions import ErrorCode, HeadwaterError

MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
MAX_EXPERIMENT_TAG_KEY_LENGTH = 250
MAX_EXPERIMENT_TAG_VALUE_LENGTH = 20000
MAX_EXPERIMENT_NAME_LENGTH = 500
MAX_ARTIFACT_LOCATION_LENGTH = 2048
MAX_RUN_NAME_LENGTH = 250
MAX_DATASET_NAME_LENGTH = 500
MAX_DATASET_DIGEST_LENGTH = 36
MAX_DATASET_SOURCE_LENGTH = 65535
MAX_DATASET_SCHEMA_LENGTH = 1048575
MAX_DATASET_PROFILE_LENGTH = 16777215
MAX_INPUT_TAG_KEY_LENGTH = 255
MAX_INPUT_TAG_VALUE_LENGTH = 500

MAX_BATCH_METRICS = 1000
MAX_BATCH_PARAMS = 100
MAX_BATCH_TAGS = 100
MAX_BATCH_TOTAL = 1000

SEARCH_RUNS_MAX_RESULTS_DEFAULT = 1000
SEARCH_MAX_RESULTS_LIMIT = 50000

# Infinity cannot be stored by every backend; MLflow stores and returns the
# largest double instead, and so do we.
FLOAT_MAX = 1.7976931348623157e308

_KEY_RE = re.compile(r"^[/\w.\- :]*$")
_RUN_ID_RE = re.compile(r"^[a-zA-Z0-9][\w\-]{0,255}$")

_BAD_CHARS = (
    "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.),"
    " spaces ( ), colon(:) and slashes (/)."
)


def _invalid(message: str) -> HeadwaterError:
    return HeadwaterError(message, ErrorCode.INVALID_PARAMETER_VALUE)


def require(value: object, name: str) -> None:
    """Reject a missing or empty required parameter, as MLflow words it."""
    if value is None or value == "":
        raise _invalid(f"Missing value for required parameter '{name}'.")


@functools.lru_cache(maxsize=4096)
def _known_good_key(key: str, max_length: int) -> bool:
    # Batches repeat a few keys many times; remember the ones that passed.
    if not _KEY_RE.fullmatch(key) or len(key) > max_length:
        return False
    norm = posixpath.normpath(key)
    return norm == key and norm != "." and not norm.startswith("..") and not norm.startswith("/")


def validate_key(key: str, what: str = "Param key", max_length: int = MAX_KEY_LENGTH) -> None:
    """A metric/param/tag key: allowed characters, no path tricks, length."""
    if type(key) is str and key and _known_good_key(key, max_length):
        return
    if not isinstance(key, str) or key == "":
        raise _invalid(f"Missing value for required parameter '{what.lower().replace(' ', '_')}'.")
    if not _KEY_RE.fullmatch(key):
        raise _invalid(f"Invalid {what.lower()} '{key}'. {_BAD_CHARS}")
    norm = posixpath.normpath(key)
    if norm != key or norm == "." or norm.startswith("..") or norm.startswith("/"):
        raise _invalid(
            f"Invalid {what.lower()} '{key}'. Names may be treated as files in certain cases,"
            f" and must not resolve to other names when treated as such. This name would"
            f" resolve to '{norm}'"
        )
    if len(key) > max_length:
        raise _invalid(f"'{what}' exceeds the maximum length of {max_length} characters")


def truncate(value: str, limit: int) -> str:
    """Params and run tags are silently truncated, as MLflow's server does."""
    return value if len(value) <= limit else value[:limit]


def validate_run_id(run_id: str) -> None:
    if not isinstance(run_id, str) or not _RUN_ID_RE.fullmatch(run_id):
        raise _invalid(f"Invalid run ID: '{run_id}'")


def validate_experiment_name(name: object) -> None:
    if not isinstance(name, str) or name.strip() == "":
        raise _invalid(f"Invalid experiment name: '{name}'. Names must be non-empty strings.")
    if len(name) > MAX_EXPERIMENT_NAME_LENGTH:
        raise _invalid(
            f"Experiment name exceeds the maximum length of {MAX_EXPERIMENT_NAME_LENGTH} characters"
        )


def validate_experiment_id(experiment_id: object) -> str:
    """Experiment ids are strings of digits; returns the canonical form."""
    text = str(experiment_id).strip() if experiment_id is not None else ""
    digits = text[1:] if text.startswith("-") else text
    if not (digits.isascii() and digits.isdecimal()):
        raise _invalid(f"Invalid experiment ID '{experiment_id}'. Experiment IDs must be integers.")
    return str(int(text))


def validate_experiment_tag(key: str, value: str | None) -> None:
    validate_key(key, "Tag key", MAX_EXPERIMENT_TAG_KEY_LENGTH)
    if value is not None and len(value) > MAX_EXPERIMENT_TAG_VALUE_LENGTH:
        raise _invalid(
            f"'Tag value' exceeds the maximum length of {MAX_EXPERIMENT_TAG_VALUE_LENGTH} characters"
        )


def validate_artifact_location(location: str | None) -> None:
    """Refuse locations that smuggle paths through URI parts (security §2)."""
    if location is None or location == "":
        return
    if len(location) > MAX_ARTIFACT_LOCATION_LENGTH:
        raise _invalid(
            f"Invalid artifact location: exceeds the maximum length of"
            f" {MAX_ARTIFACT_LOCATION_LENGTH} characters"
        )
    from urllib.parse import unquote, urlparse

    if location.startswith("runs:"):
        raise _invalid("Invalid artifact location: 'runs:' URIs cannot be artifact locations")
    parsed = urlparse(location)
    if parsed.fragment or parsed.params or parsed.query or "#" in location or "\x00" in location:
        raise _invalid(
            f"Invalid artifact location '{location}': fragments, queries and parameters are not allowed"
        )
    decoded = location
    for _ in range(3):  # decode repeatedly so double encoding cannot hide '..'
        decoded = unquote(decoded)
    segments = re.split(r"[\\/]", decoded)
    if ".." in segments:
        raise _invalid(f"Invalid artifact location '{location}': '..' is not allowed")


def validate_metric(metric: Metric, where: str = "") -> Metric:
    """Check one metric point; returns it with ±inf clamped to ±FLOAT_MAX."""
    prefix = f"{where}." if where else ""
    validate_key(metric.key, "Metric name")
    value = metric.value
    if isinstance(value, bool) or not isinstance(value, numbers.Number):
        raise _invalid(
            f"Invalid value \"{value}\" for parameter '{prefix}value' supplied: Hint: Value was of"
            f" type '{type(value).__name__}'. Metric values must be numeric."
        )
    if metric.timestamp is None or isinstance(metric.timestamp, bool) or metric.timestamp < 0:
        raise _invalid(
            f"Invalid value \"{metric.timestamp}\" for parameter '{prefix}timestamp' supplied:"
            " Timestamp must be a nonnegative long (64-bit integer)"
        )
    if isinstance(metric.step, bool) or not isinstance(metric.step, int):
        raise _invalid(f"Invalid value \"{metric.step}\" for parameter '{prefix}step' supplied.")
    if math.isinf(value):
        return metric.model_copy(update={"value": FLOAT_MAX if value > 0 else -FLOAT_MAX})
    return metric


def validate_param(param: Param) -> Param:
    """Check a param's key; returns it with the value truncated to the limit."""
    validate_key(param.key, "Param key")
    value = "" if param.value is None else str(param.value)
    if len(value) > MAX_PARAM_VALUE_LENGTH:
        return Param(key=param.key, value=truncate(value, MAX_PARAM_VALUE_LENGTH))
    return param


def validate_tag(tag: RunTag) -> RunTag:
    validate_key(tag.key, "Tag key")
    value = "" if tag.value is None else str(tag.value)
    if len(value) > MAX_TAG_VALUE_LENGTH:
        return RunTag(key=tag.key, value=truncate(value, MAX_TAG_VALUE_LENGTH))
    return tag


def validate_run_name(name: str | None) -> None:
    """Run names are stored in a 250-character column on every backend."""
    if name is not None and len(name) > MAX_RUN_NAME_LENGTH:
        raise _invalid(f"'run_name' exceeds the maximum length of {MAX_RUN_NAME_LENGTH} characters")


def validate_dataset_input(dataset_input: DatasetInput) -> None:
    """A dataset input of log_inputs: required fields and size limits (spec §2)."""
    dataset = getattr(dataset_input, "dataset", None)
    if dataset is None:
        raise _invalid("Dataset cannot be None")
    for field in ("name", "digest", "source_type", "source"):
        if getattr(dataset, field, None) is None:
            raise _invalid(f"Dataset {field} cannot be None")
    for field, value, limit in (
        ("name", dataset.name, MAX_DATASET_NAME_LENGTH),
        ("digest", dataset.digest, MAX_DATASET_DIGEST_LENGTH),
        ("source", dataset.source, MAX_DATASET_SOURCE_LENGTH),
        ("schema", dataset.schema_, MAX_DATASET_SCHEMA_LENGTH),
        ("profile", dataset.profile, MAX_DATASET_PROFILE_LENGTH),
    ):
        if value is not None and len(value) > limit:
            raise _invalid(f"'{field}' exceeds the maximum length of {limit} characters")
    for tag in dataset_input.tags:
        if tag.key is None or tag.value is None:
            raise _invalid("InputTag key and value cannot be None")
        if len(tag.key) > MAX_INPUT_TAG_KEY_LENGTH:
            raise _invalid(f"'key' exceeds the maximum length of {MAX_INPUT_TAG_KEY_LENGTH} characters")
        if len(tag.value) > MAX_INPUT_TAG_VALUE_LENGTH:
            raise _invalid(f"'value' exceeds the maximum length of {MAX_INPUT_TAG_VALUE_LENGTH} characters")


def validate_batch(
    metrics: Sequence[Metric], params: Sequence[Param], tags: Sequence[RunTag]
) -> tuple[list[Metric], list[Param], list[RunTag]]:
    """Validate a log_batch request in MLflow's order; returns cleaned items.

    Items first (so the error names the item), then the size limits, then
    duplicate param keys.
    """
    clean_metrics = [validate_metric(m, f"metrics[{i}]") for i, m in enumerate(metrics)]
    clean_params = [validate_param(p) for p in params]
    clean_tags = [validate_tag(t) for t in tags]
    for items, limit, label in (
        (metrics, MAX_BATCH_METRICS, "metrics"),
        (params, MAX_BATCH_PARAMS, "params"),
        (tags, MAX_BATCH_TAGS, "tags"),
    ):
        if len(items) > limit:
            raise _invalid(
                f"A batch logging request can contain at most {limit} {label}. Got"
                f" {len(items)} {label}. Please split up {label} across multiple requests and try"
                " again."
            )
    total = len(metrics) + len(params) + len(tags)
    if total > MAX_BATCH_TOTAL:
        raise _invalid(
            f"A batch logging request can contain at most {MAX_BATCH_TOTAL} metrics, params, and"
            f" tags in total. Got {total} total values. Please split up metrics, params, and tags"
            " across multiple requests and try again."
        )
    seen: set[str] = set()
    duplicates = sorted({p.key for p in clean_params if p.key in seen or seen.add(p.key)})
    if duplicates:
        raise _invalid(
            f"Duplicate parameter keys have been submitted: {duplicates}. Please ensure the"
            " request contains only one param value per param key."
        )
    return clean_metrics, clean_params, clean_tags


def validate_max_results(max_results: int | None, default: int, limit: int, what: str) -> int:
    if max_results is None:
        return default
    if isinstance(max_results, bool) or not isinstance(max_results, int) or max_results <= 0:
        raise _invalid(f"Invalid value for max_results. It must be a positive integer, got {max_results}")
    if max_results > limit:
        raise _invalid(
            f"Invalid value for max_results. It must be at most {limit}, but got {max_results}"
        )
    return max_results


def param_conflict_message(run_id: str, key: str, old: str, new: str) -> str:
    return (
        f"Changing param values is not allowed. Param with key='{key}' was already logged with"
        f" value='{old}' for run ID='{run_id}'. Attempted logging new value '{new}'."
    )


def batch_param_conflict_message(run_id: str, conflicts: Iterable[tuple[str, str, str]]) -> str:
    rows = [{"key": k, "old_value": o, "new_value": n} for k, o, n in conflicts]
    return (
        "Changing param values is not allowed. Params were already logged with different"
        f" values for run ID='{run_id}': {rows}"
    )
