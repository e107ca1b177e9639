// A run: info, params, latest metrics, tags (editable), metric charts and artifacts.

import { get, post, quoteValue } from "../api.js";
import { button, confirmAction, fill, h, link, promptForm, route, toast, withQuery } from "../dom.js";
import { fmtNumber, fmtTime, kv, runDuration } from "../format.js";
import { color, metricChart, toAxisX, xValues } from "../charts.js";
import { artifactBrowser } from "./artifacts.js";
import { keyValueTable, tagEditor } from "./common.js";

const TABS = ["overview", "charts", "artifacts"];
const PARENT_TAG = "mlflow.parentRunId";

export async function render(root, [runId], query, isCurrent) {
  const { run } = await get("mlflow/runs/get", { run_id: runId });
  if (!isCurrent()) return;
  // The experiment's name only labels the breadcrumb: it is filled in when it arrives.
  const experimentCrumb = h("span", { text: run.info.experiment_id });
  get("mlflow/experiments/get", { experiment_id: run.info.experiment_id })
    .then(({ experiment }) => fill(experimentCrumb, link(route("experiments", experiment.experiment_id), experiment.name)))
    .catch(() => {});
  const tab = TABS.includes(query.get("tab")) ? query.get("tab") : "overview";
  const tags = kv(run.data?.tags);
  const deleted = run.info.lifecycle_stage === "deleted";
  const refresh = () => window.dispatchEvent(new HashChangeEvent("hashchange"));
  const tabLink = (t, extra = {}) => withQuery(route("runs", runId), { tab: t === "overview" ? "" : t, ...extra });

  root.append(
    h(
      "div",
      { class: "page-header" },
      h("div", { class: "crumbs" }, link("#/", "Experiments"), " / ", experimentCrumb, " / "),
      h("h1", {}, h("span", { class: "run-title", text: run.info.run_name || runId }), h("span", { class: `badge status-${run.info.status}`, text: run.info.status }), deleted ? h("span", { class: "badge deleted", text: "deleted" }) : null),
      h(
        "div",
        { class: "row-actions" },
        button("Rename", async () => {
          const v = await promptForm("Rename run", [{ name: "name", label: "Run name", value: run.info.run_name, required: true }]);
          if (v) await act(() => post("mlflow/runs/update", { run_id: runId, run_name: v.name }));
        }, { disabled: deleted }),
        deleted
          ? button("Restore run", () => act(() => post("mlflow/runs/restore", { run_id: runId })))
          : button("Delete run", async () => { if (await confirmAction("Delete this run?")) await act(() => post("mlflow/runs/delete", { run_id: runId })); }, { class: "danger" }),
      ),
    ),
    h("nav", { class: "tabs" }, TABS.map((t) => link(tabLink(t), t[0].toUpperCase() + t.slice(1), { class: t === tab ? "active" : "", dataset: { tab: t } }))),
  );

  if (tab === "charts") {
    root.append(chartsPanel(run, query));
    return;
  }
  if (tab === "artifacts") {
    root.append(artifactBrowser(run, query.get("path") || ""));
    return;
  }

  const info = run.info;
  const source = tags.get("mlflow.source.name");
  const parentId = tags.get(PARENT_TAG);
  const children = h("span", { class: "muted", text: "…" });
  const rows = [
    ["Run ID", h("code", { text: info.run_id })],
    ["Status", info.status],
    ["Started", fmtTime(info.start_time)],
    ["Ended", fmtTime(info.end_time)],
    ["Duration", runDuration(info)],
    ["User", info.user_id],
    ["Source", source ? [source, tags.get("mlflow.source.type") ? ` (${tags.get("mlflow.source.type")})` : ""] : ""],
    ["Git commit", tags.get("mlflow.source.git.commit") || ""],
    ["Lifecycle", info.lifecycle_stage],
    ["Artifact URI", h("code", { text: info.artifact_uri })],
    ["Parent run", parentId ? link(route("runs", parentId), parentId) : ""],
    ["Child runs", children],
  ];
  const note = tags.get("mlflow.note.content");
  const metrics = (run.data?.metrics || []).slice().sort((a, b) => a.key.localeCompare(b.key));
  const params = [...kv(run.data?.params)].sort((a, b) => a[0].localeCompare(b[0]));
  root.append(
    h("div", { class: "grid-2" },
      h("section", { class: "card" }, h("h2", { text: "Run" }), h("table", { class: "kv run-info" }, h("tbody", {}, rows.map(([k, v]) => h("tr", {}, h("th", { text: k }), h("td", {}, v)))))),
      h("section", { class: "card" },
        h("h2", { text: "Description" }),
        h("div", { class: "description", text: note || "" }, note ? null : h("span", { class: "muted", text: "No description." })),
        button("Edit description", async () => {
          const v = await promptForm("Run description", [{ name: "text", label: "Description", value: note || "", type: "textarea" }]);
          if (v) await act(() => post("mlflow/runs/set-tag", { run_id: runId, key: "mlflow.note.content", value: v.text }));
        }, { disabled: deleted }),
      ),
    ),
    h("div", { class: "grid-2" },
      h("section", { class: "card", id: "params" }, h("h2", { text: `Parameters (${params.length})` }), keyValueTable(params, { emptyText: "No parameters." })),
      h("section", { class: "card", id: "metrics" }, h("h2", { text: `Metrics (${metrics.length})` }),
        keyValueTable(metrics.map((m) => [m.key, m.value]), {
          emptyText: "No metrics.", numeric: true, format: fmtNumber,
          linkFor: (k) => link(tabLink("charts", { metric: k }), k, { title: "Chart this metric" }),
        })),
    ),
    h("section", { class: "card", id: "tags" }, h("h2", { text: "Tags" }), tagEditor(tags, {
      onSet: async (key, value) => { await post("mlflow/runs/set-tag", { run_id: runId, key, value }); refresh(); },
      onDelete: async (key) => { await post("mlflow/runs/delete-tag", { run_id: runId, key }); refresh(); },
    })),
  );
  const inputs = run.inputs?.dataset_inputs || [];
  if (inputs.length) {
    root.append(h("section", { class: "card" }, h("h2", { text: "Datasets" }), h("table", { class: "grid" },
      h("thead", {}, h("tr", {}, ["Name", "Digest", "Source type", "Context"].map((t) => h("th", { text: t })))),
      h("tbody", {}, inputs.map((d) => h("tr", {}, h("td", { text: d.dataset?.name }), h("td", { text: d.dataset?.digest }), h("td", { text: d.dataset?.source_type }), h("td", { text: kv(d.tags).get("mlflow.data.context") || "" })))))));
  }

  // Children are found through their parent tag; the first 100 are listed.
  post("mlflow/runs/search", { experiment_ids: [info.experiment_id], filter: `tags.${PARENT_TAG} = ${quoteValue(runId)}`, run_view_type: "ALL", max_results: 100 })
    .then((r) => {
      const kids = r.runs || [];
      fill(children, ...(kids.length ? kids.flatMap((k, i) => [i ? ", " : "", link(route("runs", k.info.run_id), k.info.run_name || k.info.run_id)]) : ["None"]));
      children.classList.remove("muted");
    })
    .catch(() => { children.textContent = ""; });
}

