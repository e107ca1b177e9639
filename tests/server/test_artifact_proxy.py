"""The artifact proxy (``/api/2.0/mlflow-artifacts``): streaming, listing, headers,
path attacks (spec/security.md §3, one test per shape) and ``--no-serve-artifacts``.

The router is served on its own by uvicorn in a thread, over a real socket, so
raw request paths (``..``, ``%2e%2e``, ``%252e``) reach it exactly as sent.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import threading
import time
from typing import Any, Iterator

import pytest

fastapi = pytest.importorskip("fastapi")
uvicorn = pytest.importorskip("uvicorn")

from headwater.entities import FileInfo  # noqa: E402
from headwater.plugins.manager import make_plugin_manager  # noqa: E402
from headwater.store.artifacts import ArtifactRepository  # noqa: E402
from headwater_server.artifacts import (  # noqa: E402
    MULTIPART_UNSUPPORTED,
    artifact_media_type,
    build_artifacts_router,
    content_disposition,
)

PREFIXES = ("/api/2.0/mlflow-artifacts", "/ajax-api/2.0/mlflow-artifacts")
API = PREFIXES[0]


class LiveApp:
    """A FastAPI app with the artifact router mounted at both prefixes, on a free port."""

    def __init__(self, destination: str | None, plugin_manager: Any, serve: bool = True):
        app = fastapi.FastAPI()
        router = build_artifacts_router(destination, plugin_manager, serve_artifacts=serve)
        for prefix in PREFIXES:
            app.include_router(router, prefix=prefix)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="error"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "test server did not start"
            time.sleep(0.01)

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None):
        """Send ``path`` byte for byte (no client-side normalisation); returns (status, headers, body)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def layout(tmp_path):
    """An artifact root inside ``tmp_path``, beside a secret file that must stay out of reach."""
    root = tmp_path / "root"
    root.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    return root, secret


@pytest.fixture
def proxy(layout) -> Iterator[LiveApp]:
    root, _ = layout
    app = LiveApp(str(root), make_plugin_manager())
    yield app
    app.stop()


def _json(body: bytes) -> Any:
    return json.loads(body)


# -- round trips ----------------------------------------------------------------------
def test_upload_then_download_round_trips_bytes(proxy, layout):
    root, _ = layout
    payload = os.urandom(3 * 1024 * 1024 + 17)
    status, _, body = proxy.request("PUT", f"{API}/artifacts/1/run/artifacts/data/blob.bin", payload)
    assert (status, _json(body)) == (200, {})
    assert (root / "1/run/artifacts/data/blob.bin").read_bytes() == payload
    status, headers, body = proxy.request("GET", f"{API}/artifacts/1/run/artifacts/data/blob.bin")
    assert status == 200 and body == payload
    assert headers["content-disposition"] == "attachment; filename=blob.bin"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-type"] == "application/octet-stream"


def test_the_ajax_prefix_serves_the_same_files(proxy):
    proxy.request("PUT", f"{PREFIXES[1]}/artifacts/a/b.txt", b"hello")
    status, _, body = proxy.request("GET", f"{API}/artifacts/a/b.txt")
    assert (status, body) == (200, b"hello")


def test_an_empty_file_round_trips(proxy):
    assert proxy.request("PUT", f"{API}/artifacts/e/empty.txt", b"")[0] == 200
    status, _, body = proxy.request("GET", f"{API}/artifacts/e/empty.txt")
    assert (status, body) == (200, b"")


def test_uploading_again_replaces_the_file(proxy, layout):
    root, _ = layout
    proxy.request("PUT", f"{API}/artifacts/x/f.txt", b"one")
    proxy.request("PUT", f"{API}/artifacts/x/f.txt", b"two!")
    assert (root / "x/f.txt").read_bytes() == b"two!"


