"""A :class:`~headwater.store.RegistryStore` that forwards every call to a tracking server.

Requests and answers are the registry part of MLflow's REST API
(spec/rest-api.md §5), so it works against ``headwater server`` and
``mlflow server`` alike; errors come back as :class:`HeadwaterError` with the
server's code. The server checks model-version sources (spec/security.md §1).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from requests.adapters import HTTPAdapter

from headwater.entities import ModelVersion, ModelVersionStage, PagedList, RegisteredModel
from headwater.registry import validation as rv
from headwater.store.registry import RegistryStore, Tags
from headwater_store_rest import wire
from headwater_store_rest.transport import API_PREFIX, HttpConfig, RestClient, _retry

# Registry POSTs that may be sent twice with no other effect than sending them once.
RETRY_SAFE_REGISTRY_POSTS = (
    "registered-models/get-latest-versions",
    "registered-models/search",
    "registered-models/set-tag",
    "registered-models/alias",
    "model-versions/set-tag",
    "model-versions/search",
)


def _int(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


def model_version(data: Mapping[str, Any]) -> ModelVersion:
    return ModelVersion(
        name=data["name"],
        version=str(data["version"]),
        creation_timestamp=_int(data.get("creation_timestamp")),
        last_updated_timestamp=_int(data.get("last_updated_timestamp")),
        user_id=data.get("user_id") or None,
        current_stage=data.get("current_stage") or ModelVersionStage.NONE.value,
        description=data.get("description"),
        source=data.get("source"),
        run_id=data.get("run_id") or None,
        status=data.get("status") or "READY",
        status_message=data.get("status_message") or None,
        tags={t["key"]: t.get("value", "") for t in data.get("tags", ())},
        run_link=data.get("run_link") or None,
        aliases=list(data.get("aliases", ())),
        model_id=data.get("model_id") or None,
    )


def registered_model(data: Mapping[str, Any]) -> RegisteredModel:
    return RegisteredModel(
        name=data["name"],
        creation_timestamp=_int(data.get("creation_timestamp")),
        last_updated_timestamp=_int(data.get("last_updated_timestamp")),
        user_id=data.get("user_id") or None,
        description=data.get("description"),
        latest_versions=[model_version(v) for v in data.get("latest_versions", ())],
        tags={t["key"]: t.get("value", "") for t in data.get("tags", ())},
        aliases={a["alias"]: str(a["version"]) for a in data.get("aliases", ())},
    )


class RestRegistryStore(RegistryStore):
    """Registry store for ``http://`` and ``https://`` registry URIs."""

    def __init__(self, registry_uri: str, config: HttpConfig | None = None):
        self.registry_uri = registry_uri.rstrip("/")
        self.client = RestClient(self.registry_uri, config)
        safe = HTTPAdapter(max_retries=_retry(self.client.config, None))
        for path in RETRY_SAFE_REGISTRY_POSTS:
            self.client.session.mount(f"{self.registry_uri}{API_PREFIX}/{path}", safe)

    def _call(self, method: str, endpoint: str, **fields: Any) -> dict[str, Any]:
        present = {k: v for k, v in fields.items() if v is not None}
        if method == "GET":
            return self.client.call("GET", endpoint, params=present)
        return self.client.call(method, endpoint, body=present)

    # -- registered models ---------------------------------------------------------------
    def create_registered_model(self, name, tags: Tags = None, description=None) -> RegisteredModel:
        answer = self._call("POST", "registered-models/create", name=name, tags=wire.key_values(tags) or None,
                            description=description)
        return registered_model(answer["registered_model"])

    def get_registered_model(self, name) -> RegisteredModel:
        return registered_model(self._call("GET", "registered-models/get", name=name)["registered_model"])

    def rename_registered_model(self, name, new_name) -> RegisteredModel:
        answer = self._call("POST", "registered-models/rename", name=name, new_name=new_name)
        return registered_model(answer["registered_model"])

    def update_registered_model(self, name, description) -> RegisteredModel:
        answer = self._call("PATCH", "registered-models/update", name=name, description=description)
        return registered_model(answer["registered_model"])

    def delete_registered_model(self, name) -> None:
        self._call("DELETE", "registered-models/delete", name=name)

    def search_registered_models(
        self, filter_string=None, max_results=None, order_by=None, page_token=None
    ) -> PagedList[RegisteredModel]:
        answer = self._call(
            "GET", "registered-models/search",
            filter=filter_string or None,
            max_results=rv.SEARCH_REGISTERED_MODELS_DEFAULT if max_results is None else max_results,
            order_by=list(order_by) if order_by else None,
            page_token=page_token or None,
        )
        return PagedList[RegisteredModel](
            items=[registered_model(m) for m in answer.get("registered_models", ())],
            token=answer.get("next_page_token") or None,
        )

    def get_latest_versions(self, name, stages: Sequence[str] | None = None) -> list[ModelVersion]:
        answer = self._call("POST", "registered-models/get-latest-versions", name=name,
                            stages=list(stages) if stages else None)
        return [model_version(v) for v in answer.get("model_versions", ())]

    def set_registered_model_tag(self, name, key, value) -> None:
        self._call("POST", "registered-models/set-tag", name=name, key=key, value=value)

    def delete_registered_model_tag(self, name, key) -> None:
        self._call("DELETE", "registered-models/delete-tag", name=name, key=key)

    # -- model versions ---------------------------------------------------------------------
    def create_model_version(
        self, name, source, run_id=None, tags: Tags = None, run_link=None, description=None, model_id=None
    ) -> ModelVersion:
        answer = self._call(
            "POST", "model-versions/create", name=name, source=source, run_id=run_id,
            tags=wire.key_values(tags) or None, run_link=run_link, description=description, model_id=model_id,
        )
        return model_version(answer["model_version"])

    def get_model_version(self, name, version) -> ModelVersion:
        return model_version(self._call("GET", "model-versions/get", name=name, version=str(version))["model_version"])

    def update_model_version(self, name, version, description) -> ModelVersion:
        answer = self._call("PATCH", "model-versions/update", name=name, version=str(version), description=description)
        return model_version(answer["model_version"])

    def transition_model_version_stage(self, name, version, stage, archive_existing_versions=False) -> ModelVersion:
        answer = self._call(
            "POST", "model-versions/transition-stage", name=name, version=str(version),
            stage=stage.value if isinstance(stage, ModelVersionStage) else stage,
            archive_existing_versions=bool(archive_existing_versions),
        )
        return model_version(answer["model_version"])

    def delete_model_version(self, name, version) -> None:
        self._call("DELETE", "model-versions/delete", name=name, version=str(version))

    def get_model_version_download_uri(self, name, version) -> str:
        return self._call("GET", "model-versions/get-download-uri", name=name, version=str(version))["artifact_uri"]

    def search_model_versions(
        self, filter_string=None, max_results=None, order_by=None, page_token=None
    ) -> PagedList[ModelVersion]:
        answer = self._call(
            "GET", "model-versions/search",
            filter=filter_string or None,
            max_results=rv.SEARCH_MODEL_VERSIONS_DEFAULT if max_results is None else max_results,
            order_by=list(order_by) if order_by else None,
            page_token=page_token or None,
        )
        return PagedList[ModelVersion](
            items=[model_version(v) for v in answer.get("model_versions", ())],
            token=answer.get("next_page_token") or None,
        )

    def set_model_version_tag(self, name, version, key, value) -> None:
        self._call("POST", "model-versions/set-tag", name=name, version=str(version), key=key, value=value)

    def delete_model_version_tag(self, name, version, key) -> None:
        self._call("DELETE", "model-versions/delete-tag", name=name, version=str(version), key=key)

    # -- aliases ---------------------------------------------------------------------------------
    def set_registered_model_alias(self, name, alias, version) -> None:
        self._call("POST", "registered-models/alias", name=name, alias=alias, version=str(version))

    def delete_registered_model_alias(self, name, alias) -> None:
        self._call("DELETE", "registered-models/alias", name=name, alias=alias)

    def get_model_version_by_alias(self, name, alias) -> ModelVersion:
        return model_version(self._call("GET", "registered-models/alias", name=name, alias=alias)["model_version"])

    def resolve_artifact_uri(self, artifact_uri: str) -> str:
        """``mlflow-artifacts:`` download URIs as URLs on this registry's server; others unchanged."""
        if artifact_uri.startswith("mlflow-artifacts:"):
            from headwater_store_rest.artifacts import resolve_artifact_uri

            return resolve_artifact_uri(artifact_uri, self.registry_uri)
        return artifact_uri

    def close(self) -> None:
        self.client.close()
