// The server's REST API, reached relative to the page (so --static-prefix just works).

const BASE = "ajax-api/2.0/";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
  // Filter errors say "... at position N."; the UI points at that character.
  get position() {
    const m = /at position (\d+)/.exec(this.message);
    return m ? Number(m[1]) : null;
  }
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) v.forEach((item) => q.append(k, item));
    else q.set(k, v);
  }
  return q.toString();
}

async function call(method, path, params, body) {
  const qs = query(params);
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(BASE + path + (qs ? `?${qs}` : ""), init);
  } catch (e) {
    throw new ApiError(0, "NETWORK", `Cannot reach the server: ${e.message}`);
  }
  const text = await response.text();
  let data = {};
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { message: text };
    }
  }
  if (!response.ok) throw new ApiError(response.status, data.error_code, data.message || response.statusText);
  return data;
}

export const get = (path, params) => call("GET", path, params);
export const post = (path, body) => call("POST", path, undefined, body || {});
export const patch = (path, body) => call("PATCH", path, undefined, body || {});
export const del = (path, body) => call("DELETE", path, undefined, body || {});

export function artifactUrl(runId, path) {
  return `${BASE}headwater/artifacts/get?${query({ run_id: runId, path })}`;
}

// Quoting a key for the search grammar: backticks, or double quotes if the key has a backtick.
export function quoteKey(key) {
  return key.includes("`") ? `"${key}"` : `\`${key}\``;
}

// A string literal for the search grammar (values are never unescaped, so pick a quote the value lacks).
export function quoteValue(value) {
  if (!value.includes("'")) return `'${value}'`;
  if (!value.includes('"')) return `"${value}"`;
  throw new ApiError(400, "INVALID_PARAMETER_VALUE", "A value with both kinds of quote cannot be searched for.");
}
