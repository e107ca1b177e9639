"""The artifact-proxy repository (``mlflow-artifacts:`` URIs) against a live server."""

from __future__ import annotations

import os

import pytest

from headwater.entities import FileInfo
from headwater.exceptions import ErrorCode, HeadwaterError
from headwater.plugins.manager import make_plugin_manager
from headwater_store_rest import HttpConfig, ProxyArtifactRepository, RestStore
from headwater_store_rest.artifacts import resolve_artifact_uri

FAST = HttpConfig(max_retries=1, backoff_factor=0)


@pytest.fixture
def run_artifact_uri(rest_server):
    """The artifact URI of a fresh run on the server (``mlflow-artifacts:/...``)."""
    rest_server.reset()
    store = RestStore(rest_server.url, FAST)
    uri = store.create_run("0").info.artifact_uri
    store.close()
    return uri


@pytest.fixture
def repo(rest_server, run_artifact_uri):
    repository = ProxyArtifactRepository(run_artifact_uri, tracking_uri=rest_server.url, config=FAST)
    yield repository
    repository.close()


@pytest.fixture
def local_tree(tmp_path):
    src = tmp_path / "src"
    (src / "sub" / "deeper").mkdir(parents=True)
    (src / "a.txt").write_text("alpha")
    (src / "sub" / "b.bin").write_bytes(os.urandom(2048))
    (src / "sub" / "deeper" / "c.json").write_text("{}")
    return src


def test_new_runs_get_proxy_uris(run_artifact_uri):
    assert run_artifact_uri.startswith("mlflow-artifacts:/0/")
    assert run_artifact_uri.endswith("/artifacts")


def test_log_list_download_round_trip(repo, local_tree, tmp_path, rest_server, run_artifact_uri):
    repo.log_artifact(str(local_tree / "a.txt"))
    repo.log_artifacts(str(local_tree), "tree")
    assert repo.list_artifacts() == [FileInfo(path="a.txt", is_dir=False, file_size=5),
                                     FileInfo(path="tree", is_dir=True)]
    assert repo.list_artifacts("tree/sub") == [
        FileInfo(path="tree/sub/b.bin", is_dir=False, file_size=2048),
        FileInfo(path="tree/sub/deeper", is_dir=True),
    ]
    assert repo.list_artifacts("tree/a.txt") == []  # a file lists nothing
    local = repo.download_artifacts("tree", str(tmp_path / "out"))
    assert (tmp_path / "out" / "tree" / "sub" / "b.bin").read_bytes() == (local_tree / "sub" / "b.bin").read_bytes()
    assert local == str(tmp_path / "out" / "tree")
    # The bytes really are on the server, under its artifacts destination.
    relative = run_artifact_uri.split(":", 1)[1].lstrip("/")
    assert (rest_server.artifacts_destination / relative / "a.txt").read_text() == "alpha"


def test_single_file_download_and_stream(repo, local_tree, tmp_path):
    repo.log_artifact(str(local_tree / "sub" / "b.bin"), "x/y")
    path = repo.download_artifacts("x/y/b.bin", str(tmp_path / "d"))
    assert open(path, "rb").read() == (local_tree / "sub" / "b.bin").read_bytes()
    assert b"".join(repo.open_stream("x/y/b.bin", chunk_size=100)) == (local_tree / "sub" / "b.bin").read_bytes()


def test_write_stream_uploads_a_file_object(repo, tmp_path):
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(3 * 1024 * 1024))
    with open(source, "rb") as handle:
        repo.write_stream("streams/big.bin", handle)
    assert b"".join(repo.open_stream("streams/big.bin")) == source.read_bytes()


def test_delete_artifacts(repo, local_tree):
    repo.log_artifacts(str(local_tree), "tree")
    repo.delete_artifacts("tree/sub")
    assert [f.path for f in repo.list_artifacts("tree")] == ["tree/a.txt"]
    repo.delete_artifacts("tree/nothing")  # nothing there: no error


def test_missing_file_is_resource_does_not_exist(repo, tmp_path):
    with pytest.raises(HeadwaterError) as info:
        repo.download_file("nope.txt", str(tmp_path / "nope.txt"))
    assert info.value.error_code == ErrorCode.RESOURCE_DOES_NOT_EXIST


