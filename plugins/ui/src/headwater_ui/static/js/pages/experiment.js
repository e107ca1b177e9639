// One experiment: its runs in a table paged, sorted and filtered by the server
// (runs/search), so it stays fast however many runs there are.

import { ApiError, get, post, quoteKey } from "../api.js";
import { button, confirmAction, errorBox, fill, h, link, promptForm, route, toast, withQuery } from "../dom.js";
import { fmtNumber, fmtTime, kv, runDuration } from "../format.js";
import { filterError, pager, pageState, tagEditor } from "./common.js";

const VIEWS = { active: "ACTIVE_ONLY", deleted: "DELETED_ONLY", all: "ALL" };
const PAGE_SIZES = [25, 50, 100, 250, 500, 1000];
const PARENT_TAG = "mlflow.parentRunId";
const MAX_COMPARE = 50;

// Fixed columns: [label, order_by identifier or null, cell(run)].
const FIXED = [
  ["Run name", "attributes.run_name", null],
  ["Created", "attributes.start_time", (r) => fmtTime(r.info.start_time)],
  ["Duration", null, (r) => runDuration(r.info)],
  ["Status", "attributes.status", (r) => r.info.status],
  ["User", "attributes.user_id", (r) => r.info.user_id],
  ["Source", "tags.`mlflow.source.name`", (r) => sourceName(kv(r.data?.tags).get("mlflow.source.name"))],
];

const selection = { experiment: null, ids: new Set() };
const expanded = new Set();

function sourceName(source) {
  if (!source) return "";
  const parts = source.split(/[\\/]/);
  return parts[parts.length - 1] || source;
}

function columnsKey(id) {
  return `headwater.columns.${id}`;
}

// The columns chosen for an experiment, or null (then the page's first keys are shown).
function loadColumns(id) {
  try {
    const saved = JSON.parse(localStorage.getItem(columnsKey(id)) || "null");
    if (saved && Array.isArray(saved.params) && Array.isArray(saved.metrics) && Array.isArray(saved.tags)) return saved;
  } catch {
    /* a damaged setting falls back to the default */
  }
  return null;
}

function saveColumns(id, cols) {
  localStorage.setItem(columnsKey(id), JSON.stringify(cols));
}

