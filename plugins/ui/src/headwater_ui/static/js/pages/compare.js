// Comparing 2 to 50 runs: params and metrics side by side (differences
// highlighted), overlaid metric charts, a scatter plot and parallel coordinates.

import { get } from "../api.js";
import { errorBox, fill, h, link, route } from "../dom.js";
import { asNumber, fmtNumber, kv } from "../format.js";
import { color, metricChart, parallelCoordinates, scatterChart } from "../charts.js";
import { bucketsUrlParams } from "./run.js";

const MAX_RUNS = 50;

export async function render(root, _args, query, isCurrent) {
  const ids = [...new Set((query.get("runs") || "").split(",").filter(Boolean))];
  root.append(h("h1", { text: `Comparing ${ids.length} runs` }));
  if (ids.length < 2 || ids.length > MAX_RUNS) {
    root.append(errorBox(`Choose between 2 and ${MAX_RUNS} runs to compare (got ${ids.length}).`));
    return;
  }
  const runs = (await Promise.all(ids.map((id) => get("mlflow/runs/get", { run_id: id })))).map((r) => r.run);
  if (!isCurrent()) return;
  const names = runs.map((r) => r.info.run_name || r.info.run_id);
  const params = runs.map((r) => kv(r.data?.params));
  const metrics = runs.map((r) => new Map((r.data?.metrics || []).map((m) => [m.key, m.value])));
  const paramKeys = [...new Set(params.flatMap((p) => [...p.keys()]))].sort();
  const metricKeys = [...new Set(metrics.flatMap((m) => [...m.keys()]))].sort();

  root.append(
    h("div", { class: "legend-row" }, runs.map((r, i) => h("span", { class: "legend-item" }, swatch(color(i)), link(route("runs", r.info.run_id), names[i])))),
    compareTable("Parameters", "params", paramKeys, params, runs, names, (v) => v ?? ""),
    compareTable("Metrics", "metrics", metricKeys, metrics, runs, names, (v) => (v === undefined ? "" : fmtNumber(v))),
    overlaidCharts(runs, names, metricKeys),
    scatterSection(runs, names, paramKeys, metricKeys, params, metrics),
    parallelSection(names, paramKeys, metricKeys, params, metrics),
  );
}

function swatch(c) {
  const el = h("span", { class: "swatch" });
  el.style.background = c;
  return el;
}

function differs(values) {
  return new Set(values.map((v) => (v === undefined ? "\u0000missing" : String(v)))).size > 1;
}

function compareTable(title, id, keys, maps, runs, names, format) {
  const onlyDiff = h("input", { type: "checkbox", name: `${id}-only-diff` });
  const body = h("tbody");
  const draw = () => {
    fill(body,
      ...keys
        .map((k) => [k, maps.map((m) => m.get(k))])
        .filter(([, values]) => !onlyDiff.checked || differs(values))
        .map(([k, values]) =>
          h("tr", { class: differs(values) ? "diff" : "", dataset: { key: k } }, h("th", { text: k }), values.map((v) => h("td", { class: id === "metrics" ? "num" : "", text: format(v), title: v === undefined ? "missing" : String(v) })))),
    );
    if (!body.children.length) body.append(h("tr", {}, h("td", { colspan: runs.length + 1, class: "muted", text: keys.length ? "No differences." : "None." })));
  };
  onlyDiff.addEventListener("change", draw);
  draw();
  return h(
    "section",
    { class: "card", id: `compare-${id}` },
    h("h2", {}, title, h("label", { class: "small muted right" }, onlyDiff, " only differences")),
    h("div", { class: "table-wrap" }, h("table", { class: "grid compare" },
      h("thead", {}, h("tr", {}, h("th", { text: "" }), names.map((n, i) => h("th", {}, swatch(color(i)), link(route("runs", runs[i].info.run_id), n))))),
      body)),
  );
}

