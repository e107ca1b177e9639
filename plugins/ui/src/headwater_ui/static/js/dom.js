// Building DOM nodes. Every string goes in as a text node or an attribute value,
// never as markup: this module is the only place elements are made, and it never
// parses HTML (a test checks that no module uses an HTML-parsing sink).

const SAFE_HREF = /^(#|\?|ajax-api\/|static-files\/)/;

export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = String(value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "href" || key === "src") {
      // Links and images only ever point at this app's routes or its API.
      if (!SAFE_HREF.test(String(value))) throw new Error(`refusing ${key} ${value}`);
      el.setAttribute(key, String(value));
    } else if (["value", "checked", "disabled", "hidden", "selected", "type", "placeholder", "title"].includes(key)) {
      el[key] = value;
    } else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// Replace an element's children (null, false and undefined children are skipped).
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

// Route links: every path segment is percent-encoded.
export function route(...segments) {
  const parts = segments.filter((s) => s !== undefined && s !== null);
  return "#/" + parts.map((s) => encodeURIComponent(String(s))).join("/");
}

export function withQuery(hash, query) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  const s = q.toString();
  return s ? `${hash}?${s}` : hash;
}

export function link(hash, text, props = {}) {
  return h("a", { href: hash, ...props }, text);
}

export function button(text, onclick, props = {}) {
  return h("button", { type: "button", onclick, ...props }, text);
}

export function section(title, ...children) {
  return h("section", { class: "card" }, h("h2", { text: title }), ...children);
}

export function errorBox(err) {
  return h("div", { class: "error", role: "alert" }, err && err.message ? err.message : String(err));
}

// A small modal form: fields [{name, label, value, type}] -> resolves with values or null.
export function promptForm(title, fields, submitText = "Save") {
  return new Promise((resolve) => {
    const inputs = {};
    const dialog = h("dialog", { class: "modal" });
    const close = (result) => {
      dialog.close();
      dialog.remove();
      resolve(result);
    };
    const form = h(
      "form",
      {
        onsubmit: (e) => {
          e.preventDefault();
          const values = {};
          for (const [k, input] of Object.entries(inputs)) values[k] = input.value;
          close(values);
        },
      },
      h("h3", { text: title }),
      fields.map((f) => {
        const input =
          f.type === "textarea"
            ? h("textarea", { name: f.name, rows: 6 })
            : h("input", { name: f.name, type: f.type || "text", required: f.required ? true : undefined });
        input.value = f.value ?? "";
        inputs[f.name] = input;
        return h("label", {}, h("span", { text: f.label }), input);
      }),
      h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, submitText), button("Cancel", () => close(null))),
    );
    dialog.append(form);
    dialog.addEventListener("cancel", () => close(null));
    document.body.append(dialog);
    dialog.showModal();
    const first = Object.values(inputs)[0];
    if (first) first.focus();
  });
}

export function confirmAction(message) {
  return promptForm(message, [], "OK").then((v) => v !== null);
}

// Flash a transient message at the top of the page.
export function toast(message, kind = "info") {
  const el = h("div", { class: `toast ${kind}`, role: "status" }, message);
  document.body.append(el);
  setTimeout(() => el.remove(), 4000);
}
