// The ruleflow operator's page. Plain JavaScript, no dependencies: every value
// shown is put in the page with textContent (never as HTML), and every write goes
// through the same admin API as curl, with the token of the sign-in kept in
// sessionStorage and sent as "Authorization: Bearer …".
"use strict";

const TOKEN_KEY = "ruleflow.adminToken";
const page = document.getElementById("page");
const flash = document.getElementById("flash");

// el builds an element: el("td", {class: "num"}, "text", child, ...).
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "class") e.className = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function say(msg, bad) {
  flash.textContent = msg || "";
  flash.className = bad ? "error" : "";
}

function fmtTime(s) {
  if (!s) return "—";
  const d = new Date(s);
  return isNaN(d) ? s : d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

function badge(text, cls) { return el("span", {class: "badge " + (cls || text)}, text); }

// ApiError is a non-2xx answer; message is the API's "error" text.
class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

// api calls the admin API with the token. A 401 or 403 signs out.
async function api(method, path, body) {
  const opts = {method, headers: {"Authorization": "Bearer " + sessionStorage.getItem(TOKEN_KEY)}};
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const resp = await fetch(path, opts);
  const text = await resp.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = {error: text}; }
  if (!resp.ok) {
    const msg = (data && data.error) || resp.status + " " + resp.statusText;
    if (resp.status === 401 || resp.status === 403) signOut("Signed out: " + msg);
    throw new ApiError(resp.status, msg);
  }
  return data;
}

// act runs a write, reports it (what is the message, or makes it from the
// answer) and shows the page again; errors are shown, not thrown.
async function act(what, fn) {
  try {
    const r = await fn();
    say(typeof what === "function" ? what(r) : what);
  } catch (e) {
    say(e.message, true);
  }
  await route();
}

function signOut(msg) {
  sessionStorage.removeItem(TOKEN_KEY);
  document.getElementById("nav").hidden = true;
  document.getElementById("signin").hidden = false;
  page.replaceChildren();
  document.getElementById("signin-error").textContent = msg || "";
}

document.getElementById("signin-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const input = document.getElementById("token");
  sessionStorage.setItem(TOKEN_KEY, input.value.trim());
  try {
    await api("GET", "/v1/callouts?limit=1");
  } catch (e) {
    input.value = "";
    signOut(e.status === 401 || e.status === 403 ? "Sign-in refused: " + e.message : e.message);
    return;
  }
  input.value = "";
  document.getElementById("signin-error").textContent = "";
  if (!location.hash || location.hash === "#") location.hash = "#callouts";
  else route();
});
document.getElementById("signout").addEventListener("click", () => signOut("Signed out."));

// ---- callouts ----

async function calloutsPage() {
  const data = await api("GET", "/v1/callouts?limit=1000");
  const rows = data.callouts.map((c) => el("tr", {"data-callout": c.name},
    el("td", {}, el("strong", {}, c.name)),
    el("td", {}, c.format),
    el("td", {}, c.method),
    el("td", {class: "mono"}, c.url),
    el("td", {}, badge(c.active ? "on" : "off"), " ", el("span", {class: "muted"}, c.active_source)),
    el("td", {}, c.rules.length ? c.rules.join(", ") : el("span", {class: "muted"}, "none")),
    el("td", {}, c.breaker ? [badge(c.breaker.state, c.breaker.state === "closed" ? "on" : "off"), " ", el("span", {class: "muted"}, c.breaker.failures + " failures")] : el("span", {class: "muted"}, "closed")),
    el("td", {}, c.last_delivery ? [el("a", {href: "#delivery/" + c.last_delivery.id, class: "mono"}, c.last_delivery.id), " ", badge(c.last_delivery.status), el("br"), el("span", {class: "muted"}, fmtTime(c.last_delivery.at))] : el("span", {class: "muted"}, "none")),
    el("td", {class: "num"}, c.counts.pending), el("td", {class: "num"}, c.counts.delivered), el("td", {class: "num"}, c.counts.failed),
    el("td", {},
      el("button", {type: "button", class: c.active ? "danger toggle" : "toggle", onclick: () => act(c.name + (c.active ? " deactivated" : " activated"),
        () => api("POST", "/v1/callouts/" + encodeURIComponent(c.name) + (c.active ? "/deactivate" : "/activate")))}, c.active ? "Deactivate" : "Activate"),
      " ",
      el("button", {type: "button", class: "test", onclick: () => testPanel(c.name)}, "Test"))));
  page.replaceChildren(
    el("h2", {}, "Callouts"),
    el("p", {class: "muted"}, "A deactivated callout is not fired by its rules (nothing is enqueued); deliveries already pending are still attempted. Source says whether the value comes from the configuration file or from this API."),
    el("table", {id: "callouts"},
      el("thead", {}, el("tr", {}, ["Name", "Format", "Method", "URL", "Active", "Rules", "Breaker", "Last delivery", "Pending", "Delivered", "Failed", ""].map((h) => el("th", {}, h)))),
      el("tbody", {}, rows)),
    el("div", {id: "test-panel"}));
}

