"""Stored script payloads never run in the UI; UI pages and artifacts are served so that they cannot.

The ``ui`` fixture fails a test whose page set ``window.__xss`` (what every
seeded payload does if it runs), opened a dialog or threw a script error.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from ui_seed import XSS, XSS_ATTR, XSS_BARE, XSS_LINK

pytestmark = pytest.mark.slow

STATIC = Path(__file__).parents[2] / "plugins" / "ui" / "src" / "headwater_ui" / "static"

def test_payloads_in_experiment_and_run_fields_render_as_text(ui, seeded):
    page = ui.open("#/", wait_for="#experiments-table")
    assert page.locator("#experiments-table a.name", has_text="<script>").count() == 1
    ui.assert_nothing_injected()

    page = ui.open(f"#/experiments/{seeded.xss_experiment_id}", wait_for="#runs-table")
    assert XSS in page.locator("h1 .exp-name").inner_text()
    page.click("details.columns-picker summary")
    for key in ("payload", "link"):
        page.check(f"details.columns-picker input[data-kind=tags][data-key={key}]")
    page.wait_for_selector("#runs-table th[data-sort='tags.`link`']")
    table = page.locator("#runs-table").inner_text()
    assert XSS in table and XSS_ATTR in table and XSS_LINK in table
    ui.screenshot("xss-runs")
    ui.assert_nothing_injected()

    page = ui.open(f"#/runs/{seeded.xss_run_id}", wait_for=".run-info")
    text = page.locator("#main").inner_text()
    for payload in (XSS, XSS_ATTR, XSS_LINK):
        assert payload in text
    assert page.locator(".run-title").inner_text() == XSS
    assert page.locator(".description").inner_text() == XSS
    ui.screenshot("xss-run")
    ui.assert_nothing_injected()

    ui.open(f"#/runs/{seeded.xss_run_id}?tab=charts", wait_for=".chart.drawn")
    ui.assert_nothing_injected()

    page = ui.open(f"#/compare?runs={seeded.xss_run_id},{seeded.runs['run-01']}", wait_for="#compare-params table")
    assert XSS in page.locator("#compare-params").inner_text()
    page.wait_for_selector("#compare-parallel svg")
    ui.screenshot("xss-compare")
    ui.assert_nothing_injected()


@pytest.mark.parametrize("name", ["evil.html", "evil.svg", "evil.csv", "evil.json", "<img src=x onerror=window.__xss=1>.txt", "model/MLmodel"])
def test_payloads_in_artifact_names_and_contents_render_as_text(ui, seeded, name):
    page = ui.open(f"#/runs/{seeded.xss_run_id}?tab=artifacts", wait_for="#artifact-tree button")
    if "/" in name:
        page.click(f"#artifact-tree button.dir[data-path='{name.split('/')[0]}']")
    button = page.locator("#artifact-tree button.file").filter(has_text=name.split("/")[-1])
    button.click()
    page.wait_for_function(
        "p => document.querySelector('#artifact-preview .path')?.textContent === p"
        " && !document.querySelector('#artifact-preview').textContent.includes('Loading')", arg=name
    )
    preview = page.locator("#artifact-preview").inner_text()
    if name.endswith(".csv"):
        assert page.locator("#artifact-preview table th").all_inner_texts() == [XSS, XSS_ATTR]
    elif name.endswith("MLmodel"):
        assert XSS_ATTR in page.locator("table.flavors").inner_text()
        assert XSS_BARE in page.locator(".signature").inner_text()
    else:
        assert "window.__xss=1" in preview
    page.wait_for_timeout(200)  # give any injected handler a chance to fire
    ui.screenshot("xss-artifact")
    ui.assert_nothing_injected()


def test_ui_pages_carry_a_strict_content_security_policy(live_server):
    for path in ("/", "/static-files/js/main.js", "/static-files/app.css", "/static-files/vendor/uPlot.iife.min.js"):
        response = requests.get(live_server.url + path, timeout=10)
        assert response.status_code == 200, path
        csp = response.headers["content-security-policy"]
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert directives["script-src"] == "'self'"
        assert directives["object-src"] == "'none'"
        assert directives["frame-ancestors"] == "'none'"
        assert "unsafe" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
    assert requests.get(live_server.url + "/static-files/js/main.js", timeout=10).headers["content-type"].startswith(
        ("application/javascript", "text/javascript")
    )


def test_the_page_has_no_inline_script_and_the_code_never_writes_markup():
    html = (STATIC / "index.html").read_text()
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag, tag
    assert "style=" not in html
    sinks = re.compile(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|srcdoc")
    for source in (STATIC / "js").rglob("*.js"):
        found = sinks.findall(source.read_text())
        assert not found, f"{source.name} uses {found}"


@pytest.mark.parametrize("route", ["headwater/artifacts/get", "get-artifact"])
def test_artifacts_are_served_with_types_that_cannot_run(live_server, seeded, route):
    base = f"{live_server.url}/ajax-api/2.0/{route}" if route.startswith("headwater") else f"{live_server.url}/{route}"
    expected = {"evil.html": "text/plain", "evil.svg": "application/octet-stream", "evil.json": "text/plain"}
    for name, content_type in expected.items():
        response = requests.get(base, params={"run_id": seeded.xss_run_id, "run_uuid": seeded.xss_run_id, "path": name}, timeout=10)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].split(";")[0] == content_type
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in response.headers["content-security-policy"]
        assert response.headers["content-disposition"].startswith("attachment")
    escape = requests.get(base, params={"run_id": seeded.xss_run_id, "run_uuid": seeded.xss_run_id, "path": "../../x"}, timeout=10)
    assert escape.status_code == 400


def test_the_ui_does_not_shadow_api_errors(live_server):
    assert requests.get(f"{live_server.url}/api/2.0/mlflow/runs/search", timeout=10).status_code == 405
    missing = requests.get(f"{live_server.url}/api/2.0/mlflow/no-such-endpoint", timeout=10)
    assert missing.status_code == 404 and not missing.headers["content-type"].startswith("text/html")
    assert requests.get(f"{live_server.url}/static-files/../pyproject.toml", timeout=10).status_code == 404


def test_payloads_in_the_address_are_shown_as_text(ui, seeded):
    """Reflected input: ids, filters and names taken from the URL fragment."""
    payload = quote(XSS, safe="")
    for fragment in (f"#/experiments/{payload}", f"#/runs/{payload}", f"#/models/{payload}",
                     f"#/experiments/{seeded.experiment_id}?filter={payload}&order={payload}",
                     f"#/compare?runs={payload},{payload}2", f"#/no/such/{payload}", f"#/runs/%E0%A4%A{payload}"):
        page = ui.open(fragment)
        page.wait_for_timeout(100)
        assert "window.__xss" in page.locator("#main").inner_text(), fragment
        ui.assert_nothing_injected()


def test_assets_are_versioned_and_cached_for_good(live_server):
    page = requests.get(live_server.url + "/", timeout=10).text
    assets = re.findall(r'"(static-files/[^"]+)"', page)
    assert assets and len({a.split("/")[1] for a in assets}) == 1  # one version segment for all
    version = assets[0].split("/")[1]
    assert re.fullmatch(r"[0-9a-f]{12}", version)
    for asset in assets:
        response = requests.get(f"{live_server.url}/{asset}", timeout=10)
        assert response.status_code == 200, asset
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
    plain = requests.get(f"{live_server.url}/static-files/js/main.js", timeout=10)
    assert plain.status_code == 200 and plain.headers["cache-control"] == "no-cache"
    assert requests.get(f"{live_server.url}/static-files/{version}/../../x", timeout=10).status_code == 404
