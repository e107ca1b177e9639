// Experiments: search, create, rename, delete and restore (with a view of deleted ones).

import { ApiError, get, post, quoteValue } from "../api.js";
import { button, confirmAction, errorBox, fill, h, link, promptForm, route, toast, withQuery } from "../dom.js";
import { fmtTime, kv } from "../format.js";
import { filterError, pager, pageState } from "./common.js";

const PAGE_SIZE = 100;
const VIEWS = { active: "ACTIVE_ONLY", deleted: "DELETED_ONLY", all: "ALL" };

// Plain words search names; anything with an operator is taken as a filter expression.
function toFilter(text) {
  const t = text.trim();
  if (!t) return "";
  if (/[=<>!]|\s(like|ilike|in|is)\s/i.test(t)) return t;
  return `name ILIKE ${quoteValue(`%${t}%`)}`;
}

export async function render(root, _args, query, isCurrent) {
  const search = query.get("q") || "";
  const view = VIEWS[query.get("view")] ? query.get("view") : "active";
  const paging = pageState(query);

  const go = (q) => {
    location.hash = withQuery("#/experiments", q);
  };
  const input = h("input", { type: "search", class: "filter", placeholder: "Search by name, or a filter: tags.team = 'nlp'", value: search, name: "q" });
  const viewSelect = h(
    "select",
    { name: "view", onchange: () => go({ q: input.value, view: viewSelect.value }) },
    Object.keys(VIEWS).map((v) => h("option", { value: v, selected: v === view }, v[0].toUpperCase() + v.slice(1))),
  );
  const form = h(
    "form",
    { class: "toolbar", onsubmit: (e) => { e.preventDefault(); go({ q: input.value, view }); } },
    input,
    h("button", { type: "submit" }, "Search"),
    viewSelect,
    h("span", { class: "spacer" }),
    button("New experiment", () => createExperiment(), { class: "primary" }),
  );
  root.append(h("h1", { text: "Experiments" }), form);

  const body = h("div", { class: "table-wrap" }, h("p", { class: "muted", text: "Loading…" }));
  root.append(body);
  let result;
  let filter;
  try {
    filter = toFilter(search);
    result = await get("mlflow/experiments/search", {
      max_results: PAGE_SIZE,
      filter: filter || undefined,
      view_type: VIEWS[view],
      page_token: paging.token || undefined,
      order_by: ["name ASC"],
    });
  } catch (err) {
    if (!isCurrent()) return;
    fill(body, err instanceof ApiError && err.position !== null ? filterError(filter, err) : errorBox(err));
    return;
  }
  if (!isCurrent()) return;
  const rows = (result.experiments || []).map((exp) => experimentRow(exp, view));
  const table = h(
    "table",
    { class: "grid", id: "experiments-table" },
    h("thead", {}, h("tr", {}, ["Name", "ID", "Created", "Last updated", "Tags", ""].map((t) => h("th", { text: t })))),
    h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: 6, class: "muted", text: "No experiments." }))),
  );
  fill(body, table, pager(paging, result.next_page_token, (p) => go({ q: search, view, ...p })));
}

function experimentRow(exp, view) {
  const tags = kv(exp.tags);
  const deleted = exp.lifecycle_stage === "deleted";
  const visibleTags = [...tags].filter(([k]) => !k.startsWith("mlflow."));
  return h(
    "tr",
    { class: deleted ? "deleted" : "", dataset: { experimentId: exp.experiment_id } },
    h("td", {}, link(route("experiments", exp.experiment_id), exp.name, { class: "name" })),
    h("td", { text: exp.experiment_id }),
    h("td", { text: fmtTime(exp.creation_time) }),
    h("td", { text: fmtTime(exp.last_update_time) }),
    h("td", {}, visibleTags.slice(0, 5).map(([k, v]) => h("span", { class: "chip", title: `${k}: ${v}` }, `${k}: ${v}`))),
    h(
      "td",
      { class: "row-actions" },
      deleted
        ? button("Restore", () => restore(exp))
        : [button("Rename", () => rename(exp)), button("Delete", () => remove(exp), { class: "danger" })],
    ),
  );
}

async function createExperiment() {
  const values = await promptForm("New experiment", [
    { name: "name", label: "Name", required: true },
    { name: "artifact_location", label: "Artifact location (optional)" },
  ], "Create");
  if (!values) return;
  try {
    const { experiment_id } = await post("mlflow/experiments/create", {
      name: values.name,
      artifact_location: values.artifact_location || undefined,
    });
    location.hash = route("experiments", experiment_id);
  } catch (err) {
    toast(err.message, "error");
  }
}

async function rename(exp) {
  const values = await promptForm(`Rename experiment ${exp.name}`, [{ name: "new_name", label: "New name", value: exp.name, required: true }]);
  if (!values) return;
  await act(() => post("mlflow/experiments/update", { experiment_id: exp.experiment_id, new_name: values.new_name }));
}

async function remove(exp) {
  if (!(await confirmAction(`Delete experiment "${exp.name}" and its runs?`))) return;
  await act(() => post("mlflow/experiments/delete", { experiment_id: exp.experiment_id }));
}

async function restore(exp) {
  await act(() => post("mlflow/experiments/restore", { experiment_id: exp.experiment_id }));
}

async function act(fn) {
  try {
    await fn();
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  } catch (err) {
    toast(err.message, "error");
  }
}
