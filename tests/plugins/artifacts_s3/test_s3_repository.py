"""S3 repository specifics: settings, URI checks, multipart, progress, and clear storage errors."""

from __future__ import annotations

import io
import json
import sys
import uuid

import pytest

from headwater.exceptions import ErrorCode, HeadwaterError
from headwater.plugins.manager import make_plugin_manager
from headwater_artifacts_s3 import S3ArtifactRepository, S3Settings, parse_s3_uri
from headwater_artifacts_s3.testing import start_moto


def _code(call) -> HeadwaterError:
    with pytest.raises(HeadwaterError) as info:
        call()
    return info.value


# -- settings ----------------------------------------------------------------------------
def test_headwater_settings_win_over_mlflow_ones():
    env = {
        "MLFLOW_S3_ENDPOINT_URL": "http://mlflow:9000",
        "HEADWATER_S3_ENDPOINT_URL": "http://headwater:9000",
        "MLFLOW_S3_IGNORE_TLS": "true",
        "MLFLOW_BOTO_CLIENT_ADDRESSING_STYLE": "virtual",
        "HEADWATER_S3_ADDRESSING_STYLE": "path",
        "MLFLOW_S3_UPLOAD_EXTRA_ARGS": '{"ServerSideEncryption": "AES256"}',
    }
    settings = S3Settings.from_env(env)
    assert settings.endpoint_url == "http://headwater:9000"
    assert settings.verify_tls is False
    assert settings.addressing_style == "path"
    assert settings.extra_args() == {"ServerSideEncryption": "AES256"}
    only_mlflow = S3Settings.from_env({"MLFLOW_S3_ENDPOINT_URL": "http://mlflow:9000"})
    assert only_mlflow.endpoint_url == "http://mlflow:9000" and only_mlflow.verify_tls


@pytest.mark.parametrize("env, named", [
    ({"HEADWATER_S3_ADDRESSING_STYLE": "sideways"}, "addressing style"),
    ({"MLFLOW_S3_UPLOAD_EXTRA_ARGS": "not json"}, "JSON object"),
    ({"MLFLOW_S3_UPLOAD_EXTRA_ARGS": "[1]"}, "JSON object"),
    ({"HEADWATER_S3_MULTIPART_CHUNKSIZE": "0"}, "HEADWATER_S3_MULTIPART_CHUNKSIZE"),
    ({"HEADWATER_S3_MAX_CONCURRENCY": "many"}, "HEADWATER_S3_MAX_CONCURRENCY"),
])
def test_bad_settings_are_refused_with_their_name(env, named):
    error = _code(lambda: S3Settings.from_env(env))
    assert error.error_code == ErrorCode.INVALID_PARAMETER_VALUE and named in error.message