function testPanel(name) {
  const box = document.getElementById("test-panel");
  const ta = el("textarea", {id: "test-event", placeholder: "Optional: an event as POST /v1/events takes it. Empty: a sample built from the form's fields."});
  const out = el("div", {id: "test-result"});
  const run = async (send) => {
    out.replaceChildren(el("p", {class: "muted"}, send ? "Sending…" : "Rendering…"));
    const body = {send};
    if (ta.value.trim()) {
      try { body.event = JSON.parse(ta.value); } catch (e) { out.replaceChildren(el("p", {class: "error"}, "The event is not JSON: " + e.message)); return; }
    }
    try {
      const r = await api("POST", "/v1/callouts/" + encodeURIComponent(name) + "/test", body);
      const headers = Object.entries(r.request.headers).map(([k, v]) => k + ": " + v).join("\n");
      const parts = [el("h3", {}, "Request" + (send ? " sent" : " (dry run, not sent)")),
        el("pre", {id: "test-request"}, r.request.method + " " + r.request.url + "\n" + headers + "\n\n" + r.request.body)];
      if (r.response) {
        const rh = Object.entries(r.response.headers).map(([k, v]) => k + ": " + v).join("\n");
        parts.push(el("h3", {}, "Response"), el("pre", {id: "test-response"}, "HTTP " + r.response.status + (r.response.error ? "  — " + r.response.error : "") + "\n" + rh + "\n\n" + r.response.body));
      }
      out.replaceChildren(...parts);
    } catch (e) {
      out.replaceChildren(el("p", {class: "error"}, e.message));
    }
  };
  box.replaceChildren(el("div", {class: "panel"},
    el("h3", {}, "Test callout " + name),
    ta,
    el("div", {class: "row"},
      el("button", {type: "button", id: "test-preview", onclick: () => run(false)}, "Preview request"),
      el("button", {type: "button", id: "test-send", class: "primary", onclick: () => run(true)}, "Send once")),
    el("p", {class: "muted"}, "Send once makes one request outside the outbox (nothing is stored, retried or notified), through the egress guard."),
    out));
}

// ---- rules ----

async function rulesPage() {
  const data = await api("GET", "/v1/rules?limit=1000");
  page.replaceChildren(
    el("h2", {}, "Rules"),
    el("p", {class: "muted"}, "A deactivated rule does not fire: no callouts, no set, reject or notify. Fire counts are kept in the store."),
    el("table", {id: "rules"},
      el("thead", {}, el("tr", {}, ["Name", "Form", "Events", "Active", "Last fired", "Fired", ""].map((h) => el("th", {}, h)))),
      el("tbody", {}, data.rules.map((r) => el("tr", {"data-rule": r.name},
        el("td", {}, el("strong", {}, r.name)), el("td", {}, r.form), el("td", {}, r.events.join(", ")),
        el("td", {}, badge(r.active ? "on" : "off"), " ", el("span", {class: "muted"}, r.active_source)),
        el("td", {}, fmtTime(r.last_fired)), el("td", {class: "num"}, r.fire_count),
        el("td", {}, el("button", {type: "button", class: r.active ? "danger toggle" : "toggle", onclick: () => act(r.name + (r.active ? " deactivated" : " activated"),
          () => api("POST", "/v1/rules/" + encodeURIComponent(r.name) + (r.active ? "/deactivate" : "/activate")))}, r.active ? "Deactivate" : "Activate")))))));
}

