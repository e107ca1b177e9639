// The model registry: models list, a model's page (description, tags, aliases,
// versions and their stages) and a version's page (source run, signature).

import { ApiError, del, get, patch, post, quoteValue } from "../api.js";
import { button, confirmAction, errorBox, fill, h, link, promptForm, route, toast, withQuery } from "../dom.js";
import { fmtTime, kv } from "../format.js";
import { mlmodelView } from "./artifacts.js";
import { filterError, pager, pageState, tagEditor } from "./common.js";

const STAGES = ["None", "Staging", "Production", "Archived"];
const PAGE_SIZE = 100;

async function act(fn, after = () => window.dispatchEvent(new HashChangeEvent("hashchange"))) {
  try {
    await fn();
    after();
  } catch (err) {
    toast(err.message, "error");
  }
}

function toFilter(text) {
  const t = text.trim();
  if (!t) return "";
  if (/[=<>!]|\s(like|ilike|in)\s/i.test(t)) return t;
  return `name ILIKE ${quoteValue(`%${t}%`)}`;
}

export async function renderList(root, _args, query, isCurrent) {
  const search = query.get("q") || "";
  const paging = pageState(query);
  const go = (q) => { location.hash = withQuery("#/models", { q: search, ...q }); };
  const input = h("input", { type: "search", class: "filter", name: "q", value: search, placeholder: "Search by name, or a filter: tags.team = 'nlp'" });
  root.append(
    h("h1", { text: "Registered models" }),
    h("form", { class: "toolbar", onsubmit: (e) => { e.preventDefault(); go({ q: input.value, page: "", prev: "" }); } },
      input, h("button", { type: "submit" }, "Search"), h("span", { class: "spacer" }),
      button("New model", async () => {
        const v = await promptForm("New registered model", [{ name: "name", label: "Name", required: true }, { name: "description", label: "Description", type: "textarea" }], "Create");
        if (v) await act(() => post("mlflow/registered-models/create", { name: v.name, description: v.description || undefined }), () => { location.hash = route("models", v.name); });
      }, { class: "primary" })),
  );
  const body = h("div", { class: "table-wrap" }, h("p", { class: "muted", text: "Loading…" }));
  root.append(body);
  let result;
  const filter = toFilter(search);
  try {
    result = await get("mlflow/registered-models/search", { filter: filter || undefined, max_results: PAGE_SIZE, order_by: ["name ASC"], page_token: paging.token || undefined });
  } catch (err) {
    if (isCurrent()) fill(body, err instanceof ApiError && err.status === 400 ? filterError(filter, err) : errorBox(err));
    return;
  }
  if (!isCurrent()) return;
  const models = result.registered_models || [];
  fill(body,
    h("table", { class: "grid", id: "models-table" },
      h("thead", {}, h("tr", {}, ["Name", "Latest versions", "Aliases", "Last modified", "Description"].map((t) => h("th", { text: t })))),
      h("tbody", {}, models.length ? models.map((m) => h("tr", { dataset: { model: m.name } },
        h("td", {}, link(route("models", m.name), m.name, { class: "name" })),
        h("td", {}, (m.latest_versions || []).map((v) => h("span", { class: "chip" }, link(route("models", m.name, "versions", v.version), `v${v.version}`), ` ${v.current_stage || "None"}`))),
        h("td", {}, (m.aliases || []).map((a) => h("span", { class: "chip", text: `@${a.alias} → v${a.version}` }))),
        h("td", { text: fmtTime(m.last_updated_timestamp) }),
        h("td", { class: "clip", text: m.description || "" }),
      )) : h("tr", {}, h("td", { colspan: 5, class: "muted", text: "No registered models." })))),
    pager(paging, result.next_page_token, (p) => go(p)),
  );
}

function stageSelect(name, version, current) {
  const select = h("select", { name: "stage", class: "stage", dataset: { version } }, STAGES.map((s) => h("option", { value: s, selected: s === (current || "None") }, s)));
  select.addEventListener("change", async () => {
    const archive = ["Staging", "Production"].includes(select.value)
      ? await confirmAction(`Move other ${select.value} versions of ${name} to Archived?`)
      : false;
    await act(() => post("mlflow/model-versions/transition-stage", { name, version: String(version), stage: select.value, archive_existing_versions: archive }));
  });
  return select;
}