def test_chunked_upload_without_content_length(proxy, layout):
    root, _ = layout
    parts = [os.urandom(100_000) for _ in range(5)]
    status, _, _ = proxy.request("PUT", f"{API}/artifacts/c/chunked.bin", iter(parts))  # no length: sent chunked
    assert status == 200
    assert (root / "c/chunked.bin").read_bytes() == b"".join(parts)


# -- streaming -----------------------------------------------------------------------------
class HandshakeRepository(ArtifactRepository):
    """Proves streaming: each side waits for the other before the transfer can finish."""

    def __init__(self, artifact_uri: str):
        super().__init__(artifact_uri)
        self.first_chunk_received = threading.Event()
        self.client_got_first_chunk = threading.Event()
        self.received = b""

    def write_stream(self, remote_path, stream):
        self.received = stream.read(4)
        self.first_chunk_received.set()
        while chunk := stream.read(65536):
            self.received += chunk

    def open_stream(self, remote_path, chunk_size=1 << 20):
        yield b"first"
        assert self.client_got_first_chunk.wait(10), "the client never saw the first chunk"
        yield b"-second"

    def log_artifact(self, local_file, artifact_path=None): raise NotImplementedError
    def log_artifacts(self, local_dir, artifact_path=None): raise NotImplementedError
    def list_artifacts(self, path=None): return []
    def download_file(self, remote_path, local_path): raise NotImplementedError
    def delete_artifacts(self, artifact_path=None): pass


class OneRepositoryManager:
    def __init__(self, repository):
        self.repository = repository

    def artifact_repository(self, uri):
        return self.repository


@pytest.fixture
def handshake():
    repository = HandshakeRepository("mem://")
    app = LiveApp("mem://", OneRepositoryManager(repository))
    yield app, repository
    app.stop()


def test_upload_reaches_the_repository_before_the_body_is_complete(handshake):
    app, repository = handshake

    def body():
        yield b"head"
        # The server must hand "head" on before the rest is even produced.
        assert repository.first_chunk_received.wait(10), "the server buffered the upload"
        yield b"-tail"

    status, _, _ = app.request("PUT", f"{API}/artifacts/s/f.bin", body())  # sent chunked
    assert status == 200
    assert repository.received == b"head-tail"


def test_download_sends_chunks_as_the_repository_yields_them(handshake):
    app, repository = handshake
    conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=30)
    conn.request("GET", f"{API}/artifacts/s/f.bin")
    response = conn.getresponse()
    assert response.status == 200
    assert response.read1(5) == b"first"  # arrives while the repository still waits
    repository.client_got_first_chunk.set()
    assert response.read() == b"-second"
    conn.close()


# -- listing, errors, deletion ---------------------------------------------------------------
def test_listing_gives_base_names_and_sizes_for_files_only(proxy):
    proxy.request("PUT", f"{API}/artifacts/1/r/artifacts/model/MLmodel", b"flavors: {}")
    proxy.request("PUT", f"{API}/artifacts/1/r/artifacts/model/data/w.bin", b"12345")
    status, _, body = proxy.request("GET", f"{API}/artifacts?path=1/r/artifacts/model")
    assert status == 200
    assert _json(body) == {"files": [{"path": "MLmodel", "is_dir": False, "file_size": 11},
                                     {"path": "data", "is_dir": True}]}


@pytest.mark.parametrize("path", ["1/r/artifacts/model/MLmodel", "does/not/exist"])
def test_listing_a_file_or_a_missing_path_is_empty(proxy, path):
    proxy.request("PUT", f"{API}/artifacts/1/r/artifacts/model/MLmodel", b"x")
    status, _, body = proxy.request("GET", f"{API}/artifacts?path={path}")
    assert (status, _json(body)) == (200, {})


def test_listing_the_root(proxy):
    proxy.request("PUT", f"{API}/artifacts/7/f.txt", b"x")
    assert _json(proxy.request("GET", f"{API}/artifacts")[2]) == {"files": [{"path": "7", "is_dir": True}]}


