// The mockbank console: fills the page from the control API (/_mockbank). No build step, no
// dependencies, nothing fetched from anywhere but this server. With a control token, the
// page asks for it once and keeps it in sessionStorage (this tab only).
"use strict";

(() => {
  // Under /s/<sandbox>/ the console shows (and controls) that sandbox; ROOT is its prefix.
  const ROOT = document.body.dataset.root || "";
  const SANDBOX = document.body.dataset.sandbox || "default";
  const API = ROOT + "/_mockbank";
  const TOKEN_KEY = "mockbank.controlToken";
  const TICK_MS = 1500;
  const KEEP = 300; // request rows kept in the inspector
  const view = document.body.dataset.view;
  const only = document.body.dataset.provider || "";
  const ui = {
    token: sessionStorage.getItem(TOKEN_KEY) || "",
    clock: null,
    providers: [],
    requests: [],
    lastId: 0,
    selected: null,
    filters: { provider: only, status: "", endpoint: "", text: "" },
    started: false,
  };

  // -- small helpers -----------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("data-")) node.setAttribute(key, value);
      else if (key in node) node[key] = value;
      else node.setAttribute(key, value);
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  const $ = (selector, root) => (root || document).querySelector(selector);

  class AuthNeeded extends Error {}

  async function api(method, path, data) {
    const headers = { Accept: "application/json" };
    if (ui.token) headers.Authorization = "Bearer " + ui.token;
    const options = { method, headers, credentials: "same-origin", cache: "no-store" };
    if (method !== "GET") {
      headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(data || {});
    }
    let response;
    try {
      response = await fetch(API + path, options);
    } catch (error) {
      throw new Error("cannot reach the mockbank server (" + error.message + ")");
    }
    let json = null;
    try { json = await response.json(); } catch (error) { json = null; }
    const message = json && json.error && json.error.message;
    if (response.status === 401) {
      askToken("401 Unauthorized: " + (message || "the control token is missing or wrong"));
      throw new AuthNeeded(message || "401");
    }
    if (!response.ok) throw new Error(response.status + ": " + (message || response.statusText));
    return json;
  }

  function alertLine(text, kind) {
    const box = $("#alert");
    if (!text) { box.hidden = true; box.textContent = ""; return; }
    box.hidden = false;
    box.className = "alert " + (kind || "error");
    box.textContent = text;
  }

  function notice(text) {
    alertLine(text, "ok");
    setTimeout(() => { if ($("#alert").textContent === text) alertLine(""); }, 4000);
  }

  function askToken(text) {
    alertLine(text, "error");
    const form = $("#token-form");
    form.hidden = false;
    $("#token-input").focus();
  }

  // -- time --------------------------------------------------------------------------------
  const FORMAT = new Intl.DateTimeFormat("en-GB", {
    day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
    second: "2-digit", hour12: false, timeZone: "UTC",
  });
  const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?$/;

  function human(iso) {
    const date = new Date(iso);
    return isNaN(date) ? String(iso) : FORMAT.format(date) + " UTC";
  }

  function relative(iso) {
    if (!ui.clock) return "";
    const seconds = (new Date(iso).getTime() / 1000) - ui.clock.epoch;
    const size = Math.abs(seconds);
    const [n, unit] = size < 90 ? [size, "s"] : size < 5400 ? [size / 60, "min"]
      : size < 129600 ? [size / 3600, "h"] : [size / 86400, "days"];
    const text = Math.round(n) + " " + unit;
    return Math.round(seconds) === 0 ? "now" : seconds > 0 ? "in " + text : text + " ago";
  }

  function timeCell(iso) {
    if (!iso) return el("span", { class: "muted", text: "—" });
    return el("time", { datetime: iso, title: iso }, human(iso), " ",
      el("small", { class: "muted", text: "(" + relative(iso) + ")" }));
  }

  function duration(text) {
    const match = /^\s*(-?\d+(?:\.\d+)?)\s*([smhd]?)\s*$/i.exec(text || "");
    if (!match) return null;
    const unit = { "": 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2].toLowerCase()];
    return parseFloat(match[1]) * unit;
  }

  // -- generic JSON rendering (records, magic values) ----------------------------------------
  function scalar(key, value) {
    if (value === null || value === undefined || value === "") return el("span", { class: "muted", text: "—" });
    if (typeof value === "string" && ISO.test(value)) return timeCell(value);
    if (typeof value === "boolean") return el("span", { class: "pill " + (value ? "yes" : "no"), text: String(value) });
    if (typeof value === "object") {
      const text = JSON.stringify(value);
      return el("code", { title: text, text: text.length > 160 ? text.slice(0, 160) + "…" : text });
    }
    const cls = /status/i.test(key) ? "pill status-" + String(value).toLowerCase() : "";
    return el("span", { class: cls, text: String(value) });
  }

  function table(rows) {
    const columns = [];
    for (const row of rows.slice(0, 50)) {
      for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
    }
    return el("div", { class: "scroll" }, el("table", { class: "records" },
      el("thead", {}, el("tr", {}, columns.map((c) => el("th", { text: c })))),
      el("tbody", {}, rows.map((row) => el("tr", {},
        columns.map((c) => el("td", { "data-column": c }, scalar(c, row[c]))))))));
  }

  function tree(value) {
    if (Array.isArray(value)) {
      if (value.length && value.every((v) => v && typeof v === "object" && !Array.isArray(v))) return table(value);
      if (value.every((v) => typeof v !== "object" || v === null)) return el("span", { text: value.join(", ") || "—" });
      return scalar("", value);
    }
    if (value && typeof value === "object") {
      return el("dl", { class: "tree" }, Object.entries(value).map(([k, v]) => [el("dt", { text: k }), el("dd", {}, tree(v))]));
    }
    return scalar("", value);
  }

  function records(data) {
    const parts = [];
    for (const [name, value] of Object.entries(data || {})) {
      const count = Array.isArray(value) ? " (" + value.length + ")" : "";
      parts.push(el("h3", { text: name + count }));
      if (Array.isArray(value) && !value.length) parts.push(el("p", { class: "muted", text: "none yet" }));
      else parts.push(el("div", { "data-records": name }, tree(value)));
    }
    return parts;
  }

  // -- the clock ----------------------------------------------------------------------------
  function showClock(snapshot) {
    ui.clock = snapshot;
    $("#clock-now").textContent = human(snapshot.now);
    $("#clock-now").setAttribute("datetime", snapshot.now);
    const offset = Math.round(snapshot.offset_s || 0);
    const state = snapshot.frozen ? "frozen" : offset ? "running, " + (offset > 0 ? "+" : "") + offset + " s" : "running";
    $("#clock-state").textContent = state;
    $("#clock-state").className = "pill " + (snapshot.frozen ? "frozen" : "running");
  }

  async function moveClock(change) {
    try {
      showClock(await api("POST", "/clock", change));
      await refresh();
    } catch (error) { if (!(error instanceof AuthNeeded)) alertLine(error.message); }
  }

  function wireClock() {
    for (const button of document.querySelectorAll("[data-advance]")) {
      button.addEventListener("click", () => moveClock({ advance: Number(button.dataset.advance) }));
    }
    $("#clock-advance").addEventListener("click", () => {
      const seconds = duration($("#clock-seconds").value);
      if (seconds === null) alertLine("advance by what? seconds (3600) or 15m, 2h, 1d");
      else moveClock({ advance: seconds });
    });
    $("#clock-freeze").addEventListener("click", () => moveClock({ freeze: true }));
    $("#clock-resume").addEventListener("click", () => moveClock({ resume: true }));
  }

  // -- providers -------------------------------------------------------------------------------
  function credentials(p) {
    return el("dl", { class: "creds" },
      p.credentials.map(([label, value]) => [el("dt", { text: label }), el("dd", {}, el("code", { text: value }))]),
      p.hosts.length ? [el("dt", { text: "real hosts" }), el("dd", {}, p.hosts.map((h) => el("span", { class: "tag", text: h })))] : []);
  }

  function items(list, limit) {
    if (!list || !list.length) return null;
    const more = limit && list.length > limit ? list.length - limit : 0;
    return el("ul", { class: "items" }, list.slice(0, limit || list.length).map((item) => el("li", {},
      item.image ? el("img", { src: item.image, alt: item.label }) : null,
      el("div", {}, item.href ? el("a", { href: item.href, text: item.label }) : item.label,
        item.detail ? el("div", { class: "muted", text: item.detail }) : null))),
      more ? el("li", { class: "muted", text: "… and " + more + " more on the provider's page" }) : null);
  }

  async function reset(name) {
    try {
      await api("POST", "/reset", name ? { provider: name } : {});
      ui.requests = ui.requests.filter((r) => name && r.provider !== name);
      ui.selected = null;
      notice((name || "every provider") + " reset: records, faults, journal and outbox forgotten, fixtures reseeded");
      await refresh();
    } catch (error) { if (!(error instanceof AuthNeeded)) alertLine(error.message); }
  }

  function resetButton(name) {
    const button = el("button", { type: "button", class: "danger", "data-reset": name, text: "reset " + name });
    button.addEventListener("click", () => reset(name));
    return button;
  }

  function card(p) {
    return el("section", { class: "card", "data-provider": p.name },
      el("header", {}, el("h3", {}, el("a", { href: ROOT + "/" + p.name, text: p.title })),
        el("code", { class: "base", text: p.url }), resetButton(p.name)),
      credentials(p), items(p.items, 6));
  }

  // The sandbox switcher: the default sandbox and every live one (listed by the unprefixed API).
  async function sandboxes() {
    const select = $("#sandbox");
    if (!select || select.dataset.loaded) return;
    select.dataset.loaded = "1";
    let names = [];
    try {
      const headers = { Accept: "application/json" };
      if (ui.token) headers.Authorization = "Bearer " + ui.token;
      const response = await fetch("/_mockbank/sandboxes", { headers, cache: "no-store" });
      if (response.ok) names = (await response.json()).sandboxes.map((s) => s.name);
    } catch (error) { names = []; }
    const options = ["default", ...names.filter((n) => n !== SANDBOX)];
    if (SANDBOX !== "default") options.push(SANDBOX);
    select.replaceChildren(...[...new Set(options)].map((name) =>
      el("option", { value: name, text: name === "default" ? "default sandbox" : "sandbox " + name, selected: name === SANDBOX })));
    select.addEventListener("change", () => {
      const rest = location.pathname.slice(ROOT.length) || "/";
      location.assign((select.value === "default" ? "" : "/s/" + select.value) + rest);
    });
  }

  function nav() {
    const links = [el("a", { href: ROOT + "/", text: "overview", class: view === "overview" ? "here" : "" })];
    for (const p of ui.providers) links.push(el("a", { href: ROOT + "/" + p.name, text: p.title, class: p.name === only ? "here" : "" }));
    $("#nav").replaceChildren(...links);
    sandboxes();
  }

  function providerPage(p) {
    const routes = el("table", { class: "records" },
      el("thead", {}, el("tr", {}, ["methods", "path", "view"].map((c) => el("th", { text: c })))),
      el("tbody", {}, p.routes.map((r) => el("tr", {},
        el("td", { text: r.methods.join(" ") }),
        el("td", {}, r.page ? el("a", { href: ROOT + r.path, text: r.path }) : el("code", { text: r.path })),
        el("td", { text: r.view })))));
    const pages = p.pages.length ? el("ul", {}, p.pages.map((page) => el("li", {},
      el("a", { href: page.href, text: page.label }), page.detail ? " — " + page.detail : ""))) : el("p", { class: "muted", text: "Pages open from the flows below (a payment page from a token, a consent page from a token request)." });
    return el("div", { class: "provider-page" },
      el("div", { class: "title" }, el("h1", { text: p.title }), el("code", { class: "base", text: p.url }), resetButton(p.name)),
      el("div", { class: "grid2" },
        el("section", { class: "panel" }, el("h2", { text: "Seeded credentials" }), credentials(p)),
        el("section", { class: "panel" }, el("h2", { text: "Browser pages" }), pages, items(p.items))),
      el("section", { class: "panel", id: "records" }, el("h2", { text: "Live records" }), records(p.records)),
      el("section", { class: "panel" }, el("h2", { text: "Endpoints" }), el("p", {}, "Fault names: ",
        p.endpoints.map((e) => el("span", { class: "tag", text: e }))), el("div", { class: "scroll" }, routes)),
      p.magic_values ? el("section", { class: "panel", id: "magic" }, el("h2", { text: "Magic values" }), tree(p.magic_values)) : null);
  }

  // -- the request inspector --------------------------------------------------------------------
  function matches(r) {
    const f = ui.filters;
    if (f.provider && r.provider !== f.provider) return false;
    if (f.status && !String(r.status).startsWith(f.status)) return false;
    if (f.endpoint && r.endpoint !== f.endpoint) return false;
    if (f.text && !(r.path + "?" + r.query + " " + r.correlation_id).toLowerCase().includes(f.text.toLowerCase())) return false;
    return true;
  }

  function inspectorShell() {
    const providerSelect = el("select", { id: "filter-provider", "aria-label": "provider" },
      el("option", { value: "", text: "every provider" }),
      ui.providers.map((p) => el("option", { value: p.name, text: p.title, selected: p.name === ui.filters.provider })));
    const endpointSelect = el("select", { id: "filter-endpoint", "aria-label": "endpoint" }, el("option", { value: "", text: "every endpoint" }));
    const status = el("input", { id: "filter-status", placeholder: "status (4, 404)", size: 10, "aria-label": "status" });
    const text = el("input", { id: "filter-text", placeholder: "path or request id", size: 22, "aria-label": "search" });
    const fill = () => {
      const p = ui.providers.find((x) => x.name === ui.filters.provider);
      const names = p ? p.endpoints : [...new Set(ui.providers.flatMap((x) => x.endpoints))].sort();
      endpointSelect.replaceChildren(el("option", { value: "", text: "every endpoint" }),
        ...names.map((n) => el("option", { value: n, text: n, selected: n === ui.filters.endpoint })));
    };
    fill();
    const changed = () => {
      ui.filters = { provider: providerSelect.value, status: status.value.trim(), endpoint: endpointSelect.value, text: text.value.trim() };
      fill();
      drawRequests();
    };
    for (const input of [providerSelect, endpointSelect]) input.addEventListener("change", changed);
    for (const input of [status, text]) input.addEventListener("input", changed);
    return el("section", { class: "panel", id: "inspector" },
      el("h2", { text: "Requests" }),
      el("div", { class: "filters" }, providerSelect, endpointSelect, status, text),
      el("div", { class: "split" },
        el("div", { class: "scroll list" }, el("table", { id: "requests" },
          el("thead", {}, el("tr", {}, ["#", "time", "provider", "endpoint", "method", "path", "status", "ms"].map((c) => el("th", { text: c })))),
          el("tbody", {}))),
        el("div", { id: "detail", class: "detail" }, el("p", { class: "muted", text: "Click a request to see its headers, bodies, notes and a curl to replay it." }))));
  }

  function drawRequests() {
    const body = $("#requests tbody");
    if (!body) return;
    const rows = ui.requests.filter(matches).slice(-100).reverse();
    if (!rows.length) {
      body.replaceChildren(el("tr", {}, el("td", { colspan: 8, class: "muted", text: "No requests yet. Point a client at a base URL." })));
      return;
    }
    body.replaceChildren(...rows.map((r) => {
      const tr = el("tr", { "data-id": r.id, class: (r.id === ui.selected ? "selected " : "") + (r.notes && r.notes.fault ? "faulted" : "") },
        el("td", { text: r.id }), el("td", {}, timeCell(r.time)), el("td", { text: r.provider || "" }),
        el("td", { text: r.endpoint || "" }), el("td", { text: r.method }),
        el("td", { class: "path", text: r.path + (r.query ? "?" + r.query : "") }),
        el("td", { class: "s" + Math.floor(r.status / 100), text: r.status }, r.notes && r.notes.fault ? el("span", { class: "pill fault", text: "fault" }) : null),
        el("td", { text: Number(r.latency_ms).toFixed(1) }));
      tr.addEventListener("click", () => openRequest(r.id));
      return tr;
    }));
  }

  function quote(text) { return "'" + String(text).replace(/'/g, "'\\''") + "'"; }

  function curl(entry) {
    const skip = new Set(["host", "content-length", "connection", "accept-encoding"]);
    const url = location.origin + ROOT + entry.path + (entry.query ? "?" + entry.query : "");
    const parts = ["curl -i -X " + entry.method + " " + quote(url)];
    for (const [name, value] of Object.entries(entry.request_headers || {})) {
      if (!skip.has(name.toLowerCase())) parts.push("  -H " + quote(name + ": " + value));
    }
    if (entry.request_body) parts.push("  --data-raw " + quote(entry.request_body));
    return parts.join(" \\\n");
  }

  function pretty(text) {
    if (!text) return "(empty)";
    try { return JSON.stringify(JSON.parse(text), null, 2); } catch (error) { return text; }
  }

  function headersTable(headers) {
    return el("table", { class: "kv" }, el("tbody", {}, Object.entries(headers || {}).map(([k, v]) =>
      el("tr", {}, el("th", { text: k }), el("td", { text: v })))));
  }

  async function copy(text, button) {
    try {
      await navigator.clipboard.writeText(text);
    } catch (error) { // plain http on another host is not a secure context: select it instead
      const range = document.createRange();
      range.selectNodeContents($("#curl"));
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      document.execCommand("copy");
    }
    button.textContent = "copied";
    setTimeout(() => { button.textContent = "copy"; }, 1500);
  }

  async function openRequest(id) {
    ui.selected = id;
    drawRequests();
    let entry;
    try { entry = await api("GET", "/requests/" + id); } catch (error) {
      if (!(error instanceof AuthNeeded)) alertLine(error.message);
      return;
    }
    const command = curl(entry);
    const copyButton = el("button", { type: "button", id: "copy-curl", text: "copy" });
    copyButton.addEventListener("click", () => copy(command, copyButton));
    $("#detail").replaceChildren(
      el("h3", {}, entry.method + " " + entry.path + (entry.query ? "?" + entry.query : "")),
      el("dl", { class: "creds" },
        el("dt", { text: "status" }), el("dd", { class: "s" + Math.floor(entry.status / 100), text: entry.status }),
        el("dt", { text: "time" }), el("dd", {}, timeCell(entry.time)),
        el("dt", { text: "duration" }), el("dd", { text: Number(entry.latency_ms).toFixed(1) + " ms" }),
        el("dt", { text: "request id" }), el("dd", {}, el("code", { text: entry.correlation_id })),
        el("dt", { text: "provider / endpoint" }), el("dd", { text: (entry.provider || "—") + " / " + (entry.endpoint || "—") }),
        el("dt", { text: "from" }), el("dd", { text: entry.remote_addr || "—" })),
      el("h4", { text: "journal notes" }),
      Object.keys(entry.notes || {}).length ? tree(entry.notes) : el("p", { class: "muted", text: "none" }),
      el("h4", { text: "request headers" }), headersTable(entry.request_headers),
      el("h4", { text: "request body" }), el("pre", { id: "request-body", text: pretty(entry.request_body) }),
      el("h4", { text: "response headers" }), headersTable(entry.response_headers),
      el("h4", { text: "response body" }), el("pre", { id: "response-body", text: pretty(entry.response_body) }),
      el("h4", {}, "replay with curl ", copyButton),
      el("p", { class: "muted", text: "Card numbers and secrets are masked in the journal: put real test values back before replaying." }),
      el("pre", { id: "curl", text: command }));
  }

  async function pollRequests() {
    const query = ui.lastId ? "?since=" + ui.lastId : "?limit=" + KEEP;
    const data = await api("GET", "/requests" + query);
    if (!data.requests.length) return;
    ui.requests = ui.requests.concat(data.requests.map((r) => ({ ...r, request_body: undefined, response_body: undefined })));
    ui.requests = ui.requests.slice(-KEEP);
    ui.lastId = Math.max(ui.lastId, ...data.requests.map((r) => r.id));
    drawRequests();
  }

  // -- faults -------------------------------------------------------------------------------------
  function faultsShell() {
    const providerSelect = el("select", { id: "fault-provider", "aria-label": "provider" },
      ui.providers.filter((p) => !only || p.name === only).map((p) => el("option", { value: p.name, text: p.title })));
    const endpointSelect = el("select", { id: "fault-endpoint", "aria-label": "endpoint" });
    const fill = () => {
      const p = ui.providers.find((x) => x.name === providerSelect.value);
      endpointSelect.replaceChildren(el("option", { value: "", text: "any endpoint" }),
        ...(p ? p.endpoints : []).map((n) => el("option", { value: n, text: n })));
    };
    providerSelect.addEventListener("change", fill);
    fill();
    const kind = el("select", { id: "fault-kind", "aria-label": "what happens" },
      el("option", { value: "status", text: "answer with status" }),
      el("option", { value: "latency", text: "add latency (ms)" }),
      el("option", { value: "drop", text: "drop the connection" }));
    const value = el("input", { id: "fault-value", value: "503", size: 6, "aria-label": "status or ms" });
    const count = el("input", { id: "fault-count", value: "1", size: 4, "aria-label": "how many times" });
    const form = el("form", { class: "filters", id: "fault-form" }, providerSelect, endpointSelect, kind, value,
      el("label", {}, "times ", count), el("button", { type: "submit", text: "add fault" }));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const spec = { provider: providerSelect.value, count: Number(count.value) || 1 };
      if (endpointSelect.value) spec.endpoint = endpointSelect.value;
      if (kind.value === "status") spec.status = Number(value.value);
      if (kind.value === "latency") spec.latency_ms = Number(value.value);
      if (kind.value === "drop") spec.drop = true;
      try {
        const fault = await api("POST", "/faults", spec);
        notice("fault " + fault.id + " added: " + fault.provider + "/" + (fault.endpoint || "*"));
        await pollFaults();
      } catch (error) { if (!(error instanceof AuthNeeded)) alertLine(error.message); }
    });
    return el("section", { class: "panel", id: "faults" }, el("h2", { text: "Faults" }), form,
      el("table", { id: "fault-list", class: "records" }, el("tbody", {})));
  }

  async function pollFaults() {
    const data = await api("GET", "/faults");
    const list = data.faults.filter((f) => !only || f.provider === only);
    const body = $("#fault-list tbody");
    if (!body) return;
    if (!list.length) {
      body.replaceChildren(el("tr", {}, el("td", { class: "muted", text: "No active faults. A fault with a count disappears once it has fired that many times; the inspector marks the requests it hit." })));
      return;
    }
    body.replaceChildren(...list.map((f) => {
      const remove = el("button", { type: "button", text: "remove", "data-fault": f.id });
      remove.addEventListener("click", async () => {
        try { await api("DELETE", "/faults?id=" + f.id); await pollFaults(); } catch (error) { if (!(error instanceof AuthNeeded)) alertLine(error.message); }
      });
      const what = f.action === "status" ? "status " + f.status : f.action === "latency" ? f.latency_ms + " ms" : "drop";
      return el("tr", { "data-fault-row": f.id }, el("td", { text: "#" + f.id }), el("td", { text: f.provider + "/" + (f.endpoint || "*") }),
        el("td", { text: what }), el("td", { text: f.count !== null ? f.count + " left" : "p=" + f.probability }),
        el("td", { class: "fired", text: "fired " + f.fired }), el("td", {}, remove));
    }));
  }

  // -- outbox ---------------------------------------------------------------------------------------
  function outboxShell() {
    return el("section", { class: "panel", id: "outbox" }, el("h2", { text: "Outbox" }),
      el("p", { class: "muted", text: "Notifications and emails the providers sent, with every delivery attempt. Emails are recorded, never sent." }),
      el("div", { class: "scroll" }, el("table", { class: "records", id: "outbox-list" },
        el("thead", {}, el("tr", {}, ["#", "created", "provider", "kind", "to", "status", "attempts", ""].map((c) => el("th", { text: c })))),
        el("tbody", {}))));
  }

  async function pollOutbox() {
    const data = await api("GET", "/outbox" + (only ? "?provider=" + only : ""));
    const body = $("#outbox-list tbody");
    if (!body) return;
    if (!data.messages.length) {
      body.replaceChildren(el("tr", {}, el("td", { colspan: 8, class: "muted", text: "Nothing sent yet." })));
      return;
    }
    body.replaceChildren(...data.messages.slice().reverse().map((m) => {
      const attempts = el("ol", { class: "attempts" }, (m.attempts || []).map((a) =>
        el("li", {}, timeCell(a.at), " ", el("span", { class: a.error ? "s4" : "s2", text: a.error || "HTTP " + a.status }))));
      let action = null;
      if (m.kind === "http" && !["pending", "delivering"].includes(m.status)) {
        action = el("button", { type: "button", text: "redeliver", "data-redeliver": m.id });
        action.addEventListener("click", async () => {
          try {
            await api("POST", "/outbox/" + m.id + "/redeliver");
            notice("message " + m.id + " queued for delivery again");
            await pollOutbox();
          } catch (error) { if (!(error instanceof AuthNeeded)) alertLine(error.message); }
        });
      }
      return el("tr", { "data-message": m.id }, el("td", { text: m.id }), el("td", {}, timeCell(m.created_at)),
        el("td", { text: m.provider }), el("td", { text: m.kind + (m.label ? " · " + m.label : "") }),
        el("td", { class: "path", text: m.url || m.to || "" }),
        el("td", {}, el("span", { class: "pill status-" + m.status, text: m.status })),
        el("td", {}, attempts), el("td", {}, action));
    }));
  }

  // -- the page -------------------------------------------------------------------------------------
  async function build() {
    const overview = await api("GET", "/console");
    ui.providers = overview.providers;
    showClock(overview.clock);
    nav();
    const main = $("#main");
    if (view === "provider") {
      const page = await api("GET", "/console/" + encodeURIComponent(only));
      main.replaceChildren(el("div", { id: "provider-page" }, providerPage(page)), faultsShell(), inspectorShell(), outboxShell());
    } else {
      main.replaceChildren(inspectorShell(), faultsShell(), outboxShell(),
        el("section", { class: "panel" }, el("h2", { text: "Providers" }), el("div", { class: "cards", id: "cards" }, ui.providers.map(card))));
    }
  }

  async function refresh() {
    if (view === "provider") {
      const page = await api("GET", "/console/" + encodeURIComponent(only));
      showClock(page.clock);
      if (changed("page", { ...page, clock: null })) {
        const scrollY = window.scrollY;
        $("#provider-page").replaceChildren(providerPage(page));
        window.scrollTo(0, scrollY);
      }
    } else {
      const overview = await api("GET", "/console");
      showClock(overview.clock);
      ui.providers = overview.providers;
      if (changed("cards", ui.providers)) $("#cards").replaceChildren(...ui.providers.map(card));
    }
    await Promise.all([pollRequests(), pollFaults(), pollOutbox()]);
  }

  const seen = {};
  function changed(key, value) { // redraw only what changed: a click or a selection survives
    const text = JSON.stringify(value);
    if (seen[key] === text) return false;
    seen[key] = text;
    return true;
  }

  let timer = null;
  async function tick() {
    try {
      if (!ui.started) { await build(); ui.started = true; }
      await refresh();
      if ($("#alert").classList.contains("error")) alertLine("");
    } catch (error) {
      if (error instanceof AuthNeeded) return; // wait for the token form
      alertLine(error.message);
    }
    timer = setTimeout(tick, TICK_MS);
  }

  function start() {
    wireClock();
    $("#token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      ui.token = $("#token-input").value.trim();
      sessionStorage.setItem(TOKEN_KEY, ui.token);
      $("#token-form").hidden = true;
      alertLine("");
      clearTimeout(timer);
      tick();
    });
    tick();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
