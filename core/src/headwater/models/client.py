"""The model half of :class:`headwater.Client`: logged models and model files.

Mixed into ``Client``; every call goes to the client's tracking store (the
logged-model methods of :class:`~headwater.store.logged_models.LoggedModelStore`).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from headwater.entities import LoggedModel, LoggedModelOutput, LoggedModelStatus, PagedList


def _strings(mapping: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(k): v if isinstance(v, str) else str(v) for k, v in (mapping or {}).items()}


class ModelsClientMixin:
    """Logged models, model URIs, and save/log/load on an explicit client."""

    store: Any
    service: Any  # the evented TrackingService: logged-model changes are announced like any other
    plugin_manager: Any

    # -- logged models -------------------------------------------------------------------
    def create_logged_model(
        self,
        experiment_id: str | int,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        model_type: str | None = None,
    ) -> LoggedModel:
        return self.service.create_logged_model(
            str(experiment_id), name, source_run_id, _strings(tags), _strings(params), model_type
        )

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        return self.service.get_logged_model(model_id, allow_deleted)

    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus | str | int) -> LoggedModel:
        return self.service.finalize_logged_model(model_id, LoggedModelStatus.parse(status))

    def delete_logged_model(self, model_id: str) -> None:
        self.service.delete_logged_model(model_id)

    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, Any]) -> None:
        self.service.set_logged_model_tags(model_id, _strings(tags))

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        self.service.delete_logged_model_tag(model_id, key)

    def log_model_params(self, model_id: str, params: Mapping[str, Any]) -> None:
        self.service.log_logged_model_params(model_id, _strings(params))

    def search_logged_models(
        self,
        experiment_ids: Sequence[str | int],
        filter_string: str | None = None,
        max_results: int | None = None,
        order_by: Sequence[Mapping[str, Any]] | None = None,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        return self.service.search_logged_models(
            [str(e) for e in experiment_ids], filter_string, None, max_results, order_by, page_token
        )

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        self.service.log_outputs(run_id, list(models))

    # -- model files ---------------------------------------------------------------------
    def repository_for_uri(self, artifact_uri: str) -> Any:
        """The artifact repository for any artifact URI (``mlflow-artifacts:`` on this client's server)."""
        resolve = getattr(self.store, "resolve_artifact_uri", None)
        return self.plugin_manager.artifact_repository(resolve(artifact_uri) if resolve else artifact_uri)

    def download_model(self, model_uri: str, dst_path: str | None = None) -> str:
        """A local directory with the model ``model_uri`` names (see :mod:`headwater.models.uri`)."""
        from headwater.models.uri import download_model

        return download_model(model_uri, dst_path, client=self)

    def log_model(self, run_id: str, model: Any, name: str | None = None, **options: Any) -> Any:
        """Save ``model`` and log it to ``run_id`` (see :func:`headwater.models.log_model`)."""
        from headwater.models.api import log_model

        return log_model(model, name, run_id=run_id, client=self, **options)

    def load_model(self, model_uri: str, flavor: str | None = None, dst_path: str | None = None) -> Any:
        """Load a model through this client's stores (see :func:`headwater.models.load_model`)."""
        from headwater.models.api import load_flavor
        from headwater.models.pyfunc import load_pyfunc

        local = self.download_model(model_uri, dst_path)
        return load_pyfunc(local) if flavor is None else load_flavor(flavor, local)