def test_the_client_uses_the_endpoint_and_addressing_style(monkeypatch):
    monkeypatch.setenv("HEADWATER_S3_ENDPOINT_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("HEADWATER_S3_ADDRESSING_STYLE", "path")
    repository = S3ArtifactRepository("s3://some-bucket/p")
    assert repository.client.meta.endpoint_url == "http://127.0.0.1:1"
    assert repository.client.meta.config.s3["addressing_style"] == "path"
    assert S3ArtifactRepository("s3://other-bucket/q").client is repository.client  # one client per settings


# -- URIs ----------------------------------------------------------------------------------
def test_uris_are_split_into_bucket_and_prefix():
    assert parse_s3_uri("s3://bucket") == ("bucket", "")
    assert parse_s3_uri("s3://bucket/") == ("bucket", "")
    assert parse_s3_uri("s3://bucket/a/b/") == ("bucket", "a/b")
    assert parse_s3_uri("S3://bucket/a//b") == ("bucket", "a/b")


@pytest.mark.parametrize("uri", [
    "s3://bucket/../other", "s3://bucket/a/../../x", "s3://bucket/a/%2e%2e/%2e%2e/x", "s3://bucket/%252e%252e/x",
    "s3://bucket/a\\..\\x", "s3://bucket/p?versionId=1", "s3://bucket/p#frag", "s3:///prefix",
    "s3://user@bucket/p", "s3://bucket:99/p", "file:///tmp/x",
])
def test_unsafe_or_malformed_uris_are_refused(uri):
    assert _code(lambda: parse_s3_uri(uri)).error_code == ErrorCode.INVALID_PARAMETER_VALUE


def test_the_plugin_claims_s3_uris(s3_bucket):
    manager = make_plugin_manager()
    try:
        repository = manager.artifact_repository(f"s3://{s3_bucket}/runs/1")
    finally:
        manager.close()
    assert isinstance(repository, S3ArtifactRepository)
    assert (repository.bucket, repository.prefix) == (s3_bucket, "runs/1")


# -- transfers ------------------------------------------------------------------------------
def test_big_files_go_up_in_parts_with_the_configured_extra_arguments(s3_bucket, s3_env, tmp_path, monkeypatch):
    monkeypatch.setenv("HEADWATER_S3_MULTIPART_THRESHOLD", str(5 * 1024 * 1024))
    monkeypatch.setenv("HEADWATER_S3_MULTIPART_CHUNKSIZE", str(5 * 1024 * 1024))
    monkeypatch.setenv("MLFLOW_S3_UPLOAD_EXTRA_ARGS", json.dumps({"Metadata": {"team": "tracking"}}))
    local = tmp_path / "weights.bin"
    local.write_bytes(b"\1" * (11 * 1024 * 1024))
    S3ArtifactRepository(f"s3://{s3_bucket}/run").log_artifact(str(local), "model")
    head = s3_env.client().head_object(Bucket=s3_bucket, Key="run/model/weights.bin")
    assert head["ETag"].strip('"').endswith("-3")  # a multipart object of three 5 MiB parts
    assert head["Metadata"] == {"team": "tracking"}
    small = tmp_path / "small.txt"
    small.write_bytes(b"x")
    S3ArtifactRepository(f"s3://{s3_bucket}/run").log_artifact(str(small))
    assert "-" not in s3_env.client().head_object(Bucket=s3_bucket, Key="run/small.txt")["ETag"]


def test_objects_written_by_other_tools_that_no_path_can_name_are_skipped(s3_bucket, s3_env, tmp_path):
    client = s3_env.client()
    for key in ("run/ok.txt", "run/folder/", "run//double.txt", "run/../sneaky.txt"):
        client.put_object(Bucket=s3_bucket, Key=key, Body=b"x")
    repository = S3ArtifactRepository(f"s3://{s3_bucket}/run")
    assert [(i.path, i.is_dir) for i in repository.list_artifacts()] == [("folder", True), ("ok.txt", False)]
    out = repository.download_artifacts("", str(tmp_path / "all"))
    assert sorted(p.name for p in (tmp_path / "all").rglob("*") if p.is_file()) == ["ok.txt"]
    assert not (tmp_path / "sneaky.txt").exists() and out


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_big_transfers_show_progress_on_a_terminal(s3_bucket, tmp_path, monkeypatch):
    monkeypatch.setenv("HEADWATER_PROGRESS_MIN_BYTES", "1000")
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    local = tmp_path / "data.bin"
    local.write_bytes(b"\0" * 200_000)
    repository = S3ArtifactRepository(f"s3://{s3_bucket}/p")
    repository.log_artifact(str(local))
    repository.download_file("data.bin", str(tmp_path / "back.bin"))
    shown = terminal.getvalue()
    assert "Uploading data.bin" in shown and "Downloading data.bin" in shown
    assert (tmp_path / "back.bin").read_bytes() == local.read_bytes()


# -- storage errors ------------------------------------------------------------------------------
def test_a_missing_bucket_is_named_with_its_endpoint(s3_env, tmp_path):
    bucket = f"missing-{uuid.uuid4().hex[:12]}"
    repository = S3ArtifactRepository(f"s3://{bucket}/p")
    local = tmp_path / "f.txt"
    local.write_text("x")
    for call in (
        lambda: repository.list_artifacts(),
        lambda: repository.log_artifact(str(local)),
        lambda: repository.write_stream("f.txt", io.BytesIO(b"x")),
        lambda: repository.download_file("f.txt", str(tmp_path / "g")),
        lambda: list(repository.open_stream("f.txt")),
        lambda: repository.delete_artifacts("f.txt"),
    ):
        error = _code(call)
        assert error.error_code == ErrorCode.RESOURCE_DOES_NOT_EXIST, error
        assert bucket in error.message and s3_env.endpoint in error.message and "does not exist" in error.message


@pytest.fixture(scope="module")
def moto_with_credential_checks(tmp_path_factory):
    """A moto server that checks credentials after its readiness probe and the three set-up calls made here."""
    server = start_moto(tmp_path_factory.mktemp("moto-auth"), env={"INITIAL_NO_AUTH_ACTION_COUNT": "4"})
    try:
        iam = server.client("iam")
        iam.create_user(UserName="writer")
        key = iam.create_access_key(UserName="writer")["AccessKey"]
        iam.put_user_policy(UserName="writer", PolicyName="all", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
        server.client(aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"]) \
            .create_bucket(Bucket="guarded-bucket")
        yield server, key
    finally:
        server.stop()


@pytest.mark.parametrize("wrong", ["unknown-key", "wrong-secret"])
def test_wrong_credentials_are_a_clear_refusal(moto_with_credential_checks, monkeypatch, tmp_path, wrong):
    server, key = moto_with_credential_checks
    monkeypatch.setenv("HEADWATER_S3_ENDPOINT_URL", server.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIANOBODY" if wrong == "unknown-key" else key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    repository = S3ArtifactRepository("s3://guarded-bucket/p")
    for call in (lambda: repository.list_artifacts(),
                 lambda: repository.write_stream("f.txt", io.BytesIO(b"x")),
                 lambda: list(repository.open_stream("f.txt"))):
        error = _code(call)
        assert error.error_code == ErrorCode.PERMISSION_DENIED, error
        assert "guarded-bucket" in error.message and server.endpoint in error.message
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    assert S3ArtifactRepository("s3://guarded-bucket/p").list_artifacts() == []  # right keys work


def test_an_unreachable_endpoint_is_named(monkeypatch, s3_env):
    monkeypatch.setenv("HEADWATER_S3_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    error = _code(lambda: S3ArtifactRepository("s3://any-bucket/p").list_artifacts())
    assert error.error_code == ErrorCode.TEMPORARILY_UNAVAILABLE
    assert "any-bucket" in error.message and "http://127.0.0.1:9" in error.message


class _Failing(io.RawIOBase):
    def __init__(self, good: int):
        self._left = good

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._left <= 0:
            raise ConnectionResetError("client went away")
        size = min(len(buffer), self._left, 1 << 20)
        buffer[:size] = b"\1" * size
        self._left -= size
        return size


def test_a_stream_that_breaks_mid_upload_leaves_no_object(s3_bucket, s3_env, monkeypatch):
    monkeypatch.setenv("HEADWATER_S3_MULTIPART_THRESHOLD", str(5 * 1024 * 1024))
    monkeypatch.setenv("HEADWATER_S3_MULTIPART_CHUNKSIZE", str(5 * 1024 * 1024))
    repository = S3ArtifactRepository(f"s3://{s3_bucket}/p")
    for good in (100, 12 * 1024 * 1024):  # before and after the multipart threshold
        with pytest.raises(ConnectionResetError):
            repository.write_stream("broken.bin", io.BufferedReader(_Failing(good)))
        assert repository.list_artifacts() == []
    uploads = s3_env.client().list_multipart_uploads(Bucket=s3_bucket).get("Uploads", [])
    assert uploads == []