export async function render(root, [experimentId], query, isCurrent) {
  if (selection.experiment !== experimentId) {
    selection.experiment = experimentId;
    selection.ids.clear();
  }
  const state = {
    filter: query.get("filter") || "",
    view: VIEWS[query.get("view")] ? query.get("view") : "active",
    order: query.get("order") || "",
    size: PAGE_SIZES.includes(Number(query.get("size"))) ? Number(query.get("size")) : 100,
    paging: pageState(query),
  };
  const go = (changes) => {
    const next = { filter: state.filter, view: state.view, order: state.order, size: state.size === 100 ? "" : state.size, ...changes };
    location.hash = withQuery(route("experiments", experimentId), next);
  };

  // Everything the page needs is asked for at once; the table waits only for its runs.
  const search = post("mlflow/runs/search", {
    experiment_ids: [experimentId],
    filter: state.filter || undefined,
    run_view_type: VIEWS[state.view],
    max_results: state.size,
    order_by: state.order ? [state.order] : undefined,
    page_token: state.paging.token || undefined,
  }).then((result) => ({ result }), (error) => ({ error }));
  const keysRequest = get("headwater/runs/keys", { experiment_ids: experimentId }).catch(() => ({}));
  const exp = (await get("mlflow/experiments/get", { experiment_id: experimentId })).experiment;
  if (!isCurrent()) return;
  const keys = { params: [], metrics: [], tags: [] };
  let columns = loadColumns(experimentId);

  root.append(header(exp));

  const filterInput = h("input", {
    type: "search", class: "filter mono", name: "filter", value: state.filter, spellcheck: "false",
    placeholder: "metrics.rmse < 1 and params.model = 'ridge' and tags.`mlflow.source.type` = 'LOCAL'",
  });
  const viewSelect = h(
    "select",
    { name: "view", onchange: () => go({ view: viewSelect.value, page: "", prev: "" }) },
    Object.keys(VIEWS).map((v) => h("option", { value: v, selected: v === state.view }, v[0].toUpperCase() + v.slice(1))),
  );
  const sizeSelect = h(
    "select",
    { name: "size", title: "Runs per page", onchange: () => go({ size: sizeSelect.value, page: "", prev: "" }) },
    PAGE_SIZES.map((n) => h("option", { value: n, selected: n === state.size }, `${n} / page`)),
  );
  const tableArea = h("div", { class: "table-wrap" }, h("p", { class: "muted", text: "Loading runs…" }));
  const selectionBar = h("div", { class: "selection-bar" });
  const picker = columnPicker(keys, () => columns, () => {
    saveColumns(experimentId, columns);
    if (lastRuns) drawTable(lastRuns);
  });

  root.append(
    h(
      "form",
      { class: "toolbar", onsubmit: (e) => { e.preventDefault(); go({ filter: filterInput.value.trim(), page: "", prev: "" }); } },
      filterInput,
      h("button", { type: "submit", class: "primary" }, "Search"),
      state.filter ? button("Clear", () => go({ filter: "", page: "", prev: "" })) : null,
      viewSelect,
      picker,
      sizeSelect,
    ),
    selectionBar,
    tableArea,
  );

  let lastRuns = null;
  const drawSelection = () => {
    const n = selection.ids.size;
    const ids = [...selection.ids];
    fill(selectionBar,
      h("span", { class: "muted", text: n ? `${n} selected` : "Select runs to compare, delete or restore." }),
      button("Compare", () => { location.hash = withQuery("#/compare", { runs: ids.join(","), experiment: experimentId }); }, {
        disabled: n < 2 || n > MAX_COMPARE, class: "primary compare", title: `2 to ${MAX_COMPARE} runs`,
      }),
      button("Delete", () => lifecycle("delete", ids), { disabled: !n, class: "danger" }),
      button("Restore", () => lifecycle("restore", ids), { disabled: !n }),
      n ? button("Clear selection", () => { selection.ids.clear(); drawSelection(); if (lastRuns) drawTable(lastRuns); }) : null,
    );
  };
  const lifecycle = async (action, ids) => {
    if (action === "delete" && !(await confirmAction(`Delete ${ids.length} run(s)?`))) return;
    try {
      await Promise.all(ids.map((id) => post(`mlflow/runs/${action}`, { run_id: id })));
      selection.ids.clear();
      window.dispatchEvent(new HashChangeEvent("hashchange"));
    } catch (err) {
      toast(err.message, "error");
    }
  };

  const drawTable = (result) => {
    lastRuns = result;
    const runs = result.runs || [];
    fill(tableArea,
      runsTable(runs, columns, state, go, drawSelection, () => drawTable(result)),
      pager(state.paging, result.next_page_token, (p) => go(p)),
    );
  };

  drawSelection();
  const { result, error } = await search;
  if (!isCurrent()) return;
  if (error) {
    // A position names a character of the filter unless the message is about the sort order.
    const aboutFilter = error instanceof ApiError && error.status === 400 && !/order_by/i.test(error.message);
    fill(tableArea, aboutFilter ? filterError(state.filter, error) : errorBox(error));
    return;
  }
  const onPage = pageKeys(result.runs || []);
  columns ||= { metrics: onPage.metrics.slice(0, 4), params: onPage.params.slice(0, 4), tags: [] };
  picker.setKeys(onPage);
  drawTable(result);
  keysRequest.then((all) => { if (isCurrent() && all.params) picker.setKeys(all); });
}

// The keys used by the runs of one page: enough for default columns before the full list arrives.
function pageKeys(runs) {
  const params = new Set();
  const metrics = new Set();
  const tags = new Set();
  for (const r of runs) {
    (r.data?.params || []).forEach((p) => params.add(p.key));
    (r.data?.metrics || []).forEach((m) => metrics.add(m.key));
    (r.data?.tags || []).forEach((t) => tags.add(t.key));
  }
  return { params: [...params].sort(), metrics: [...metrics].sort(), tags: [...tags].sort() };
}

