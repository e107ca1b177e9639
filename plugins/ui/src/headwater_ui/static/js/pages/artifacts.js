// The artifact browser of a run: a lazily loaded tree and a preview pane.
// Previews come from the server already parsed (CSV rows, MLmodel as JSON) and
// are shown as text; images are <img> elements pointing at the artifact route.

import { artifactUrl, get } from "../api.js";
import { errorBox, fill, h, route, withQuery } from "../dom.js";
import { fmtBytes } from "../format.js";

// initialPath (from the URL) opens the folders down to a file and previews it.
export function artifactBrowser(run, initialPath = "") {
  const runId = run.info.run_id;
  const tree = h("ul", { class: "tree", id: "artifact-tree" });
  const preview = h("div", { class: "preview", id: "artifact-preview" }, h("p", { class: "muted", text: "Select a file to preview it." }));
  const root = h("div", { class: "artifacts" }, h("div", { class: "tree-pane" }, tree), preview);
  let selected = null;

  const listInto = async (ul, path) => {
    fill(ul, h("li", { class: "muted", text: "Loading…" }));
    try {
      const result = await get("mlflow/artifacts/list", { run_id: runId, path: path || undefined });
      const files = (result.files || []).sort((a, b) => (b.is_dir - a.is_dir) || a.path.localeCompare(b.path));
      fill(ul, ...(files.length ? files.map(entry) : [h("li", { class: "muted", text: path ? "Empty folder." : "No artifacts." })]));
      const next = initialPath && [...ul.querySelectorAll(":scope > li > button")].find(
        (b) => initialPath === b.dataset.path || initialPath.startsWith(`${b.dataset.path}/`),
      );
      if (next) next.click();
    } catch (err) {
      fill(ul, h("li", {}, errorBox(err)));
    }
  };

  const entry = (file) => {
    const name = file.path.split("/").pop();
    if (file.is_dir) {
      const children = h("ul", { class: "tree", hidden: true });
      let loaded = false;
      const label = h("button", {
        type: "button", class: "link dir", dataset: { path: file.path },
        onclick: async () => {
          children.hidden = !children.hidden;
          label.classList.toggle("open", !children.hidden);
          if (!loaded) {
            loaded = true;
            await listInto(children, file.path);
          }
        },
      }, name);
      return h("li", {}, label, children);
    }
    const label = h("button", {
      type: "button", class: "link file", dataset: { path: file.path },
      onclick: () => {
        if (selected) selected.classList.remove("selected");
        selected = label;
        label.classList.add("selected");
        showPreview(preview, runId, file);
        // Make the preview linkable without re-rendering the page.
        history.replaceState(null, "", withQuery(route("runs", runId), { tab: "artifacts", path: file.path }));
      },
    }, name, h("span", { class: "muted small", text: ` ${fmtBytes(file.file_size)}` }));
    return h("li", {}, label);
  };

  listInto(tree, "");
  return root;
}

async function showPreview(pane, runId, file) {
  const url = artifactUrl(runId, file.path);
  const head = h(
    "div",
    { class: "preview-head" },
    h("strong", { class: "path", text: file.path }),
    h("span", { class: "muted", text: fmtBytes(file.file_size) }),
    h("a", { href: url, download: file.path.split("/").pop(), class: "button" }, "Download"),
  );
  fill(pane, head, h("p", { class: "muted", text: "Loading…" }));
  let data;
  try {
    data = await get("headwater/artifacts/preview", { run_id: runId, path: file.path });
  } catch (err) {
    fill(pane, head, errorBox(err));
    return;
  }
  fill(pane, head, renderPreview(data, url));
}

export function renderPreview(data, url) {
  const note = data.truncated ? h("p", { class: "muted small", text: "Showing the first 1 MB of the file." }) : null;
  const parseNote = data.parse_error ? h("p", { class: "warning", text: `Could not parse: ${data.parse_error}` }) : null;
  switch (data.kind) {
    case "image":
      return h("div", { class: "image-preview" }, h("img", { src: url, alt: data.name }));
    case "binary":
      return h("p", { class: "muted", text: "Binary file: no preview. Use Download." });
    case "csv":
      return h("div", {}, note, parseNote, data.table ? csvTable(data.table) : textBlock(data.text));
    case "mlmodel":
      return h("div", {}, note, parseNote, data.mlmodel ? mlmodelView(data.mlmodel) : null, h("details", {}, h("summary", { text: "MLmodel file" }), textBlock(data.text)));
    default:
      return h("div", {}, note, parseNote, textBlock(data.text));
  }
}

function textBlock(text) {
  return h("pre", { class: "text-preview", text: text ?? "" });
}

function csvTable(table) {
  return h(
    "div",
    { class: "table-wrap csv-preview" },
    h(
      "table",
      { class: "grid" },
      h("thead", {}, h("tr", {}, table.columns.map((c) => h("th", { text: c })))),
      h("tbody", {}, table.rows.map((row) => h("tr", {}, row.map((cell) => h("td", { text: cell }))))),
    ),
    table.rows_truncated ? h("p", { class: "muted small", text: "First 1000 rows shown." }) : null,
  );
}

const show = (v) => (v !== null && typeof v === "object" ? JSON.stringify(v) : String(v ?? ""));

function parseSchema(text) {
  if (!text) return null;
  try {
    const parsed = typeof text === "string" ? JSON.parse(text) : text;
    return Array.isArray(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

function schemaTable(title, text) {
  const cols = parseSchema(text);
  if (!cols) return text ? h("div", {}, h("h4", { text: title }), textBlock(show(text))) : null;
  return h(
    "div",
    {},
    h("h4", { text: title }),
    h(
      "table",
      { class: "grid schema" },
      h("thead", {}, h("tr", {}, ["Name", "Type", "Required"].map((t) => h("th", { text: t })))),
      h(
        "tbody",
        {},
        cols.map((c) =>
          h("tr", {}, h("td", { text: c.name ?? "(unnamed)" }), h("td", { text: c.type === "tensor" ? `tensor ${show(c["tensor-spec"])}` : show(c.type) }), h("td", { text: c.required === false ? "no" : "yes" })),
        ),
      ),
    ),
  );
}

// MLmodel: its flavors and signature, as tables of text.
export function mlmodelView(model) {
  const flavors = model.flavors && typeof model.flavors === "object" ? Object.entries(model.flavors) : [];
  const signature = model.signature && typeof model.signature === "object" ? model.signature : null;
  const other = Object.entries(model).filter(([k]) => !["flavors", "signature"].includes(k));
  return h(
    "div",
    { class: "mlmodel" },
    h("h3", { text: "Flavors" }),
    flavors.length
      ? h(
          "table",
          { class: "kv flavors" },
          h("tbody", {}, flavors.map(([name, conf]) =>
            h("tr", {}, h("th", { text: name }), h("td", {}, conf && typeof conf === "object"
              ? h("ul", { class: "plain" }, Object.entries(conf).map(([k, v]) => h("li", {}, h("code", { text: k }), `: ${show(v)}`)))
              : show(conf))))),
        )
      : h("p", { class: "muted", text: "No flavors." }),
    h("h3", { text: "Signature" }),
    signature
      ? h("div", { class: "signature" }, schemaTable("Inputs", signature.inputs), schemaTable("Outputs", signature.outputs), schemaTable("Parameters", signature.params))
      : h("p", { class: "muted", text: "No signature." }),
    other.length ? h("table", { class: "kv" }, h("tbody", {}, other.map(([k, v]) => h("tr", {}, h("th", { text: k }), h("td", { text: show(v) }))))) : null,
  );
}
