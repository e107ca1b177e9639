"""Logged models (MLflow 3), the optional part of the tracking store contract.

:class:`~headwater.store.TrackingStore` inherits these methods. A store that
keeps logged models overrides all of them; one that does not (an older
remote server, a minimal plugin) leaves the defaults, which raise
NOT_IMPLEMENTED, and callers fall back where they can (``log_model`` then
logs the model as plain run artifacts).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from headwater.entities import LoggedModel, LoggedModelOutput, LoggedModelStatus, PagedList
from headwater.exceptions import ErrorCode, HeadwaterError

# Characters a logged model's name may not contain (it becomes a path segment and a filter value).
FORBIDDEN_NAME_CHARACTERS = ("/", ":", ".", "%", '"', "'")
SEARCH_MAX_RESULTS_DEFAULT = 100


def not_implemented(store: Any, what: str) -> HeadwaterError:
    return HeadwaterError(
        f"{type(store).__name__} does not support logged models ({what}).", ErrorCode.NOT_IMPLEMENTED
    )


def validate_logged_model_name(name: str | None) -> None:
    if name is None:
        return
    if not name or any(c in name for c in FORBIDDEN_NAME_CHARACTERS):
        raise HeadwaterError.invalid(
            f"Invalid model name {name!r}: a name must be non-empty and may not contain any of"
            f" {' '.join(FORBIDDEN_NAME_CHARACTERS)}"
        )


class LoggedModelStore:
    """The logged-model methods of a tracking store; every default raises NOT_IMPLEMENTED."""

    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        model_type: str | None = None,
    ) -> LoggedModel:
        """Create a PENDING model ``m-<32 hex>`` in the experiment (a random name if none).

        Its ``artifact_uri`` is ``<experiment artifact location>/models/<model_id>/artifacts``.
        """
        raise not_implemented(self, "create_logged_model")

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        """The model; RESOURCE_DOES_NOT_EXIST if unknown (or deleted, unless ``allow_deleted``)."""
        raise not_implemented(self, "get_logged_model")

    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus) -> LoggedModel:
        """Set the upload status (READY or UPLOAD_FAILED) and return the updated model."""
        raise not_implemented(self, "finalize_logged_model")

    def delete_logged_model(self, model_id: str) -> None:
        """Soft-delete the model (its files stay)."""
        raise not_implemented(self, "delete_logged_model")

    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, str]) -> None:
        """Insert or replace tags."""
        raise not_implemented(self, "set_logged_model_tags")

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """Remove a tag; RESOURCE_DOES_NOT_EXIST if absent."""
        raise not_implemented(self, "delete_logged_model_tag")

    def log_logged_model_params(self, model_id: str, params: Mapping[str, str]) -> None:
        """Add params (a key already set keeps its value only if the new one is equal)."""
        raise not_implemented(self, "log_logged_model_params")

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        datasets: Sequence[Mapping[str, Any]] | None = None,
        max_results: int | None = None,
        order_by: Sequence[Mapping[str, Any]] | None = None,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        """Models of the experiments matching the filter (search-grammar.md §6), newest first by default.

        ``order_by`` items are ``{"field_name", "ascending"}`` dicts.
        """
        raise not_implemented(self, "search_logged_models")

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        """Record models the run produced (``runs/outputs``)."""
        raise not_implemented(self, "log_outputs")

    def log_model_inputs(self, run_id: str, model_ids: Sequence[str]) -> None:
        """Record models the run used (the ``models`` of ``runs/log-inputs``)."""
        raise not_implemented(self, "log_model_inputs")
