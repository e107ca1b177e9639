// Pieces shared by the pages: filter errors, page tokens, key/value editors.

import { button, confirmAction, errorBox, fill, h, promptForm, toast } from "../dom.js";

// The error of a malformed filter, with a caret under the character it names.
export function filterError(filter, err) {
  const pos = err.position;
  const box = h("div", { class: "error filter-error", role: "alert" }, h("div", { class: "message", text: err.message }));
  if (pos !== null && filter) {
    const at = Math.min(pos, filter.length);
    box.append(
      h(
        "pre",
        { class: "caret" },
        filter.slice(0, at),
        h("mark", { text: filter.slice(at, at + 1) || " " }),
        filter.slice(at + 1),
        "\n",
        " ".repeat(at) + "^",
      ),
    );
  }
  return box;
}

// Token paging: the current token and the stack of earlier ones travel in the URL.
export function pageState(query) {
  return {
    token: query.get("page") || "",
    prev: (query.get("prev") || "").split(",").filter(Boolean),
  };
}

export function pager(state, nextToken, go, extra = null) {
  const stack = (list) => (list.length ? { prev: list.join(",") } : {});
  const number = state.prev.length + (state.token ? 2 : 1);
  return h(
    "div",
    { class: "pager" },
    button("‹ Previous", () => go({ page: state.prev.at(-1) || "", ...stack(state.prev.slice(0, -1)) }), { disabled: !state.token, class: "prev" }),
    h("span", { class: "muted", text: `Page ${number}` }),
    button("Next ›", () => go({ page: nextToken, ...stack([...state.prev, state.token].filter(Boolean)) }), { disabled: !nextToken, class: "next" }),
    extra,
  );
}

// An editable table of tags: onSet(key, value) and onDelete(key) return promises.
export function tagEditor(tags, { onSet, onDelete, hideSystem = true }) {
  const wrap = h("div", { class: "tag-editor" });
  let showSystem = !hideSystem;
  const draw = () => {
    const rows = [...tags].filter(([k]) => showSystem || !k.startsWith("mlflow."));
    const systemCount = [...tags].length - [...tags].filter(([k]) => !k.startsWith("mlflow.")).length;
    const table = h(
      "table",
      { class: "kv tags" },
      h("tbody", {}, rows.length ? rows.map(([k, v]) => tagRow(k, v)) : h("tr", {}, h("td", { class: "muted", colspan: 3, text: "No tags." }))),
    );
    const addKey = h("input", { name: "tag-key", placeholder: "key" });
    const addValue = h("input", { name: "tag-value", placeholder: "value" });
    const add = h(
      "form",
      {
        class: "inline add-tag",
        onsubmit: async (e) => {
          e.preventDefault();
          if (!addKey.value) return;
          await guarded(() => onSet(addKey.value, addValue.value));
        },
      },
      addKey,
      addValue,
      h("button", { type: "submit" }, "Add tag"),
    );
    const toggle = systemCount
      ? h("label", { class: "muted small" }, h("input", { type: "checkbox", checked: showSystem, onchange: (e) => { showSystem = e.target.checked; draw(); } }), ` show ${systemCount} system tags`)
      : null;
    fill(wrap, table, add, toggle);
  };
  const tagRow = (k, v) =>
    h(
      "tr",
      { dataset: { key: k } },
      h("th", { text: k }),
      h("td", { class: "value", text: v }),
      h(
        "td",
        { class: "row-actions" },
        button("Edit", async () => {
          const values = await promptForm(`Edit tag ${k}`, [{ name: "value", label: "Value", value: v, type: "textarea" }]);
          if (values) await guarded(() => onSet(k, values.value));
        }),
        button("Delete", async () => {
          if (await confirmAction(`Delete tag "${k}"?`)) await guarded(() => onDelete(k));
        }, { class: "danger" }),
      ),
    );
  draw();
  return wrap;
}

async function guarded(fn) {
  try {
    await fn();
  } catch (err) {
    toast(err.message, "error");
  }
}

export function keyValueTable(entries, { emptyText = "None.", numeric = false, format = (v) => v, linkFor = null } = {}) {
  if (!entries.length) return h("p", { class: "muted", text: emptyText });
  return h(
    "table",
    { class: "kv" },
    h("tbody", {}, entries.map(([k, v]) => h("tr", {}, h("th", {}, linkFor ? linkFor(k) : k), h("td", { class: numeric ? "num" : "", text: format(v) })))),
  );
}

export function loading() {
  return h("p", { class: "muted", text: "Loading…" });
}

export { errorBox };
