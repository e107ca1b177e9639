"""The UI under ``--static-prefix``: every page and API call stays under the prefix."""

from __future__ import annotations

import pytest
import requests
from ui_server import start_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def prefixed_server(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("ui-prefixed"), static_prefix="/hw")
    yield server
    server.stop()


def test_ui_under_a_static_prefix(browser, prefixed_server):
    from ui_seed import Api

    api = Api(prefixed_server.url)
    experiment_id = api.post("experiments/create", {"name": "prefixed"})["experiment_id"]
    run_id = api.post("runs/create", {"experiment_id": experiment_id, "run_name": "under-prefix"})["run"]["info"]["run_id"]
    api.post("runs/log-metric", {"run_id": run_id, "key": "m", "value": 1.5, "timestamp": 1, "step": 0})

    root = prefixed_server.url.rsplit("/hw", 1)[0]
    assert requests.get(f"{root}/", timeout=10).status_code == 404  # nothing outside the prefix
    redirect = requests.get(prefixed_server.url, timeout=10, allow_redirects=False)
    assert redirect.status_code == 307 and redirect.headers["location"] == "/hw/"

    context = browser.new_context()
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    try:
        page.goto(prefixed_server.url)  # follows the redirect to /hw/
        page.wait_for_selector("#experiments-table a.name:has-text('prefixed')")
        page.click("#experiments-table a.name:has-text('prefixed')")
        page.wait_for_selector("#runs-table a:has-text('under-prefix')")
        page.click("#runs-table a:has-text('under-prefix')")
        page.wait_for_selector(".run-info")
        page.click("nav.tabs a[data-tab=charts]")
        page.wait_for_selector(".chart.drawn")
    finally:
        context.close()
    assert requested and all(url == f"{root}/hw" or url.startswith(f"{root}/hw/") for url in requested), requested