def test_download_of_a_missing_file_is_404(proxy, layout):
    status, _, body = proxy.request("GET", f"{API}/artifacts/1/missing.txt")
    assert status == 404
    error = _json(body)
    assert error["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert str(layout[0]) not in error["message"]  # the server's storage path is not disclosed


def test_download_of_a_directory_is_400(proxy):
    proxy.request("PUT", f"{API}/artifacts/d/inner/f.txt", b"x")
    status, _, body = proxy.request("GET", f"{API}/artifacts/d/inner")
    assert status == 400 and _json(body)["error_code"] == "INVALID_PARAMETER_VALUE"


def test_delete_removes_a_file_or_a_tree_and_tolerates_nothing(proxy, layout):
    root, _ = layout
    proxy.request("PUT", f"{API}/artifacts/t/a/1.txt", b"1")
    proxy.request("PUT", f"{API}/artifacts/t/a/b/2.txt", b"2")
    proxy.request("PUT", f"{API}/artifacts/t/keep.txt", b"k")
    assert proxy.request("DELETE", f"{API}/artifacts/t/a/1.txt")[:1] == (200,)
    assert not (root / "t/a/1.txt").exists() and (root / "t/a/b/2.txt").exists()
    status, _, body = proxy.request("DELETE", f"{API}/artifacts/t/a")
    assert (status, _json(body)) == (200, {})
    assert not (root / "t/a").exists() and (root / "t/keep.txt").exists()
    assert proxy.request("DELETE", f"{API}/artifacts/t/nothing-here")[:1] == (200,)


@pytest.mark.parametrize("method", ["PUT", "DELETE", "GET"])
def test_the_root_itself_is_not_a_file_path(proxy, layout, method):
    root, _ = layout
    proxy.request("PUT", f"{API}/artifacts/keep/f.txt", b"x")
    status, _, body = proxy.request(method, f"{API}/artifacts/", b"" if method == "PUT" else None)
    assert status == 400 and _json(body) == {"error_code": "INVALID_PARAMETER_VALUE", "message": "Invalid path"}
    assert (root / "keep/f.txt").exists()


@pytest.mark.parametrize("path", ["x/f.txt/below.txt", "x/" + "n" * 300])
def test_paths_the_storage_cannot_hold_are_400_not_500(proxy, path):
    proxy.request("PUT", f"{API}/artifacts/x/f.txt", b"a file where a folder would be needed")
    status, _, body = proxy.request("PUT", f"{API}/artifacts/{path}", b"data")
    assert status == 400
    assert _json(body)["error_code"] == "INVALID_PARAMETER_VALUE"


# -- content types -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, expected",
    [
        ("page.html", "text/plain"),
        ("page.htm", "text/plain"),
        ("page.xhtml", "application/octet-stream"),
        ("image.svg", "application/octet-stream"),
        ("script.js", "text/plain"),
        ("module.mjs", "text/plain"),
        ("data.xml", "text/plain"),
        ("style.css", "text/plain"),
        ("MLmodel", "text/plain"),
        ("conda.yaml", "text/plain"),
        ("plot.png", "image/png"),
        ("report.pdf", "application/pdf"),
        ("weights", "application/octet-stream"),
    ],
)
def test_media_types_never_let_a_browser_run_script(name, expected):
    assert artifact_media_type(name) == expected


def test_a_served_html_artifact_is_inert(proxy):
    proxy.request("PUT", f"{API}/artifacts/x/evil.html", b"<script>alert(1)</script>")
    status, headers, _ = proxy.request("GET", f"{API}/artifacts/x/evil.html")
    assert status == 200
    assert headers["content-type"].startswith("text/plain")
    assert headers["content-disposition"].startswith("attachment")
    assert headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "name, expected",
    [
        ("model.pkl", "attachment; filename=model.pkl"),
        ('we"ird name.txt', "attachment; filename=\"we_ird name.txt\"; filename*=UTF-8''we%22ird%20name.txt"),
        ("plain name.txt", 'attachment; filename="plain name.txt"'),
        ("résumé.txt", "attachment; filename=\"rsum.txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9.txt"),
    ],
)
def test_content_disposition_quotes_names(name, expected):
    assert content_disposition(name) == expected