function header(exp) {
  const deleted = exp.lifecycle_stage === "deleted";
  const tags = kv(exp.tags);
  const refresh = () => window.dispatchEvent(new HashChangeEvent("hashchange"));
  const editor = tagEditor(tags, {
    onSet: async (key, value) => { await post("mlflow/experiments/set-experiment-tag", { experiment_id: exp.experiment_id, key, value }); refresh(); },
    onDelete: async (key) => { await post("mlflow/experiments/delete-experiment-tag", { experiment_id: exp.experiment_id, key }); refresh(); },
  });
  return h(
    "div",
    { class: "page-header" },
    h("div", { class: "crumbs" }, link("#/", "Experiments"), " / "),
    h("h1", {}, h("span", { class: "exp-name", text: exp.name }), deleted ? h("span", { class: "badge deleted", text: "deleted" }) : null),
    h(
      "div",
      { class: "meta" },
      h("span", {}, "ID ", h("code", { text: exp.experiment_id })),
      h("span", {}, "Artifacts ", h("code", { text: exp.artifact_location })),
      h("span", {}, "Created ", fmtTime(exp.creation_time)),
      h(
        "span",
        { class: "row-actions" },
        deleted
          ? button("Restore experiment", () => act(() => post("mlflow/experiments/restore", { experiment_id: exp.experiment_id })))
          : [
              button("Rename", async () => {
                const v = await promptForm("Rename experiment", [{ name: "new_name", label: "New name", value: exp.name, required: true }]);
                if (v) await act(() => post("mlflow/experiments/update", { experiment_id: exp.experiment_id, new_name: v.new_name }));
              }),
              button("Delete experiment", async () => {
                if (await confirmAction(`Delete experiment "${exp.name}" and its runs?`)) await act(() => post("mlflow/experiments/delete", { experiment_id: exp.experiment_id }));
              }, { class: "danger" }),
            ],
      ),
    ),
    h("details", { class: "exp-tags" }, h("summary", { text: `Experiment tags (${[...tags].filter(([k]) => !k.startsWith("mlflow.")).length})` }), editor),
  );
}

async function act(fn) {
  try {
    await fn();
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  } catch (err) {
    toast(err.message, "error");
  }
}

// The Columns menu; setKeys(keys) merges in keys as they become known.
function columnPicker(keys, getColumns, onChange) {
  const search = h("input", { type: "search", placeholder: "Find a key", class: "small" });
  const groups = h("div", { class: "picker-groups" });
  const draw = () => {
    const columns = getColumns() || { metrics: [], params: [], tags: [] };
    const needle = search.value.toLowerCase();
    fill(
      groups,
      ...[["metrics", "Metrics"], ["params", "Parameters"], ["tags", "Tags"]].map(([kind, label]) =>
        h(
          "fieldset",
          {},
          h("legend", { text: `${label} (${keys[kind].length})` }),
          keys[kind]
            .filter((k) => !needle || k.toLowerCase().includes(needle))
            .slice(0, 300)
            .map((k) =>
              h(
                "label",
                { class: "check" },
                h("input", {
                  type: "checkbox",
                  checked: columns[kind].includes(k),
                  dataset: { kind, key: k },
                  onchange: (e) => {
                    const list = columns[kind];
                    if (e.target.checked) list.push(k);
                    else list.splice(list.indexOf(k), 1);
                    onChange();
                  },
                }),
                k,
              ),
            ),
        ),
      ),
    );
  };
  search.addEventListener("input", draw);
  const element = h("details", { class: "dropdown columns-picker" }, h("summary", { text: "Columns" }), h("div", { class: "dropdown-body" }, search, groups));
  element.setKeys = (more) => {
    for (const kind of ["params", "metrics", "tags"]) keys[kind] = [...new Set([...keys[kind], ...(more[kind] || [])])].sort();
    draw();
  };
  draw();
  return element;
}

function orderOf(state) {
  const m = /^(.*?)(?:\s+(ASC|DESC))?$/i.exec(state.order || "");
  return { ident: m[1], desc: (m[2] || "ASC").toUpperCase() === "DESC" };
}

