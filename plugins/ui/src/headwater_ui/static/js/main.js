// Hash routing: #/..., so the page works under any --static-prefix and needs
// no server-side routes beyond the one page.

import { clear, errorBox, h } from "./dom.js";
import * as experiments from "./pages/experiments.js";
import * as experiment from "./pages/experiment.js";
import * as run from "./pages/run.js";
import * as compare from "./pages/compare.js";
import * as models from "./pages/models.js";

const ROUTES = [
  [/^\/?$/, experiments.render, "experiments"],
  [/^\/experiments$/, experiments.render, "experiments"],
  [/^\/experiments\/([^/]+)$/, experiment.render, "experiments"],
  [/^\/runs\/([^/]+)$/, run.render, "experiments"],
  [/^\/compare$/, compare.render, "experiments"],
  [/^\/models$/, models.renderList, "models"],
  [/^\/models\/([^/]+)$/, models.renderModel, "models"],
  [/^\/models\/([^/]+)\/versions\/([^/]+)$/, models.renderVersion, "models"],
];

let generation = 0;

// A malformed %-escape in a hand-typed address is shown as typed rather than failing.
function safeDecode(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export function currentGeneration() {
  return generation;
}

export function parseHash() {
  const raw = location.hash.replace(/^#/, "");
  const [path, qs] = raw.split("?", 2);
  return { path: path || "/", query: new URLSearchParams(qs || "") };
}

async function show() {
  const gen = ++generation;
  const { path, query } = parseHash();
  const main = document.getElementById("main");
  for (const [pattern, render, nav] of ROUTES) {
    const m = pattern.exec(path);
    if (!m) continue;
    document.querySelectorAll("[data-nav]").forEach((a) => a.classList.toggle("active", a.dataset.nav === nav));
    const args = m.slice(1).map(safeDecode);
    const root = h("div", { class: "page" });
    clear(main).append(root);
    try {
      await render(root, args, query, () => gen === generation);
    } catch (err) {
      if (gen === generation) root.append(errorBox(err));
      console.error(err);
    }
    if (gen === generation) {
      main.dataset.rendered = path;
      main.dataset.renders = String(Number(main.dataset.renders || 0) + 1); // lets tests wait for a re-render
      document.dispatchEvent(new CustomEvent("headwater:rendered", { detail: path }));
    }
    return;
  }
  clear(main).append(h("div", { class: "page" }, h("h1", { text: "Not found" }), h("p", {}, "No page at ", h("code", { text: safeDecode(path) }))));
  main.dataset.rendered = path;
  main.dataset.renders = String(Number(main.dataset.renders || 0) + 1);
}

window.addEventListener("hashchange", show);
// uPlot is a deferred classic script: it has run before this module does.
show();