function overlaidCharts(runs, names, metricKeys) {
  const select = h("select", { name: "compare-metric" }, metricKeys.map((k) => h("option", { value: k }, k)));
  const xSelect = h("select", { name: "compare-x" }, [["step", "Step"], ["time", "Wall time"], ["relative", "Relative time"]].map(([v, t]) => h("option", { value: v }, t)));
  const log = h("input", { type: "checkbox", name: "compare-log" });
  const area = h("div", { class: "charts-grid single" });
  let chart = null;
  const draw = async () => {
    if (chart) chart.destroy();
    fill(area);
    const key = select.value;
    if (!key) {
      area.append(h("p", { class: "muted", text: "These runs have no metrics." }));
      return;
    }
    chart = metricChart({ title: key, xMode: xSelect.value, logY: log.checked, smoothing: 0, height: 320 });
    area.append(chart.element);
    const width = area.clientWidth || 900;
    const withKey = runs.map((r, i) => [r, i]).filter(([r]) => (r.data?.metrics || []).some((m) => m.key === key));
    try {
      const series = await Promise.all(
        withKey.map(async ([r, i]) => {
          const data = await get("headwater/metrics/downsampled", bucketsUrlParams(r.info.run_id, key, xSelect.value, width));
          return { label: names[i], color: color(i), buckets: data, downsampled: data.downsampled, total: data.total, runStart: Number(r.info.start_time) || 0 };
        }),
      );
      await chart.draw(series);
    } catch (err) {
      area.append(errorBox(err));
    }
  };
  [select, xSelect, log].forEach((el) => el.addEventListener("change", draw));
  requestAnimationFrame(draw);
  return h("section", { class: "card", id: "compare-charts" }, h("h2", { text: "Metric charts" }),
    h("div", { class: "toolbar" }, h("label", {}, "Metric ", select), h("label", {}, "X axis ", xSelect), h("label", {}, log, " Log scale")), area);
}

function valueOptions(paramKeys, metricKeys) {
  return [...metricKeys.map((k) => [`metric:${k}`, `metric: ${k}`]), ...paramKeys.map((k) => [`param:${k}`, `param: ${k}`])];
}

function valueOf(choice, i, params, metrics) {
  const [kind, ...rest] = choice.split(":");
  const key = rest.join(":");
  return kind === "metric" ? metrics[i].get(key) : params[i].get(key);
}

function scatterSection(runs, names, paramKeys, metricKeys, params, metrics) {
  const options = valueOptions(paramKeys, metricKeys);
  const numericOptions = options.filter(([v]) => runs.some((_, i) => asNumber(valueOf(v, i, params, metrics)) !== null));
  const mk = (name, idx) => h("select", { name }, numericOptions.map(([v, t], j) => h("option", { value: v, selected: j === idx }, t)));
  const xSel = mk("scatter-x", 0);
  const ySel = mk("scatter-y", Math.min(1, numericOptions.length - 1));
  const area = h("div", { class: "scatter-area" });
  const draw = () => {
    fill(area);
    if (!numericOptions.length) {
      area.append(h("p", { class: "muted", text: "No numeric values to plot." }));
      return;
    }
    const points = runs.map((_, i) => ({ x: asNumber(valueOf(xSel.value, i, params, metrics)), y: asNumber(valueOf(ySel.value, i, params, metrics)), label: names[i] }));
    const chart = scatterChart({ points, xLabel: xSel.value, yLabel: ySel.value });
    area.append(chart.element);
    chart.draw().catch((err) => area.append(errorBox(err)));
  };
  [xSel, ySel].forEach((el) => el.addEventListener("change", draw));
  requestAnimationFrame(draw);
  return h("section", { class: "card", id: "compare-scatter" }, h("h2", { text: "Scatter plot" }),
    h("div", { class: "toolbar" }, h("label", {}, "X ", xSel), h("label", {}, "Y ", ySel)), area);
}

function parallelSection(names, paramKeys, metricKeys, params, metrics) {
  const options = valueOptions(paramKeys, metricKeys);
  const differing = options.filter(([v]) => differs(names.map((_, i) => valueOf(v, i, params, metrics))));
  const chosen = new Set([...differing.filter(([v]) => v.startsWith("param:")).slice(0, 5), ...differing.filter(([v]) => v.startsWith("metric:")).slice(0, 3)].map(([v]) => v));
  const area = h("div", { class: "table-wrap parcoords-area" });
  const draw = () => {
    const dims = options.filter(([v]) => chosen.has(v)).map(([v, label]) => ({
      name: label,
      values: names.map((_, i) => {
        const raw = valueOf(v, i, params, metrics);
        if (raw === undefined) return null;
        const n = asNumber(raw);
        return n !== null && Number.isFinite(n) ? n : String(raw);
      }),
    }));
    fill(area, dims.length >= 2 ? parallelCoordinates({ dims, labels: names, colors: names.map((_, i) => color(i)) }) : h("p", { class: "muted", text: "Choose at least two values." }));
  };
  const picker = h("details", { class: "dropdown" }, h("summary", { text: "Axes" }), h("div", { class: "dropdown-body" },
    options.map(([v, t]) => h("label", { class: "check" }, h("input", { type: "checkbox", checked: chosen.has(v), onchange: (e) => { if (e.target.checked) chosen.add(v); else chosen.delete(v); draw(); } }), t))));
  draw();
  return h("section", { class: "card", id: "compare-parallel" }, h("h2", { text: "Parallel coordinates" }), h("div", { class: "toolbar" }, picker), area);
}