# -- path attacks (spec/security.md §3) ---------------------------------------------------------
ATTACKS = {
    "dot-dot": "a/../../secret.txt",
    "dot-dot-only": "..",
    "encoded-dot-dot": "a/%2e%2e/%2e%2e/secret.txt",
    "double-encoded-dot-dot": "a/%252e%252e/%252e%252e/secret.txt",
    "encoded-separator": "..%2f..%2fsecret.txt",
    "double-encoded-separator": "a%252f..%252f..%252fsecret.txt",
    "absolute-posix": "/etc/passwd",
    "encoded-absolute-posix": "%2fetc%2fpasswd",
    "absolute-windows": "C:/Windows/win.ini",
    "windows-backslash-drive": "C:%5cWindows%5cwin.ini",
    "backslash-dot-dot": "a%5c..%5c..%5csecret.txt",
    "double-encoded-backslash": "a%255c..%255csecret.txt",
    "fragment": "a/b%23/../../secret.txt",
    "nul-byte": "a/secret.txt%00.png",
}


@pytest.mark.parametrize("attack", ATTACKS.values(), ids=list(ATTACKS))
def test_attack_paths_are_refused_for_every_method(proxy, layout, attack):
    root, secret = layout
    proxy.request("PUT", f"{API}/artifacts/a/inside.txt", b"inside")
    before = sorted(p.relative_to(root.parent) for p in root.parent.rglob("*"))
    for method, body in (("GET", None), ("PUT", b"pwned"), ("DELETE", None)):
        status, _, answer = proxy.request(method, f"{API}/artifacts/{attack}", body)
        assert status == 400, (method, attack, status, answer)
        assert _json(answer) == {"error_code": "INVALID_PARAMETER_VALUE", "message": "Invalid path"}
    status, _, answer = proxy.request("GET", f"{API}/artifacts?path={attack}")
    assert (status, _json(answer)["message"]) == (400, "Invalid path")
    assert secret.read_text() == "top secret"
    assert sorted(p.relative_to(root.parent) for p in root.parent.rglob("*")) == before


def test_a_symlink_out_of_the_root_is_not_followed(proxy, layout):
    root, secret = layout
    (root / "link").symlink_to(secret.parent)
    status, _, body = proxy.request("GET", f"{API}/artifacts/link/secret.txt")
    assert status == 400 and b"top secret" not in body
    assert proxy.request("PUT", f"{API}/artifacts/link/new.txt", b"x")[0] == 400
    assert not (secret.parent / "new.txt").exists()


# -- multipart, presigned, disabled serving ------------------------------------------------------
def test_multipart_endpoints_answer_not_implemented_with_the_fallback_message(proxy):
    for stage in ("create", "complete", "abort"):
        status, _, body = proxy.request("POST", f"{API}/mpu/{stage}/1/r/big.bin", b"{}",
                                        headers={"Content-Type": "application/json"})
        assert status == 501
        assert _json(body) == {"error_code": "NOT_IMPLEMENTED", "message": MULTIPART_UNSUPPORTED}
    status, _, body = proxy.request("GET", f"{API}/presigned/1/r/big.bin")
    assert status == 501 and _json(body)["error_code"] == "NOT_IMPLEMENTED"


def test_with_serving_off_every_route_is_503_text(layout):
    root, _ = layout
    app = LiveApp(str(root), make_plugin_manager(), serve=False)
    try:
        for method, path in (("GET", "/artifacts?path=x"), ("GET", "/artifacts/x/f"), ("PUT", "/artifacts/x/f"),
                             ("DELETE", "/artifacts/x/f"), ("POST", "/mpu/create/x/f")):
            status, headers, body = app.request(method, API + path, b"data" if method in ("PUT", "POST") else None)
            assert status == 503, (method, path)
            assert headers["content-type"].startswith("text/plain")
            assert b"--no-serve-artifacts" in body
        assert list(root.iterdir()) == []
    finally:
        app.stop()