// ---- deliveries ----

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? "?" + s : "";
}

function hashParams() {
  const i = location.hash.indexOf("?");
  return new URLSearchParams(i < 0 ? "" : location.hash.slice(i + 1));
}

async function deliveriesPage() {
  const hp = hashParams();
  const f = {status: hp.get("status") || "", kind: hp.get("kind") || "", callout: hp.get("callout") || "", form: hp.get("form") || "", entry_id: hp.get("entry_id") || "", after: hp.get("after") || "", limit: "50"};
  const data = await api("GET", "/v1/deliveries" + query(f));
  const sel = (id, value, options) => el("select", {id}, options.map((o) => el("option", {value: o, selected: o === value}, o || "any")));
  const inp = (id, value, ph) => el("input", {id, value, placeholder: ph});
  const filters = el("form", {class: "row", id: "delivery-filters", onsubmit: (ev) => {
    ev.preventDefault();
    const v = (id) => document.getElementById(id).value.trim();
    location.hash = "#deliveries" + query({status: v("f-status"), kind: v("f-kind"), callout: v("f-callout"), form: v("f-form"), entry_id: v("f-entry")});
  }},
  el("label", {}, "Status", sel("f-status", f.status, ["", "pending", "delivered", "failed"])),
  el("label", {}, "Kind", sel("f-kind", f.kind, ["", "callout", "email", "note"])),
  el("label", {}, "Callout", inp("f-callout", f.callout, "name")),
  el("label", {}, "Form", inp("f-form", f.form, "form")),
  el("label", {}, "Entry ID", inp("f-entry", f.entry_id, "entry id")),
  el("button", {type: "submit", id: "f-apply"}, "Filter"));

  const rows = data.deliveries.map((d) => el("tr", {"data-delivery": d.id},
    el("td", {}, el("a", {href: "#delivery/" + d.id, class: "mono"}, d.id)),
    el("td", {}, d.kind), el("td", {}, d.callout || ""), el("td", {}, d.rule || ""),
    el("td", {}, (d.form || "") + (d.entry_id ? " " + d.entry_id : "")),
    el("td", {}, badge(d.status)), el("td", {class: "num"}, d.attempts + "/" + d.max_attempts),
    el("td", {}, fmtTime(d.created_at)), el("td", {class: "mono"}, d.last_error || "")));
  const nextLink = data.next ? el("a", {id: "next-page", href: "#deliveries" + query({...f, limit: "", after: data.next})}, "Next page →") : el("span", {class: "muted"}, "Last page.");

  // Bulk retry: count first (dry run), then retry that many.
  const bulkOut = el("span", {id: "bulk-result", class: "muted"});
  const bulkBody = () => {
    const v = (id) => document.getElementById(id).value.trim();
    return {status: v("b-status"), callout: v("b-callout"), since: v("b-since"), until: v("b-until")};
  };
  const retryBtn = el("button", {type: "button", id: "bulk-retry", class: "primary", disabled: true,
    onclick: () => act((r) => r.retried + " deliveries retried: pending, due now", () => api("POST", "/v1/deliveries/retry", bulkBody()))}, "Retry them");
  const bulk = el("div", {class: "panel"},
    el("h3", {}, "Bulk retry"),
    el("div", {class: "row"},
      el("label", {}, "Status", sel("b-status", "failed", ["failed", "pending"])),
      el("label", {}, "Callout", el("input", {id: "b-callout", placeholder: "any"})),
      el("label", {}, "Since", el("input", {id: "b-since", placeholder: "1h or RFC 3339"})),
      el("label", {}, "Until", el("input", {id: "b-until", placeholder: "RFC 3339"})),
      el("button", {type: "button", id: "bulk-count", onclick: async () => {
        try {
          const r = await api("POST", "/v1/deliveries/retry", {...bulkBody(), dry_run: true});
          bulkOut.textContent = r.count + " deliveries match (dry run: nothing changed).";
          retryBtn.disabled = r.count === 0;
          retryBtn.textContent = "Retry " + r.count + " deliveries";
        } catch (e) { bulkOut.textContent = e.message; retryBtn.disabled = true; }
      }}, "Count (dry run)"),
      retryBtn),
    bulkOut);

  page.replaceChildren(el("h2", {}, "Deliveries"), filters,
    el("table", {id: "deliveries"},
      el("thead", {}, el("tr", {}, ["ID", "Kind", "Callout", "Rule", "Record", "Status", "Attempts", "Created", "Last error"].map((h) => el("th", {}, h)))),
      el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", {colspan: 9, class: "muted"}, "No deliveries match.")))),
    el("p", {}, nextLink), bulk);
}

async function deliveryPage(id) {
  const d = await api("GET", "/v1/deliveries/" + encodeURIComponent(id));
  const kv = (pairs) => el("dl", {class: "kv"}, pairs.filter(([, v]) => v !== undefined && v !== null && v !== "").map(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  const parts = [el("h2", {}, "Delivery ", el("span", {class: "mono"}, d.id)),
    el("p", {}, el("a", {href: "#deliveries"}, "← all deliveries")),
    kv([["Status", badge(d.status)], ["Kind", d.kind], ["Callout", d.callout], ["Rule", d.rule], ["Form", d.form], ["Entry ID", d.entry_id], ["Event", d.event],
      ["Attempts", d.attempts + " of " + d.max_attempts], ["Next attempt", d.next_at ? fmtTime(d.next_at) : ""], ["Created", fmtTime(d.created_at)],
      ["Last status", d.last_status_code || ""], ["Last error", d.last_error], ["Parent", d.parent_id ? el("a", {href: "#delivery/" + d.parent_id}, d.parent_id) : ""]])];
  if (d.status !== "delivered") {
    parts.push(el("p", {}, el("button", {type: "button", id: "retry", class: "primary", onclick: () => act("Delivery " + d.id + " retried: pending, due now",
      () => api("POST", "/v1/deliveries/" + encodeURIComponent(d.id) + "/retry"))}, "Retry now")));
  }
  if (d.request) {
    const headers = Object.entries(d.request.header || {}).map(([k, v]) => k + ": " + v).join("\n");
    parts.push(el("h3", {}, "Request"), el("pre", {id: "delivery-request"}, d.request.method + " " + d.request.url + "\n" + headers + "\n\n" + (d.request.body || "")));
  }
  parts.push(el("h3", {}, "Attempts"), el("table", {id: "attempts"},
    el("thead", {}, el("tr", {}, ["#", "Started", "Duration", "Status", "Error", "Response"].map((h) => el("th", {}, h)))),
    el("tbody", {}, (d.attempt_log || []).length ? d.attempt_log.map((a) => el("tr", {},
      el("td", {class: "num"}, a.n), el("td", {}, fmtTime(a.started_at)), el("td", {class: "num"}, a.duration_ms.toFixed(1) + " ms"),
      el("td", {}, a.status_code || ""), el("td", {class: "mono"}, a.error || ""), el("td", {}, el("pre", {}, a.response || "")))) :
      el("tr", {}, el("td", {colspan: 6, class: "muted"}, "No attempt yet.")))));
  page.replaceChildren(...parts);
}

// ---- AR webhooks, callback functions, targets ----

async function webhooksPage() {
  const data = await api("GET", "/api/arsys/v1.0/webhook");
  page.replaceChildren(el("h2", {}, "AR webhooks"),
    el("p", {class: "muted"}, "Webhooks of the configuration file and those registered through the AR System webhook API (POST /api/arsys/v1.0/webhook)."),
    el("table", {id: "webhooks"},
      el("thead", {}, el("tr", {}, ["ID", "Form", "Events", "Condition", "Callback URL", "Enabled", ""].map((h) => el("th", {}, h)))),
      el("tbody", {}, data.entries.length ? data.entries.map((w) => el("tr", {},
        el("td", {class: "mono"}, w.webhook_id), el("td", {}, w.form_name, w.orphaned ? [" ", badge("orphaned", "off")] : []),
        el("td", {}, w.entry_events.join(", ")), el("td", {class: "mono"}, w.condition || ""), el("td", {class: "mono"}, w.callback.url),
        el("td", {}, badge(w.enabled === false ? "off" : "on")),
        el("td", {}, el("button", {type: "button", class: "danger", onclick: () => {
          if (confirm("Delete webhook " + w.webhook_id + "?")) act("Webhook " + w.webhook_id + " deleted", () => api("DELETE", "/api/arsys/v1.0/webhook/" + encodeURIComponent(w.webhook_id)));
        }}, "Delete")))) : el("tr", {}, el("td", {colspan: 7, class: "muted"}, "No webhooks.")))));
}

async function callbacksPage() {
  const list = await api("GET", "/v1/callback-functions");
  const tokenBox = el("div", {id: "callback-token"});
  page.replaceChildren(el("h2", {}, "Callback functions"),
    el("p", {class: "muted"}, "Publishing makes a new token; it is shown once, here. Unpublishing stops the current token."),
    tokenBox,
    el("table", {id: "callbacks"},
      el("thead", {}, el("tr", {}, ["API name", "Description", "URL", "Published", "Since", ""].map((h) => el("th", {}, h)))),
      el("tbody", {}, list.length ? list.map((f) => el("tr", {"data-callback": f.api_name},
        el("td", {class: "mono"}, f.api_name), el("td", {}, f.description || ""), el("td", {class: "mono"}, f.url),
        el("td", {}, badge(f.published ? "on" : "off")), el("td", {}, fmtTime(f.updated_at)),
        el("td", {}, f.published ?
          el("button", {type: "button", class: "danger", onclick: () => act(f.api_name + " unpublished", () => api("POST", "/v1/callback-functions/" + encodeURIComponent(f.api_name) + "/unpublish"))}, "Unpublish") :
          el("button", {type: "button", onclick: async () => {
            try {
              const r = await api("POST", "/v1/callback-functions/" + encodeURIComponent(f.api_name) + "/publish");
              await route();
              document.getElementById("callback-token").replaceChildren(el("div", {class: "panel"},
                el("p", {}, "Token of ", el("strong", {}, r.api_name), " (shown once; copy it now):"), el("p", {class: "token"}, r.auth_token), el("p", {class: "mono"}, r.url)));
            } catch (e) { say(e.message, true); }
          }}, "Publish")))) : el("tr", {}, el("td", {colspan: 6, class: "muted"}, "The configuration declares no callback functions.")))));
}

async function targetsPage() {
  const list = await api("GET", "/v1/targets");
  const created = el("div", {id: "target-created"});
  page.replaceChildren(el("h2", {}, "Target URLs"),
    el("form", {class: "row", onsubmit: async (ev) => {
      ev.preventDefault();
      const name = document.getElementById("t-name").value.trim();
      let iparams = {};
      const raw = document.getElementById("t-iparams").value.trim();
      try { if (raw) iparams = JSON.parse(raw); } catch (e) { say("iparams is not JSON: " + e.message, true); return; }
      try {
        const r = await api("POST", "/v1/targets", {name, iparams});
        await route();
        document.getElementById("target-created").replaceChildren(el("div", {class: "panel"}, el("p", {}, "URL of the new target (shown once; it holds the token):"), el("p", {class: "token"}, r.url)));
      } catch (e) { say(e.message, true); }
    }},
    el("label", {}, "Target name", el("input", {id: "t-name", required: true})),
    el("label", {}, "iparams (JSON)", el("input", {id: "t-iparams", placeholder: "{}"})),
    el("button", {type: "submit"}, "Create target URL")),
    created,
    el("table", {id: "targets"},
      el("thead", {}, el("tr", {}, ["ID", "Name", "Created", "Revoked", ""].map((h) => el("th", {}, h)))),
      el("tbody", {}, list.length ? list.map((tg) => el("tr", {"data-target": tg.id},
        el("td", {class: "mono"}, tg.id), el("td", {}, tg.name), el("td", {}, fmtTime(tg.created_at)), el("td", {}, tg.revoked_at ? fmtTime(tg.revoked_at) : ""),
        el("td", {}, tg.revoked_at ? "" : el("button", {type: "button", class: "danger revoke", onclick: () => {
          if (confirm("Revoke target " + tg.id + "? Its URL stops working at once.")) act("Target " + tg.id + " revoked", () => api("DELETE", "/v1/targets/" + encodeURIComponent(tg.id)));
        }}, "Revoke")))) : el("tr", {}, el("td", {colspan: 5, class: "muted"}, "No target URLs.")))));
}

// ---- event history ----

async function historyPage() {
  const hp = hashParams();
  const form = hp.get("form") || "", entry = hp.get("entry_id") || "";
  const out = el("div", {id: "history-result"});
  page.replaceChildren(el("h2", {}, "Event history"),
    el("p", {class: "muted"}, "Why a record fired (or did not): every handled event with the rules evaluated and the callouts fired or skipped."),
    el("form", {class: "row", id: "history-form", onsubmit: (ev) => {
      ev.preventDefault();
      location.hash = "#history" + query({form: document.getElementById("h-form").value.trim(), entry_id: document.getElementById("h-entry").value.trim()});
    }},
    el("label", {}, "Form", el("input", {id: "h-form", value: form, required: true})),
    el("label", {}, "Entry ID", el("input", {id: "h-entry", value: entry, required: true})),
    el("button", {type: "submit", id: "h-lookup"}, "Look up")),
    out);
  if (!form || !entry) return;
  let data;
  try {
    data = await api("GET", "/v1/history" + query({form, entry_id: entry}));
  } catch (e) {
    if (e.status === 404) {
      out.replaceChildren(el("p", {class: "error", id: "history-missing"}, /no such endpoint/.test(e.message) ?
        "This server keeps no event history (GET /v1/history is not available)." : "No history: " + e.message));
      return;
    }
    throw e;
  }
  const entries = (data && data.history) || [];
  if (!entries.length) { out.replaceChildren(el("p", {class: "muted", id: "history-empty"}, "No events recorded for " + form + " " + entry + ".")); return; }
  out.replaceChildren(...entries.map((h) => el("div", {class: "panel history-entry", "data-history": h.id},
    el("h3", {}, fmtTime(h.time), " — ", h.kind, " ", h.form, " ", h.entry_id, h.rejected ? [" ", badge("rejected", "off")] : []),
    el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "Rule"), el("th", {}, "Outcome"), el("th", {}, "Error"))),
      el("tbody", {}, (h.rules || []).map((r) => el("tr", {}, el("td", {}, r.name), el("td", {}, String(r.outcome)), el("td", {class: "mono"}, r.error || ""))))),
    (h.callouts || []).length ? el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "Callout"), el("th", {}, "Delivery"), el("th", {}, "Skipped"))),
      el("tbody", {}, h.callouts.map((c) => el("tr", {}, el("td", {}, c.name),
        el("td", {}, c.delivery_id ? el("a", {href: "#delivery/" + c.delivery_id, class: "mono"}, c.delivery_id) : ""),
        el("td", {}, c.skipped ? (c.reason || "yes") : ""))))) : el("p", {class: "muted"}, "No callout fired."),
    h.set && Object.keys(h.set).length ? el("pre", {}, "set: " + JSON.stringify(h.set, null, 2)) : null,
    h.rejected ? el("pre", {}, "rejected: " + JSON.stringify(h.rejected)) : null)));
}

// ---- routing ----

const pages = {callouts: calloutsPage, rules: rulesPage, deliveries: deliveriesPage, webhooks: webhooksPage, callbacks: callbacksPage, targets: targetsPage, history: historyPage};

async function route() {
  if (!sessionStorage.getItem(TOKEN_KEY)) { signOut(); return; }
  document.getElementById("signin").hidden = true;
  document.getElementById("nav").hidden = false;
  const h = location.hash.replace(/^#/, "");
  const name = h.split(/[/?]/)[0] || "callouts";
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("current", a.id === "nav-" + (name === "delivery" ? "deliveries" : name));
  document.title = "ruleflow — " + name;
  try {
    if (name === "delivery") await deliveryPage(decodeURIComponent(h.slice("delivery/".length)));
    else if (pages[name]) await pages[name]();
    else page.replaceChildren(el("p", {class: "error"}, "No such page: " + name));
    page.setAttribute("data-page", name);
  } catch (e) {
    if (sessionStorage.getItem(TOKEN_KEY)) page.replaceChildren(el("p", {class: "error", id: "page-error"}, e.message));
  }
}

window.addEventListener("hashchange", () => { say(""); route(); });
route();
