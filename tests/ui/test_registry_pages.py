"""The model registry pages in a real browser: models list, a model, a version."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from ui_seed import XSS, XSS_ATTR, XSS_MODEL_NAME

pytestmark = pytest.mark.slow


def test_models_list_and_search(ui, seeded):
    page = ui.open("#/models", wait_for="#models-table")
    row = page.locator(f"#models-table tr[data-model='{seeded.model_name}']")
    assert "Iris classifier" in row.inner_text()
    assert "@champion → v2" in row.inner_text()
    ui.screenshot("models")
    page.fill("input[name=q]", "ui-mod")
    ui.rerendered(lambda: page.press("input[name=q]", "Enter"))
    assert page.locator("#models-table a.name").all_inner_texts() == [seeded.model_name]


def test_model_page_shows_versions_stages_and_aliases(ui, seeded, api):
    name = seeded.model_name
    page = ui.open(f"#/models/{name}", wait_for="#versions-table")
    versions = page.locator("#versions-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.version)")
    assert versions == ["4", "3", "2", "1"]
    assert page.locator("#versions-table tr[data-version='2'] select.stage").input_value() == "Production"
    assert page.locator("#model-aliases [data-alias=champion]").count() == 1
    assert "Iris classifier" in page.locator("#model-description").inner_text()
    ui.screenshot("model")

    # Point a new alias at version 3, then move version 3 to Staging.
    page.fill("#model-aliases input[name=alias]", "challenger")
    page.select_option("#model-aliases select[name=alias-version]", "3")
    page.click("#model-aliases button[type=submit]")
    page.wait_for_selector("#model-aliases [data-alias=challenger]")
    page.select_option("#versions-table tr[data-version='3'] select.stage", "Staging")
    page.click("dialog button:has-text('Cancel')")  # keep the other Staging versions (there are none)
    page.wait_for_function("() => document.querySelector(\"#versions-table tr[data-version='3'] select.stage\")?.value === 'Staging'")
    page.reload()
    page.wait_for_selector("#versions-table")
    assert page.locator("#versions-table tr[data-version='3'] select.stage").input_value() == "Staging"
    version = api.call("GET", "model-versions/get", name=name, version="3")["model_version"]
    assert version["current_stage"] == "Staging" and "challenger" in version.get("aliases", [])

    page.locator("#model-aliases [data-alias=challenger] button").click()
    page.wait_for_function("() => !document.querySelector('#model-aliases [data-alias=challenger]')")


def test_model_description_and_tags_are_editable(ui, seeded, api, unique):
    name = f"editable-{unique}"
    api.post("registered-models/create", {"name": name})
    page = ui.open(f"#/models/{name}", wait_for="#model-description")
    page.click("#model-description button:has-text('Edit description')")
    page.fill("dialog textarea[name=description]", "Now described")
    page.click("dialog button[type=submit]")
    page.wait_for_selector("#model-description .description:has-text('Now described')")
    page.fill("#model-tags input[name=tag-key]", "owner")
    page.fill("#model-tags input[name=tag-value]", "ana")
    page.click("#model-tags button:has-text('Add tag')")
    page.wait_for_selector("#model-tags tr[data-key=owner]")
    model = api.call("GET", "registered-models/get", name=name)["registered_model"]
    assert model["description"] == "Now described" and {"key": "owner", "value": "ana"} in model["tags"]


def test_version_page_links_its_run_and_shows_its_signature(ui, seeded):
    for version in ("1", "2"):  # runs:/ source, and the run's own artifact URI
        page = ui.open(f"#/models/{seeded.model_name}/versions/{version}", wait_for=".version-info")
        assert page.locator(".version-info a.source-run").get_attribute("href") == f"#/runs/{seeded.runs['run-01']}"
        page.wait_for_selector("#version-signature .signature")
        assert "sepal_length" in page.locator("#version-signature .signature").inner_text()
        assert page.locator("#version-signature table.flavors th").all_inner_texts() == ["python_function", "sklearn"]
    assert page.locator("h1 .badge").inner_text() == "Production"
    ui.screenshot("version")
    # A version registered from a logged model (source models:/m-...) shows that model's signature.
    page = ui.open(f"#/models/{seeded.model_name}/versions/4", wait_for="#version-signature .signature")
    assert "logged_feature" in page.locator("#version-signature .signature").inner_text()
    page.click(".version-info a.source-run")
    page.wait_for_selector(".run-info")
    assert page.locator(".run-title").inner_text() == "run-01"


def test_registry_payloads_render_as_text(ui, seeded):
    name = seeded.xss_model_name
    quoted = quote(name, safe="")
    page = ui.open("#/models", wait_for="#models-table")
    assert page.locator("#models-table a.name", has_text=XSS_MODEL_NAME).count() == 1
    ui.assert_nothing_injected()
    page = ui.open(f"#/models/{quoted}", wait_for="#versions-table")
    assert page.locator(".model-name").inner_text() == name
    assert page.locator("#model-description .description").inner_text() == XSS
    assert XSS_ATTR in page.locator("#model-tags").inner_text()
    ui.assert_nothing_injected()
    page = ui.open(f"#/models/{quoted}/versions/1", wait_for="#version-tags")
    page.wait_for_selector("#version-signature .signature")
    assert XSS in page.locator("#version-tags").inner_text()
    ui.screenshot("xss-version")
    ui.assert_nothing_injected()
