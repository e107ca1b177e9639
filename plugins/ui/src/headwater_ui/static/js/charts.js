// Charts: metric histories and scatter plots with uPlot (vendored, see
// static-files/vendor/README.md), parallel coordinates as SVG. Labels reach
// the page as text only (uPlot writes legends with textContent; the SVG here
// uses textContent too).

import { fill, h } from "./dom.js";
import { fmtDuration, fmtNumber } from "./format.js";

export const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
const SVG = "http://www.w3.org/2000/svg";

export const color = (i) => PALETTE[i % PALETTE.length];

let uplotLoading = null;

// uPlot is a classic script: added to the page the first time a chart is drawn.
export function loadUplot() {
  if (window.uPlot) return Promise.resolve(window.uPlot);
  uplotLoading ||= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = new URL("../vendor/uPlot.iife.min.js", import.meta.url).href; // the page's asset version
    script.onload = () => resolve(window.uPlot);
    script.onerror = () => { uplotLoading = null; reject(new Error("Could not load the charting library.")); };
    document.head.append(script);
  });
  return uplotLoading;
}

function alpha(hex, a) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${a})`;
}

// Exponential moving average over the non-null values (the smoothing slider).
export function smooth(values, weight) {
  if (!weight) return values;
  let last = null;
  return values.map((v) => {
    if (v === null || v === undefined) return v;
    last = last === null ? v : last * weight + v * (1 - weight);
    return last;
  });
}

// x values of buckets for the chosen axis: step, wall time (s), or seconds since the run started.
export function xValues(buckets, mode, runStart) {
  if (mode === "time") return buckets.x_first.map((t) => t / 1000);
  if (mode === "relative") return buckets.x_first.map((t) => (t - runStart) / 1000);
  return buckets.x_first;
}

export function toAxisX(value, mode, runStart) {
  if (mode === "time") return Math.round(value * 1000);
  if (mode === "relative") return Math.round(value * 1000 + runStart);
  return Math.round(value);
}

function positive(values, logY) {
  return logY ? values.map((v) => (v !== null && v > 0 ? v : null)) : values;
}

// Build uPlot's aligned data and series for one chart.
// series: [{label, color, buckets, downsampled, runStart}]
// bands[i] says whether series i is drawn with its min/max band; it is fixed when
// the chart is made, because uPlot cannot change the number of series later.
function buildData(series, { xMode, logY, smoothing }, withBands) {
  const tables = [];
  const specs = [];
  const bands = [];
  let index = 1;
  series.forEach((s, n) => {
    const b = s.buckets;
    const xs = xValues(b, xMode, s.runStart || 0);
    const mid = b.min.map((lo, i) => (lo === null || b.max[i] === null ? null : (lo + b.max[i]) / 2));
    const table = [xs, positive(smooth(mid, smoothing), logY)];
    specs.push({ label: s.label, stroke: s.color, width: 1.5, spanGaps: true, points: { show: b.x_first.length < 60 } });
    const line = index++;
    if (withBands[n]) {
      // The envelope of each bucket keeps spikes visible: a band from min to max.
      table.push(positive(b.max, logY), positive(b.min, logY));
      specs.push({ label: `${s.label} (max)`, stroke: alpha(s.color, 0.35), width: 1, spanGaps: true, points: { show: false } });
      specs.push({ label: `${s.label} (min)`, stroke: alpha(s.color, 0.35), width: 1, spanGaps: true, points: { show: false } });
      bands.push({ series: [index, index + 1], fill: alpha(s.color, 0.15) });
      index += 2;
    }
    tables.push({ table, line });
  });
  const data = tables.length === 1 ? tables[0].table : window.uPlot.join(tables.map((t) => t.table));
  return { data, specs, bands };
}

// What was drawn, for tests and benchmarks: the number of x positions and the largest y.
function markDrawn(element, data) {
  let yMax = -Infinity;
  for (const ys of data.slice(1)) for (const y of ys) if (y !== null && y > yMax) yMax = y;
  element.dataset.points = String(data[0].length);
  element.dataset.yMax = String(yMax);
  element.classList.add("drawn");
}

function xAxis(mode) {
  if (mode === "relative") return { label: "time since start", values: (u, splits) => splits.map((v) => fmtDuration(v * 1000)) };
  if (mode === "time") return { label: "wall time" };
  return { label: "step" };
}

/**
 * A metric chart. opts: {title, xMode, logY, smoothing, height, onZoom(xmin, xmax), onReset()}.
 * onZoom gets the new x range after a drag; onReset returns true if it handled a double-click.
 * Returns {element, update(series, keepZoom), destroy()}.
 */
export function metricChart(opts) {
  const element = h("div", { class: "chart" });
  const legend = h("div", { class: "chart-legend" });
  const readout = h("div", { class: "chart-readout muted" });
  const plotArea = h("div", { class: "chart-plot" });
  element.append(h("div", { class: "chart-title", text: opts.title || "" }), plotArea, legend, readout);
  let plot = null;
  let zoomTimer = null;
  let ignoreScale = true;
  let lines = [];
  let withBands = [];

  const drawLegend = (series) => {
    fill(legend,
      ...series.map((s) =>
        h("span", { class: "legend-item", title: s.label }, h("span", { class: "swatch", dataset: { color: s.color } }), s.label, s.downsampled ? h("span", { class: "muted small", text: ` (${s.total.toLocaleString()} points, min/max per bucket)` }) : null),
      ),
    );
    legend.querySelectorAll(".swatch").forEach((el) => { el.style.background = el.dataset.color; });
  };

  const create = (series) => {
    withBands = series.map((s) => Boolean(s.downsampled));
    const { data, specs, bands } = buildData(series, opts, withBands);
    lines = specs.map((s, i) => (s.label.endsWith("(max)") || s.label.endsWith("(min)") ? null : i + 1)).filter(Boolean);
    const width = Math.max(300, plotArea.clientWidth || element.clientWidth || 600);
    const config = {
      width,
      height: opts.height || 260,
      legend: { show: false },
      scales: { x: { time: opts.xMode === "time" }, y: opts.logY ? { distr: 3 } : {} },
      axes: [xAxis(opts.xMode), { values: (u, splits) => splits.map(fmtNumber), size: 60 }],
      series: [{}, ...specs],
      bands,
      cursor: {
        drag: { x: true, y: false },
        // Double-click zooms out; a chart whose data was refetched for a zoom reloads it whole.
        bind: { dblclick: (u, targ, handler) => (e) => { if (!(opts.onReset && opts.onReset())) handler(e); return null; } },
      },
      hooks: {
        setCursor: [
          (u) => {
            const i = u.cursor.idx;
            if (i === null || i === undefined || i >= u.data[0].length) { readout.textContent = ""; return; }
            const x = u.data[0][i];
            const xs = opts.xMode === "time" ? new Date(x * 1000).toISOString() : opts.xMode === "relative" ? fmtDuration(x * 1000) : String(x);
            readout.textContent = `${xAxis(opts.xMode).label} ${xs}: ` + lines.map((li) => `${specs[li - 1].label} = ${fmtNumber(u.data[li][i])}`).join(", ");
          },
        ],
        setScale: [
          (u, key) => {
            if (key !== "x" || ignoreScale || !opts.onZoom) return;
            clearTimeout(zoomTimer);
            const { min, max } = u.scales.x;
            zoomTimer = setTimeout(() => opts.onZoom(min, max), 150);
          },
        ],
      },
    };
    ignoreScale = true;
    plot = new window.uPlot(config, data, plotArea);
    ignoreScale = false;
    markDrawn(element, data);
    drawLegend(series);
  };

  const observer = new ResizeObserver(() => {
    if (plot && plotArea.clientWidth) plot.setSize({ width: plotArea.clientWidth, height: opts.height || 260 });
  });
  observer.observe(plotArea);

  return {
    element,
    draw: async (series) => {
      await loadUplot();
      create(series);
    },
    update(series, keepZoom) {
      if (!plot) return create(series);
      const { data } = buildData(series, opts, withBands);
      ignoreScale = !keepZoom;
      plot.setData(data, !keepZoom);
      ignoreScale = false;
      markDrawn(element, data);
    },
    destroy() {
      observer.disconnect();
      if (plot) plot.destroy();
    },
  };
}

/** Scatter plot of points [{x, y, label, color}]; hover shows the label. */
export function scatterChart({ points, xLabel, yLabel, height = 360 }) {
  const element = h("div", { class: "chart scatter" });
  const readout = h("div", { class: "chart-readout muted" });
  const plotArea = h("div", { class: "chart-plot" });
  element.append(plotArea, readout);
  const sorted = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)).sort((a, b) => a.x - b.x);
  const draw = async () => {
    await loadUplot();
    const config = {
      width: Math.max(300, plotArea.clientWidth || 600),
      height,
      legend: { show: false },
      scales: { x: { time: false } },
      axes: [{ label: xLabel, values: (u, s) => s.map(fmtNumber) }, { label: yLabel, values: (u, s) => s.map(fmtNumber), size: 60 }],
      series: [{}, { label: yLabel, stroke: PALETTE[0], paths: () => null, points: { show: true, size: 8, fill: alpha(PALETTE[0], 0.6) } }],
      hooks: {
        setCursor: [(u) => {
          const i = u.cursor.idx;
          readout.textContent = i === null || i === undefined || !sorted[i] ? "" : `${sorted[i].label}: ${xLabel} = ${fmtNumber(sorted[i].x)}, ${yLabel} = ${fmtNumber(sorted[i].y)}`;
        }],
      },
    };
    new window.uPlot(config, [sorted.map((p) => p.x), sorted.map((p) => p.y)], plotArea);
    element.classList.add("drawn");
    element.dataset.points = String(sorted.length);
  };
  return { element, draw, count: sorted.length };
}

function svg(tag, attrs = {}, text = null) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== null) el.textContent = text;
  return el;
}

/**
 * Parallel coordinates: dims [{name, values: (number|string|null)[]}] over the
 * same runs, one polyline per run (labels[i], colors[i]).
 */
export function parallelCoordinates({ dims, labels, colors, height = 340 }) {
  const width = Math.max(480, dims.length * 140);
  const top = 40;
  const bottom = height - 30;
  const root = svg("svg", { class: "parcoords", width, height, viewBox: `0 0 ${width} ${height}`, role: "img" });
  const xs = dims.map((_, i) => 60 + (i * (width - 120)) / Math.max(1, dims.length - 1));
  const scales = dims.map((d) => {
    const nums = d.values.filter((v) => typeof v === "number" && Number.isFinite(v));
    if (nums.length === d.values.filter((v) => v !== null && v !== undefined).length && nums.length) {
      const lo = Math.min(...nums);
      const hi = Math.max(...nums);
      const span = hi - lo || 1;
      return { pos: (v) => bottom - ((v - lo) / span) * (bottom - top), ticks: [[lo, fmtNumber(lo)], [hi, fmtNumber(hi)]] };
    }
    const cats = [...new Set(d.values.filter((v) => v !== null && v !== undefined).map(String))].sort();
    const step = (bottom - top) / Math.max(1, cats.length - 1);
    const at = (v) => (cats.length === 1 ? (top + bottom) / 2 : bottom - cats.indexOf(String(v)) * step);
    return { pos: at, ticks: cats.slice(0, 12).map((c) => [c, c]) };
  });
  labels.forEach((label, r) => {
    const pts = dims.map((d, i) => (d.values[r] === null || d.values[r] === undefined ? null : [xs[i], scales[i].pos(d.values[r])]));
    let path = "";
    pts.forEach((p) => {
      if (!p) return;
      path += `${path ? "L" : "M"}${p[0].toFixed(1)},${p[1].toFixed(1)}`;
    });
    const line = svg("path", { d: path || "M0,0", fill: "none", stroke: colors[r], "stroke-width": 1.5, "stroke-opacity": 0.8, class: "pc-line" });
    line.append(svg("title", {}, label));
    root.append(line);
  });
  dims.forEach((d, i) => {
    root.append(svg("line", { x1: xs[i], x2: xs[i], y1: top, y2: bottom, stroke: "#444", "stroke-width": 1 }));
    root.append(svg("text", { x: xs[i], y: top - 16, "text-anchor": "middle", class: "pc-label" }, d.name));
    for (const [value, text] of scales[i].ticks) {
      root.append(svg("text", { x: xs[i] + 4, y: scales[i].pos(value) + 4, class: "pc-tick" }, text));
    }
  });
  return root;
}