@pytest.mark.parametrize("path", ["../escape.txt", "/etc/passwd", "a/%2e%2e/b", "C:\\x"])
def test_unsafe_paths_are_refused_before_any_request(repo, path):
    with pytest.raises(HeadwaterError) as info:
        repo.list_artifacts(path)
    assert info.value.error_code == ErrorCode.INVALID_PARAMETER_VALUE


def test_plugin_manager_routes_proxy_uris_through_the_tracking_uri(rest_server, run_artifact_uri, monkeypatch):
    monkeypatch.setenv("HEADWATER_TRACKING_URI", rest_server.url)
    repository = make_plugin_manager().artifact_repository(run_artifact_uri)
    assert isinstance(repository, ProxyArtifactRepository)
    assert repository.url.startswith(rest_server.url + "/api/2.0/mlflow-artifacts/artifacts/0/")
    assert repository.list_artifacts() == []


def test_rest_store_resolves_proxy_uris_against_its_own_server(rest_server, run_artifact_uri):
    store = RestStore(rest_server.url, FAST)
    url = store.resolve_artifact_uri(run_artifact_uri)
    assert url == rest_server.url + "/api/2.0/mlflow-artifacts/artifacts/" + run_artifact_uri.split(":/", 1)[1]
    assert store.resolve_artifact_uri("s3://bucket/x") == "s3://bucket/x"


@pytest.mark.parametrize(
    "uri, tracking, expected",
    [
        ("mlflow-artifacts:/1/r/artifacts", "http://h:5000", "http://h:5000/api/2.0/mlflow-artifacts/artifacts/1/r/artifacts"),
        ("mlflow-artifacts:/1/r", "https://h/prefix/", "https://h/prefix/api/2.0/mlflow-artifacts/artifacts/1/r"),
        ("mlflow-artifacts://other:81/1/r", "http://h:5000", "http://other:81/api/2.0/mlflow-artifacts/artifacts/1/r"),
        ("mlflow-artifacts://other:81/1/r", "sqlite:///x.db", "http://other:81/api/2.0/mlflow-artifacts/artifacts/1/r"),
        ("mlflow-artifacts:/", "http://h", "http://h/api/2.0/mlflow-artifacts/artifacts"),
        ("http://h/api/2.0/mlflow-artifacts/artifacts/1/r", None, "http://h/api/2.0/mlflow-artifacts/artifacts/1/r"),
    ],
)
def test_uri_resolution(uri, tracking, expected):
    assert resolve_artifact_uri(uri, tracking) == expected


@pytest.mark.parametrize(
    "uri, tracking",
    [
        ("mlflow-artifacts:/1/r", "sqlite:///x.db"),  # no server to resolve against
        ("mlflow-artifacts:/1/../../etc", "http://h"),
        ("mlflow-artifacts:/1/%2e%2e/etc", "http://h"),
        ("mlflow-artifacts:/1/r#frag", "http://h"),
        ("mlflow-artifacts:/1/r?x=1", "http://h"),
        ("http://h/api/2.0/mlflow-artifacts/artifacts/../../x", None),
        ("http://h/some/other/path", None),
        ("s3://bucket/x", "http://h"),
    ],
)
def test_uri_resolution_refuses(uri, tracking):
    with pytest.raises(HeadwaterError) as info:
        resolve_artifact_uri(uri, tracking)
    assert info.value.error_code == ErrorCode.INVALID_PARAMETER_VALUE


def test_big_uploads_show_progress_on_stderr_only(repo, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HEADWATER_PROGRESS_MIN_BYTES", "1000")
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(5000))
    repo.log_artifact(str(source))
    repo.download_file("big.bin", str(tmp_path / "back.bin"))
    assert (tmp_path / "back.bin").read_bytes() == source.read_bytes()
    captured = capsys.readouterr()
    assert "Uploading big.bin" in captured.err and "5.0/5.0 kB" in captured.err
    assert captured.out == ""


def test_small_uploads_show_no_progress(repo, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    source = tmp_path / "small.bin"
    source.write_bytes(b"x" * 5000)
    repo.log_artifact(str(source))
    assert "Uploading" not in capsys.readouterr().err