export async function renderModel(root, [name], _query, isCurrent) {
  const [{ registered_model: model }, versions] = await Promise.all([
    get("mlflow/registered-models/get", { name }),
    get("mlflow/model-versions/search", { filter: `name = ${quoteValue(name)}`, max_results: 1000, order_by: ["version_number DESC"] }),
  ]);
  if (!isCurrent()) return;
  const refresh = () => window.dispatchEvent(new HashChangeEvent("hashchange"));
  const tags = kv(model.tags);
  const aliases = model.aliases || [];
  const list = versions.model_versions || [];
  root.append(
    h("div", { class: "page-header" },
      h("div", { class: "crumbs" }, link("#/models", "Models"), " / "),
      h("h1", {}, h("span", { class: "model-name", text: model.name })),
      h("div", { class: "meta" },
        h("span", {}, "Created ", fmtTime(model.creation_timestamp)),
        h("span", {}, "Last modified ", fmtTime(model.last_updated_timestamp)),
        model.user_id ? h("span", {}, "By ", model.user_id) : null,
        h("span", { class: "row-actions" },
          button("Rename", async () => {
            const v = await promptForm("Rename model", [{ name: "new_name", label: "New name", value: model.name, required: true }]);
            if (v) await act(() => post("mlflow/registered-models/rename", { name: model.name, new_name: v.new_name }), () => { location.hash = route("models", v.new_name); });
          }),
          button("Delete model", async () => {
            if (await confirmAction(`Delete model "${model.name}" and all its versions?`)) await act(() => del("mlflow/registered-models/delete", { name: model.name }), () => { location.hash = "#/models"; });
          }, { class: "danger" })),
      ),
    ),
    h("section", { class: "card", id: "model-description" }, h("h2", { text: "Description" }),
      h("div", { class: "description", text: model.description || "" }, model.description ? null : h("span", { class: "muted", text: "No description." })),
      button("Edit description", async () => {
        const v = await promptForm("Model description", [{ name: "description", label: "Description", value: model.description || "", type: "textarea" }]);
        if (v) await act(() => patch("mlflow/registered-models/update", { name: model.name, description: v.description }));
      })),
    h("section", { class: "card", id: "model-aliases" }, h("h2", { text: "Aliases" }),
      h("div", {}, aliases.length ? aliases.map((a) => h("span", { class: "chip", dataset: { alias: a.alias } }, `@${a.alias} → `, link(route("models", model.name, "versions", a.version), `v${a.version}`),
        button("×", () => act(() => del("mlflow/registered-models/alias", { name: model.name, alias: a.alias })), { class: "link danger", title: `Remove alias ${a.alias}` }))) : h("span", { class: "muted", text: "No aliases." })),
      aliasForm(model.name, list)),
    h("section", { class: "card", id: "model-versions" }, h("h2", { text: `Versions (${list.length})` }),
      h("div", { class: "table-wrap" }, h("table", { class: "grid", id: "versions-table" },
        h("thead", {}, h("tr", {}, ["Version", "Stage", "Aliases", "Created", "Source run", "Status", "Description"].map((t) => h("th", { text: t })))),
        h("tbody", {}, list.length ? list.map((v) => h("tr", { dataset: { version: v.version } },
          h("td", {}, link(route("models", model.name, "versions", v.version), `Version ${v.version}`)),
          h("td", {}, stageSelect(model.name, v.version, v.current_stage)),
          h("td", {}, (v.aliases || []).map((a) => h("span", { class: "chip", text: `@${a}` }))),
          h("td", { text: fmtTime(v.creation_timestamp) }),
          h("td", {}, v.run_id ? link(route("runs", v.run_id), v.run_id.slice(0, 12)) : ""),
          h("td", { text: v.status || "" }),
          h("td", { class: "clip", text: v.description || "" }),
        )) : h("tr", {}, h("td", { colspan: 7, class: "muted", text: "No versions." })))))),
    h("section", { class: "card", id: "model-tags" }, h("h2", { text: "Tags" }), tagEditor(tags, {
      onSet: async (key, value) => { await post("mlflow/registered-models/set-tag", { name: model.name, key, value }); refresh(); },
      onDelete: async (key) => { await del("mlflow/registered-models/delete-tag", { name: model.name, key }); refresh(); },
    })),
  );
}

function aliasForm(name, versions) {
  const alias = h("input", { name: "alias", placeholder: "alias", required: true });
  const version = h("select", { name: "alias-version" }, versions.map((v) => h("option", { value: v.version }, `v${v.version}`)));
  return h("form", { class: "inline", onsubmit: async (e) => {
    e.preventDefault();
    await act(() => post("mlflow/registered-models/alias", { name, alias: alias.value, version: version.value }));
  } }, alias, version, h("button", { type: "submit", disabled: !versions.length }, "Set alias"));
}