def test_list_payload_matches_the_file_info_shape(proxy):
    proxy.request("PUT", f"{API}/artifacts/s/f.txt", b"abc")
    files = _json(proxy.request("GET", f"{API}/artifacts?path=s")[2])["files"]
    assert [FileInfo(**f) for f in files] == [FileInfo(path="f.txt", is_dir=False, file_size=3)]


# -- through the whole server ------------------------------------------------------------------
def test_server_info_says_multipart_is_off(tracking_server):
    import requests

    info = requests.get(f"{tracking_server.url}/api/3.0/mlflow/server-info", timeout=10).json()
    assert info["artifact_serving_enabled"] is True
    assert info["multipart_uploads_enabled"] is False and info["multipart_downloads_enabled"] is False


@pytest.mark.parametrize("prefix", PREFIXES)
def test_the_server_mounts_the_proxy_under_both_prefixes(tracking_server, prefix):
    import requests

    url = f"{tracking_server.url}{prefix}/artifacts/proxy-test/{prefix.strip('/').replace('/', '_')}.txt"
    assert requests.put(url, data=b"via server", timeout=10).status_code == 200
    answer = requests.get(url, timeout=10)
    assert (answer.status_code, answer.content) == (200, b"via server")
    assert answer.headers["x-content-type-options"] == "nosniff"
    destination = tracking_server.options["artifacts_destination"]
    assert (destination / "proxy-test" / url.rsplit("/", 1)[1]).read_bytes() == b"via server"


def test_the_server_refuses_attack_paths(tracking_server):
    host, port = "127.0.0.1", tracking_server.port
    for attack in ("a/%2e%2e/%2e%2e/x", "..%2f..%2fx", "%2fetc%2fpasswd", "a%5c..%5cx"):
        conn = http.client.HTTPConnection(host, port, timeout=10)
        conn.request("GET", f"{API}/artifacts/{attack}")
        response = conn.getresponse()
        assert response.status == 400, attack
        assert _json(response.read()) == {"error_code": "INVALID_PARAMETER_VALUE", "message": "Invalid path"}
        conn.close()


def test_the_server_with_no_serve_artifacts_answers_503(start_server, tmp_path):
    import requests

    server = start_server("--backend-store-uri", f"sqlite:///{tmp_path / 'off.db'}", "--no-serve-artifacts",
                          cwd=tmp_path)
    answer = requests.put(f"{server.url}{API}/artifacts/x/f.txt", data=b"x", timeout=10)
    assert answer.status_code == 503 and answer.headers["content-type"].startswith("text/plain")
    assert requests.get(f"{server.url}{API}/artifacts?path=x", timeout=10).status_code == 503


def test_uploads_are_not_subject_to_the_json_body_cap(start_server, tmp_path):
    """The server caps JSON bodies; artifact uploads stream, so the cap does not apply to them."""
    import requests

    server = start_server("--backend-store-uri", f"sqlite:///{tmp_path / 'cap.db'}",
                          "--artifacts-destination", str(tmp_path / "art"),
                          env={"HEADWATER_MAX_REQUEST_BYTES": str(1024 * 1024)}, cwd=tmp_path)
    too_big_json = {"name": "x" * (2 * 1024 * 1024)}
    assert requests.post(f"{server.url}/api/2.0/mlflow/experiments/create", json=too_big_json,
                         timeout=30).status_code in (400, 413)
    payload = os.urandom(3 * 1024 * 1024)
    url = f"{server.url}{API}/artifacts/cap/large.bin"
    assert requests.put(url, data=payload, timeout=60).status_code == 200
    answer = requests.get(url, timeout=60)
    assert answer.status_code == 200 and answer.content == payload