function runsTable(runs, columns, state, go, onSelect, redraw) {
  const current = orderOf(state);
  const sortHeader = (label, ident, cls = "") => {
    if (!ident) return h("th", { class: cls, text: label });
    const active = current.ident === ident;
    const arrow = active ? (current.desc ? " ▼" : " ▲") : "";
    return h(
      "th",
      { class: `sortable ${cls} ${active ? "sorted" : ""}`, dataset: { sort: ident }, title: `Sort by ${label}` },
      h("button", {
        type: "button", class: "link",
        onclick: () => go({ order: `${ident} ${active && !current.desc ? "DESC" : "ASC"}`, page: "", prev: "" }),
      }, label + arrow),
    );
  };
  const dynamic = [
    ...columns.metrics.map((k) => ["metric", k, `metrics.${quoteKey(k)}`]),
    ...columns.params.map((k) => ["param", k, `params.${quoteKey(k)}`]),
    ...columns.tags.map((k) => ["tag", k, `tags.${quoteKey(k)}`]),
  ];
  const allBox = h("input", { type: "checkbox", title: "Select all on this page", class: "select-all" });
  const head = h(
    "tr",
    {},
    h("th", { class: "select" }, allBox),
    FIXED.map(([label, ident]) => sortHeader(label, ident)),
    dynamic.map(([kind, key, ident]) => sortHeader(key, ident, `col-${kind}`)),
  );
  const groupRow = h(
    "tr",
    { class: "group-row" },
    h("th", { colspan: 1 + FIXED.length }),
    ["metric", "param", "tag"].map((kind) => {
      const n = dynamic.filter((d) => d[0] === kind).length;
      return n ? h("th", { colspan: n, class: `col-${kind}`, text: { metric: "Metrics", param: "Parameters", tag: "Tags" }[kind] }) : null;
    }),
  );

  const byId = new Map(runs.map((r) => [r.info.run_id, r]));
  const children = new Map();
  for (const r of runs) {
    const parent = kv(r.data?.tags).get(PARENT_TAG);
    if (parent && byId.has(parent)) {
      if (!children.has(parent)) children.set(parent, []);
      children.get(parent).push(r);
    }
  }
  const boxes = [];
  const rows = [];
  const row = (run, depth) => {
    const id = run.info.run_id;
    const tags = kv(run.data?.tags);
    const params = kv(run.data?.params);
    const metrics = new Map((run.data?.metrics || []).map((m) => [m.key, m.value]));
    const box = h("input", {
      type: "checkbox", checked: selection.ids.has(id), dataset: { runId: id }, class: "select-run",
      onchange: (e) => { if (e.target.checked) selection.ids.add(id); else selection.ids.delete(id); onSelect(); },
    });
    boxes.push(box);
    const kids = children.get(id) || [];
    const parentOutside = depth === 0 && tags.get(PARENT_TAG) && !byId.has(tags.get(PARENT_TAG));
    const nameCell = h(
      "td",
      { class: `run-name depth-${Math.min(depth, 3)}` },
      kids.length
        ? h("button", {
            type: "button", class: "toggle", title: expanded.has(id) ? "Hide child runs" : "Show child runs",
            onclick: () => { if (expanded.has(id)) expanded.delete(id); else expanded.add(id); redraw(); },
          }, `${expanded.has(id) ? "▾" : "▸"} ${kids.length}`)
        : null,
      depth || parentOutside ? h("span", { class: "muted", title: `Child of ${tags.get(PARENT_TAG)}`, text: "↳ " }) : null,
      link(route("runs", id), run.info.run_name || id),
    );
    rows.push(
      h(
        "tr",
        { class: `${run.info.lifecycle_stage === "deleted" ? "deleted" : ""} ${depth ? "child" : ""}`, dataset: { runId: id } },
        h("td", { class: "select" }, box),
        nameCell,
        FIXED.slice(1).map(([label, , cell]) => h("td", { class: `c-${label.toLowerCase()}`, text: cell(run) })),
        dynamic.map(([kind, key]) => {
          const value = kind === "metric" ? metrics.get(key) : kind === "param" ? params.get(key) : tags.get(key);
          const text = kind === "metric" ? fmtNumber(value) : value ?? "";
          return h("td", { class: kind === "metric" ? "num" : "", title: value === undefined ? undefined : String(value), text });
        }),
      ),
    );
    if (expanded.has(id)) for (const kid of kids) row(kid, depth + 1);
  };
  for (const r of runs) {
    const parent = kv(r.data?.tags).get(PARENT_TAG);
    if (parent && byId.has(parent)) continue; // drawn under its parent
    row(r, 0);
  }
  allBox.addEventListener("change", () => {
    for (const b of boxes) {
      b.checked = allBox.checked;
      if (allBox.checked) selection.ids.add(b.dataset.runId);
      else selection.ids.delete(b.dataset.runId);
    }
    onSelect();
  });
  return h(
    "table",
    { class: "grid runs", id: "runs-table" },
    h("thead", {}, dynamic.length ? groupRow : null, head),
    h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: 1 + FIXED.length + dynamic.length, class: "muted", text: "No runs match." }))),
  );
}