// Where a version's files sit inside its source run, if they do.
function pathInRun(source, run) {
  const runsPrefix = `runs:/${run.info.run_id}/`;
  if (source.startsWith(runsPrefix)) return source.slice(runsPrefix.length);
  const root = run.info.artifact_uri.replace(/\/+$/, "");
  if (source.startsWith(`${root}/`)) return source.slice(root.length + 1);
  return null;
}

export async function renderVersion(root, [name, version], _query, isCurrent) {
  const { model_version: mv } = await get("mlflow/model-versions/get", { name, version });
  if (!isCurrent()) return;
  const refresh = () => window.dispatchEvent(new HashChangeEvent("hashchange"));
  const signature = h("div", {}, h("p", { class: "muted", text: "Loading…" }));
  root.append(
    h("div", { class: "page-header" },
      h("div", { class: "crumbs" }, link("#/models", "Models"), " / ", link(route("models", name), name), " / "),
      h("h1", {}, `Version ${mv.version}`, h("span", { class: `badge stage-${mv.current_stage || "None"}`, text: mv.current_stage || "None" }))),
    h("div", { class: "grid-2" },
      h("section", { class: "card" }, h("h2", { text: "Version" }), h("table", { class: "kv version-info" }, h("tbody", {},
        [
          ["Model", link(route("models", name), name)],
          ["Stage", stageSelect(name, mv.version, mv.current_stage)],
          ["Aliases", (mv.aliases || []).map((a) => h("span", { class: "chip", text: `@${a}` }))],
          ["Status", mv.status || ""],
          ["Created", fmtTime(mv.creation_timestamp)],
          ["Last modified", fmtTime(mv.last_updated_timestamp)],
          ["User", mv.user_id || ""],
          ["Source", h("code", { text: mv.source || "" })],
          ["Source run", mv.run_id ? link(route("runs", mv.run_id), mv.run_id, { class: "source-run" }) : "—"],
        ].map(([k, v]) => h("tr", {}, h("th", { text: k }), h("td", {}, v)))))),
      h("section", { class: "card" }, h("h2", { text: "Description" }),
        h("div", { class: "description", text: mv.description || "" }, mv.description ? null : h("span", { class: "muted", text: "No description." })),
        button("Edit description", async () => {
          const v = await promptForm("Version description", [{ name: "description", label: "Description", value: mv.description || "", type: "textarea" }]);
          if (v) await act(() => patch("mlflow/model-versions/update", { name, version: String(mv.version), description: v.description }));
        })),
    ),
    h("section", { class: "card", id: "version-signature" }, h("h2", { text: "Model" }), signature),
    h("section", { class: "card", id: "version-tags" }, h("h2", { text: "Tags" }), tagEditor(kv(mv.tags), {
      onSet: async (key, value) => { await post("mlflow/model-versions/set-tag", { name, version: String(mv.version), key, value }); refresh(); },
      onDelete: async (key) => { await del("mlflow/model-versions/delete-tag", { name, version: String(mv.version), key }); refresh(); },
    })),
  );
  const showModel = (preview) =>
    fill(signature, preview.mlmodel ? mlmodelView(preview.mlmodel) : h("pre", { class: "text-preview", text: preview.text || "" }));
  try {
    const loggedModel = /^models:\/(m-[0-9a-f]+)\/?$/.exec(mv.source || "");
    if (loggedModel || mv.model_id) {
      showModel(await get("headwater/artifacts/preview", { model_id: mv.model_id || loggedModel[1], path: "MLmodel" }));
      return;
    }
    if (!mv.run_id) {
      fill(signature, h("p", { class: "muted", text: "This version names no source run, so its MLmodel file is not shown." }));
      return;
    }
    const { run } = await get("mlflow/runs/get", { run_id: mv.run_id });
    const path = pathInRun(mv.source || "", run);
    if (path === null) {
      fill(signature, h("p", { class: "muted", text: "The version's files are not inside its source run's artifacts." }));
      return;
    }
    showModel(await get("headwater/artifacts/preview", { run_id: mv.run_id, path: path ? `${path}/MLmodel` : "MLmodel" }));
  } catch (err) {
    fill(signature, h("p", { class: "muted", text: `No MLmodel file found: ${err.message}` }));
  }
}
