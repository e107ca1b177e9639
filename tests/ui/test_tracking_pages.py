"""The tracking pages in a real browser: experiments, the runs table, a run, charts, artifacts, comparison."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.slow


def run_names(page) -> list[str]:
    return page.locator("#runs-table tbody tr td.run-name a").all_inner_texts()


# -- experiments ------------------------------------------------------------------------------------------
def test_experiments_list_search_create_rename_delete_restore(ui, seeded, unique):
    page = ui.open("#/", wait_for="#experiments-table")
    assert page.locator("#experiments-table a.name", has_text="ui-experiment").count() == 1
    ui.screenshot("experiments")

    page.fill("input[name=q]", "paging")
    ui.rerendered(lambda: page.click("form.toolbar button[type=submit]"))
    assert page.locator("#experiments-table a.name").all_inner_texts() == ["ui-paging"]

    page.click("text=New experiment")
    page.fill("dialog input[name=name]", f"made-in-ui-{unique}")
    page.click("dialog button[type=submit]")
    page.wait_for_selector(f"h1 >> text=made-in-ui-{unique}")
    experiment_id = re.search(r"#/experiments/(\d+)", page.url).group(1)

    page.click("button:has-text('Rename')")
    page.fill("dialog input[name=new_name]", f"renamed-{unique}")
    page.click("dialog button[type=submit]")
    page.wait_for_selector(f"h1 >> text=renamed-{unique}")

    page.click("button:has-text('Delete experiment')")
    page.click("dialog button[type=submit]")
    page.wait_for_selector("h1 .badge.deleted")

    ui.open("#/experiments?view=deleted", wait_for="#experiments-table")
    row = page.locator(f"#experiments-table tr[data-experiment-id='{experiment_id}']")
    assert row.count() == 1
    ui.screenshot("deleted-experiments")
    row.locator("button:has-text('Restore')").click()
    page.wait_for_function(
        "id => !document.querySelector(`#experiments-table tr[data-experiment-id='${id}']`)", arg=experiment_id
    )
    ui.open("#/", wait_for="#experiments-table")
    assert page.locator(f"#experiments-table tr[data-experiment-id='{experiment_id}']").count() == 1


def test_experiment_tags_are_editable(ui, seeded, api, unique):
    experiment_id = api.post("experiments/create", {"name": f"tags-{unique}"})["experiment_id"]
    page = ui.open(f"#/experiments/{experiment_id}", wait_for="#runs-table")
    page.click("details.exp-tags summary")
    page.fill("details.exp-tags input[name=tag-key]", "owner")
    page.fill("details.exp-tags input[name=tag-value]", "ana")
    page.click("details.exp-tags button:has-text('Add tag')")
    page.wait_for_function("() => document.querySelector('details.exp-tags summary')?.textContent.includes('(1)')")
    experiment = api.call("GET", "experiments/get", experiment_id=experiment_id)["experiment"]
    assert {"key": "owner", "value": "ana"} in experiment["tags"]


# -- runs table -----------------------------------------------------------------------------------------------
def test_runs_table_renders_with_chosen_columns(ui, seeded):
    page = ui.open(f"#/experiments/{seeded.experiment_id}", wait_for="#runs-table")
    names = run_names(page)
    assert "run-05" in names and "long-history" in names
    headers = page.locator("#runs-table thead tr:last-child th").all_inner_texts()
    assert "accuracy" in headers and "model" in headers
    ui.screenshot("runs-table")

    page.click("details.columns-picker summary")
    page.check("details.columns-picker input[data-kind=tags][data-key=stage]")
    page.wait_for_selector("#runs-table th[data-sort='tags.`stage`']")
    row = page.locator(f"#runs-table tr[data-run-id='{seeded.runs['run-01']}']")
    assert "dev" in row.inner_text()
    # The choice is remembered for the experiment.
    ui.open(f"#/experiments/{seeded.experiment_id}", wait_for="#runs-table")
    assert page.locator("#runs-table th[data-sort='tags.`stage`']").count() == 1


def test_filter_narrows_the_table(ui, seeded):
    page = ui.open(f"#/experiments/{seeded.experiment_id}", wait_for="#runs-table")
    before = len(run_names(page))
    page.fill("input[name=filter]", "params.model = 'ridge' and metrics.accuracy > 0.6")
    ui.rerendered(lambda: page.press("input[name=filter]", "Enter"))
    names = sorted(run_names(page))
    assert names == ["run-04", "run-08"], names
    assert len(names) < before
    ui.screenshot("filtered")


def test_invalid_filter_shows_the_error_and_its_position(ui, seeded):
    page = ui.open(f"#/experiments/{seeded.experiment_id}", wait_for="#runs-table")
    page.fill("input[name=filter]", "metrics.accuracy > 0.5 and params.model ~ 'x'")
    page.press("input[name=filter]", "Enter")
    error = page.wait_for_selector(".filter-error")
    assert "position 40" in error.inner_text()
    assert page.locator(".filter-error mark").inner_text() == "~"
    caret = page.locator(".filter-error pre.caret").inner_text().splitlines()[-1]
    assert caret == " " * 40 + "^"
    # The page around the error still works: the filter can be fixed in place.
    assert page.locator("input[name=filter]").is_visible()
    ui.screenshot("filter-error")
    page.fill("input[name=filter]", "params.model = 'lasso'")
    ui.rerendered(lambda: page.press("input[name=filter]", "Enter"))
    assert sorted(run_names(page)) == ["run-01", "run-05", "run-09"]


def test_sorting_by_a_metric_both_ways(ui, seeded):
    page = ui.open(f"#/experiments/{seeded.experiment_id}?filter=attributes.run_name%20LIKE%20'run-%25'", wait_for="#runs-table")
    ui.rerendered(lambda: page.click("#runs-table th[data-sort='metrics.`accuracy`'] button"))
    page.wait_for_function("() => new URLSearchParams(location.hash.split('?')[1]).get('order') === 'metrics.`accuracy` ASC'")
    page.wait_for_selector("#runs-table th.sorted[data-sort='metrics.`accuracy`'] button:has-text('▲')")
    ascending = run_names(page)
    assert ascending[:3] == ["run-00", "run-01", "run-02"], ascending
    ui.rerendered(lambda: page.click("#runs-table th[data-sort='metrics.`accuracy`'] button"))
    page.wait_for_function("() => new URLSearchParams(location.hash.split('?')[1]).get('order') === 'metrics.`accuracy` DESC'")
    page.wait_for_selector("#runs-table th.sorted[data-sort='metrics.`accuracy`'] button:has-text('▼')")
    descending = run_names(page)
    assert descending[:3] == ["run-11", "run-10", "run-09"], descending
    ui.screenshot("sorted")


def test_pages_of_runs(ui, seeded):
    page = ui.open(f"#/experiments/{seeded.paging_experiment_id}?size=25", wait_for="#runs-table")
    first = run_names(page)
    assert len(first) == 25 and first[0] == "p-59"
    ui.rerendered(lambda: page.click(".pager button.next"))
    second = run_names(page)
    assert len(second) == 25 and second[0] == "p-34"
    ui.rerendered(lambda: page.click(".pager button.next"))
    page.wait_for_function("() => document.querySelector('.pager span')?.textContent === 'Page 3'")
    assert len(run_names(page)) == 10
    assert page.locator(".pager button.next").is_disabled()
    ui.rerendered(lambda: page.click(".pager button.prev"))
    page.wait_for_function("() => document.querySelector('.pager span')?.textContent === 'Page 2'")
    assert run_names(page) == second


def test_nested_runs_show_under_their_parent(ui, seeded):
    page = ui.open(f"#/experiments/{seeded.experiment_id}", wait_for="#runs-table")
    parent = page.locator(f"#runs-table tr[data-run-id='{seeded.runs['run-00']}']")
    assert page.locator("#runs-table tr.child").count() == 0
    parent.locator("button.toggle").click()
    page.wait_for_selector("#runs-table tr.child")
    rows = page.locator("#runs-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.runId)")
    at = rows.index(seeded.runs["run-00"])
    assert set(rows[at + 1 : at + 3]) == {seeded.runs["child-0"], seeded.runs["child-1"]}
    ui.screenshot("nested")


def test_delete_and_restore_selected_runs(ui, api, unique):
    experiment_id = api.post("experiments/create", {"name": f"lifecycle-{unique}"})["experiment_id"]
    ids = [api.post("runs/create", {"experiment_id": experiment_id, "run_name": f"r{i}"})["run"]["info"]["run_id"] for i in range(3)]
    page = ui.open(f"#/experiments/{experiment_id}", wait_for="#runs-table")
    page.check(f"input.select-run[data-run-id='{ids[0]}']")
    page.check(f"input.select-run[data-run-id='{ids[1]}']")
    page.click(".selection-bar button:has-text('Delete')")
    page.click("dialog button[type=submit]")
    page.wait_for_function("() => document.querySelectorAll('#runs-table tbody tr[data-run-id]').length === 1")
    assert api.call("GET", "runs/get", run_id=ids[0])["run"]["info"]["lifecycle_stage"] == "deleted"

    ui.open(f"#/experiments/{experiment_id}?view=deleted", wait_for="#runs-table")
    assert sorted(run_names(page)) == ["r0", "r1"]
    page.check(f"input.select-run[data-run-id='{ids[0]}']")
    page.click(".selection-bar button:has-text('Restore')")
    page.wait_for_function("() => document.querySelectorAll('#runs-table tbody tr[data-run-id]').length === 1")
    assert api.call("GET", "runs/get", run_id=ids[0])["run"]["info"]["lifecycle_stage"] == "active"


# -- a run --------------------------------------------------------------------------------------------------------
def test_run_page_shows_info_params_metrics(ui, seeded):
    page = ui.open(f"#/runs/{seeded.runs['run-00']}", wait_for=".run-info")
    info = page.locator(".run-info").inner_text()
    assert "FINISHED" in info and "train.py" in info and "30.0s" in info
    page.wait_for_function("() => !document.querySelector('.run-info').textContent.includes('…')")
    assert "child-0" in page.locator(".run-info").inner_text()
    assert "ridge" in page.locator("#params").inner_text()
    assert "0.5" in page.locator("#metrics").inner_text()
    ui.screenshot("run")
    # A child links back to its parent.
    ui.open(f"#/runs/{seeded.runs['child-0']}", wait_for=".run-info")
    assert page.locator(".run-info a", has_text=seeded.runs["run-00"]).count() == 1


def test_tag_edits_persist(ui, api, seeded, unique):
    run_id = seeded.runs["run-02"]
    page = ui.open(f"#/runs/{run_id}", wait_for="#tags")
    page.fill("#tags input[name=tag-key]", f"note-{unique}")
    page.fill("#tags input[name=tag-value]", "first")
    page.click("#tags button:has-text('Add tag')")
    page.wait_for_selector(f"#tags tr[data-key='note-{unique}']")

    ui.open(f"#/runs/{run_id}", wait_for="#tags")  # a fresh load reads it back from the server
    row = page.locator(f"#tags tr[data-key='note-{unique}']")
    assert row.locator("td.value").inner_text() == "first"
    row.locator("button:has-text('Edit')").click()
    page.fill("dialog textarea[name=value]", "second")
    page.click("dialog button[type=submit]")
    page.wait_for_function(
        "k => document.querySelector(`#tags tr[data-key='${k}'] td.value`)?.textContent === 'second'", arg=f"note-{unique}"
    )
    page.reload()
    page.wait_for_selector(f"#tags tr[data-key='note-{unique}']")
    assert page.locator(f"#tags tr[data-key='note-{unique}'] td.value").inner_text() == "second"
    tags = {t["key"]: t["value"] for t in api.call("GET", "runs/get", run_id=run_id)["run"]["data"]["tags"]}
    assert tags[f"note-{unique}"] == "second"

    page.locator(f"#tags tr[data-key='note-{unique}'] button:has-text('Delete')").click()
    page.click("dialog button[type=submit]")
    page.wait_for_function("k => !document.querySelector(`#tags tr[data-key='${k}']`)", arg=f"note-{unique}")
    page.reload()
    page.wait_for_selector("#tags")
    assert page.locator(f"#tags tr[data-key='note-{unique}']").count() == 0


def test_chart_draws_a_long_history_with_its_spike(ui, seeded):
    page = ui.open(f"#/runs/{seeded.runs['long-history']}?tab=charts", wait_for=".chart.drawn")
    chart = page.locator(".chart.drawn").first
    points = int(chart.get_attribute("data-points"))
    assert 0 < points <= 4000  # downsampled on the server, not 20,000 points
    assert float(chart.get_attribute("data-y-max")) == 100.0  # the one spike survives the buckets
    assert "20,000 points" in chart.locator(".chart-legend").inner_text()
    assert chart.locator("canvas").count() >= 1
    ui.screenshot("chart")

    for mode in ("time", "relative"):
        page.select_option("select[name=x-axis]", mode)
        page.wait_for_selector(".chart.drawn")
    page.check("input[name=log-y]")
    page.wait_for_selector(".chart.drawn")
    assert float(page.locator(".chart.drawn").first.get_attribute("data-y-max")) == 100.0
    ui.screenshot("chart-log-relative")


def test_chart_zoom_fetches_the_range_at_full_resolution(ui, seeded):
    page = ui.open(f"#/runs/{seeded.runs['long-history']}?tab=charts", wait_for=".chart.drawn")
    chart = page.locator(".chart.drawn").first
    whole = int(chart.get_attribute("data-points"))
    box = chart.locator(".u-over").bounding_box()
    y = box["y"] + box["height"] / 2
    # Drag across about 1% of the x range (200 steps of 20,000): fewer points than buckets come back.
    page.mouse.move(box["x"] + box["width"] * 0.5, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.51, y, steps=5)
    page.mouse.up()
    page.wait_for_function(
        "n => Number(document.querySelector('.chart.drawn').dataset.points) < n", arg=whole
    )
    zoomed = int(chart.get_attribute("data-points"))
    assert 50 < zoomed < whole
    page.dblclick(".chart.drawn .u-over")
    page.wait_for_function("n => Number(document.querySelector('.chart.drawn').dataset.points) === n", arg=whole)


def test_smoothing_and_metric_choice(ui, seeded):
    page = ui.open(f"#/runs/{seeded.runs['run-03']}?tab=charts&metric=loss", wait_for=".chart.drawn")
    assert page.locator(".chart").count() == 1
    page.fill("input[name=smoothing]", "0.9")
    page.dispatch_event("input[name=smoothing]", "change")
    page.wait_for_selector(".chart.drawn")
    page.click(".chart-controls details summary")
    page.check(".chart-controls input[data-key=accuracy]")
    page.wait_for_function("() => document.querySelectorAll('.chart.drawn').length === 2")


def test_artifact_previews(ui, seeded):
    run_id = seeded.runs["run-01"]
    page = ui.open(f"#/runs/{run_id}?tab=artifacts", wait_for="#artifact-tree button")

    def open_file(path: str):
        parts = path.split("/")
        for i in range(1, len(parts)):
            folder = page.locator(f"#artifact-tree button.dir[data-path='{'/'.join(parts[:i])}']")
            if "open" not in (folder.get_attribute("class") or ""):
                folder.click()
        page.click(f"#artifact-tree button.file[data-path='{path}']")
        page.wait_for_function(
            "p => document.querySelector('#artifact-preview .path')?.textContent === p"
            " && !document.querySelector('#artifact-preview').textContent.includes('Loading')", arg=path
        )
        return page.locator("#artifact-preview")

    assert "line two" in open_file("notes.txt").locator("pre").inner_text()
    assert '"layers": [\n    64,' in open_file("config.json").locator("pre").inner_text()
    assert "batch: 32" in open_file("conf/params.yaml").locator("pre").inner_text()
    table = open_file("data/table.csv").locator("table")
    assert table.locator("th").all_inner_texts() == ["a", "b", "c"]
    assert table.locator("tbody tr").count() == 2
    ui.screenshot("csv")
    preview = open_file("plot.png")
    page.wait_for_function("() => document.querySelector('#artifact-preview img')?.naturalWidth === 2")
    assert preview.locator("a:has-text('Download')").get_attribute("href").startswith("ajax-api/2.0/headwater/artifacts/get?")
    model = open_file("model/MLmodel")
    assert model.locator("table.flavors th").all_inner_texts() == ["python_function", "sklearn"]
    assert "sepal_length" in model.locator(".signature").inner_text()
    assert "petal_width" in model.locator(".signature").inner_text()
    ui.screenshot("mlmodel")
    # The selection is in the URL, so a reload shows the same preview.
    assert "path=model%2FMLmodel" in page.url
    page.reload()
    page.wait_for_selector("#artifact-preview table.flavors")


def test_download_link_serves_the_file(ui, seeded, live_server):
    import requests

    page = ui.open(f"#/runs/{seeded.runs['run-01']}?tab=artifacts&path=notes.txt", wait_for="#artifact-preview a:has-text('Download')")
    href = page.locator("#artifact-preview a:has-text('Download')").get_attribute("href")
    response = requests.get(f"{live_server.url}/{href}", timeout=10)
    assert response.status_code == 200 and response.text == "plain notes\nline two\n"
    assert response.headers["content-disposition"] == "attachment; filename=notes.txt"


# -- comparison ---------------------------------------------------------------------------------------------------
def test_compare_selected_runs(ui, seeded):
    page = ui.open(f"#/experiments/{seeded.experiment_id}", wait_for="#runs-table")
    for name in ("run-01", "run-02", "run-05"):
        page.check(f"input.select-run[data-run-id='{seeded.runs[name]}']")
    page.click(".selection-bar button.compare")
    page.wait_for_selector("#compare-params table")
    ui.rendered("/compare")
    params = page.locator("#compare-params")
    assert params.locator("thead th").all_inner_texts()[1:] == ["run-01", "run-02", "run-05"]
    assert params.locator("tr.diff[data-key=model]").count() == 1  # lasso, forest, lasso
    page.wait_for_selector("#compare-charts .chart.drawn")
    page.select_option("select[name=compare-metric]", "loss")
    page.wait_for_function("() => document.querySelector('#compare-charts .chart.drawn .chart-legend')?.children.length === 3")
    page.wait_for_selector("#compare-scatter .chart.drawn")
    assert page.locator("#compare-scatter .chart.drawn").get_attribute("data-points") == "3"
    assert page.locator("#compare-parallel svg path.pc-line").count() == 3
    ui.screenshot("compare")
    # Only differences: depth and lr differ, so both stay; nothing equal is left.
    page.check("input[name=params-only-diff]")
    assert params.locator("tbody tr:not(.diff)").count() == 0


def test_compare_refuses_too_few_runs(ui, seeded):
    page = ui.open(f"#/compare?runs={seeded.runs['run-01']}")
    assert "between 2 and 50" in page.locator(".error").inner_text()