async function act(fn) {
  try {
    await fn();
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  } catch (err) {
    toast(err.message, "error");
  }
}

export function bucketsUrlParams(runId, key, xMode, width, range) {
  return {
    run_id: runId,
    metric_key: key,
    x_axis: xMode === "step" ? "step" : "timestamp",
    max_buckets: Math.max(200, Math.min(4000, Math.round(width))),
    x_min: range ? range[0] : undefined,
    x_max: range ? range[1] : undefined,
  };
}

function chartsPanel(run, query) {
  const runId = run.info.run_id;
  const keys = (run.data?.metrics || []).map((m) => m.key).sort();
  const wanted = query.getAll("metric").filter((k) => keys.includes(k));
  const chosen = new Set(wanted.length ? wanted : keys.slice(0, 6));
  const settings = { xMode: "step", logY: false, smoothing: 0 };
  const grid = h("div", { class: "charts-grid" });
  let charts = [];

  const redraw = () => {
    charts.forEach((c) => c.destroy());
    charts = [];
    fill(grid);
    [...chosen].sort().forEach((key, i) => {
      const chart = metricChart({
        title: key, ...settings,
        // Zooming into a downsampled history fetches the range again at full resolution.
        onZoom: async (min, max) => {
          if (!chart.series || !(chart.series.downsampled || chart.zoomed)) return;
          const all = xValues(chart.series.buckets, settings.xMode, chart.series.runStart);
          if (min <= all[0] && max >= all[all.length - 1]) return; // the whole history is already shown
          const range = [toAxisX(min, settings.xMode, chart.series.runStart), toAxisX(max, settings.xMode, chart.series.runStart)];
          const data = await get("headwater/metrics/downsampled", bucketsUrlParams(runId, key, settings.xMode, chart.element.clientWidth, range));
          chart.zoomed = true;
          chart.update([{ ...chart.series, buckets: data, downsampled: data.downsampled }], true);
        },
        onReset: () => {
          if (!chart.zoomed) return false;
          chart.zoomed = false;
          chart.update([chart.series], false);
          return true;
        },
      });
      grid.append(chart.element);
      charts.push(chart);
      get("headwater/metrics/downsampled", bucketsUrlParams(runId, key, settings.xMode, chart.element.clientWidth || 800))
        .then((data) => {
          chart.series = { label: key, color: color(i), buckets: data, downsampled: data.downsampled, total: data.total, runStart: Number(run.info.start_time) || 0 };
          return chart.draw([chart.series]);
        })
        .catch((err) => chart.element.append(h("div", { class: "error", text: err.message })));
    });
    if (!chosen.size) grid.append(h("p", { class: "muted", text: keys.length ? "Choose metrics to chart." : "This run has no metrics." }));
  };

  const controls = h(
    "div",
    { class: "toolbar chart-controls" },
    h("label", {}, "X axis ", h("select", { name: "x-axis", onchange: (e) => { settings.xMode = e.target.value; redraw(); } },
      [["step", "Step"], ["time", "Wall time"], ["relative", "Relative time"]].map(([v, t]) => h("option", { value: v }, t)))),
    h("label", {}, h("input", { type: "checkbox", name: "log-y", onchange: (e) => { settings.logY = e.target.checked; redraw(); } }), " Log scale"),
    h("label", {}, "Smoothing ", h("input", { type: "range", name: "smoothing", min: 0, max: 0.99, step: 0.01, value: 0, onchange: (e) => { settings.smoothing = Number(e.target.value); redraw(); } })),
    h("details", { class: "dropdown" }, h("summary", { text: `Metrics (${chosen.size}/${keys.length})` }),
      h("div", { class: "dropdown-body" }, keys.map((k) => h("label", { class: "check" },
        h("input", { type: "checkbox", checked: chosen.has(k), dataset: { key: k }, onchange: (e) => { if (e.target.checked) chosen.add(k); else chosen.delete(k); redraw(); } }), k)))),
    h("span", { class: "muted small", text: "Drag across a chart to zoom in; double-click to zoom out." }),
  );
  const panel = h("div", { class: "charts-panel" }, controls, grid);
  requestAnimationFrame(redraw); // after the panel is in the page, so charts know their width
  return panel;
}
