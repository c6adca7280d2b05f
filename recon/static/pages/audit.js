// The audit page: GET /api/audit with the form's filters, rendered as text into the table.
import { api, el, fmtClock } from "../lib/recon.js";

const form = document.getElementById("audit-filters");
const tbody = document.querySelector("#audit tbody");
const status = document.getElementById("audit-status");
const errorBox = document.getElementById("audit-error");

function query() {
  const p = new URLSearchParams();
  for (const name of ["service", "action", "actor", "limit"]) {
    const v = form.elements[name].value.trim();
    if (v) p.set(name, v);
  }
  for (const name of ["since", "until"]) {
    const v = form.elements[name].value;
    if (v) p.set(name, new Date(v).toISOString()); // the browser's local time, sent as UTC
  }
  // One rolling action's entries (its "rolling #N" link): not a form field, kept from the URL.
  const group = new URLSearchParams(location.search).get("group");
  if (group) p.set("group", group);
  return p;
}

function row(e) {
  const at = e.at ? new Date(e.at) : null;
  // success is null while the action is still running (written before it is sent).
  const result = e.success === null || e.success === undefined
    ? el("span", { class: "result result-pending", text: "… running" })
    : e.success
      ? el("span", { class: "result result-ok", text: "✓ ok" })
      : el("span", { class: "result result-bad", text: `✗ ${e.error || "failed"}` });
  const exit = e.exit_code !== null && e.exit_code !== undefined ? ` (exit ${e.exit_code})` : "";
  // data-label: the column's name, shown beside each value when a phone stacks the row.
  const cell = (label, { text, ...props }, ...kids) => el("td", { role: "cell", dataset: { label }, ...props },
    el("span", { class: "v", text }, ...kids));
  return el("tr", { role: "row" },
    cell("When", { class: "when", title: e.at || "", text: at ? fmtClock(at, true) : "—" }),
    cell("Actor", { text: e.actor || "—" }),
    cell("Action", {}, el("code", { text: e.action }),
      e.group_id ? [" ", el("a", { class: "group", href: `/audit?group=${e.group_id}`, text: `rolling #${e.group_id}`,
        title: "Every entry of this rolling action" })] : null),
    cell("Service", { text: e.service || "—" }),
    cell("Host", { text: e.host || "—" }),
    cell("Result", { class: "result-cell" }, result, exit),
    cell("Time", { class: "num", text: e.duration_ms == null ? "—" : `${Math.round(e.duration_ms)} ms` }),
    cell("From", { text: e.remote_addr || "—" }),
    cell("Output", {}, e.output
      ? el("details", {}, el("summary", { text: e.output.split("\n")[0].slice(0, 60) || "output" }),
        el("pre", { text: e.output }))
      : "—", recordingLink(e.output)));
}

// A terminal's entries name its recording: a link to the replay page (the audit is an
// admin's page, and so is the replay).
function recordingLink(output) {
  const m = /recording (\/recordings\/[0-9a-f]{32})\b/.exec(output || "");
  return m ? el("a", { href: m[1], class: "recording-link", text: " Replay recording" }) : null;
}

async function load() {
  const p = query();
  history.replaceState(null, "", p.toString() ? `?${p}` : location.pathname);
  status.textContent = "Loading…";
  try {
    const data = await api("GET", `/api/audit?${p}`);
    tbody.replaceChildren(...data.entries.map(row));
    if (!data.entries.length) tbody.append(el("tr", { role: "row" }, el("td", { role: "cell", colspan: 9, class: "empty", text: "No entries match." })));
    status.textContent = `${data.entries.length} entr${data.entries.length === 1 ? "y" : "ies"}, newest first`;
    errorBox.hidden = true;
  } catch (err) {
    status.textContent = "";
    errorBox.replaceChildren(el("p", { text: `Could not load the audit trail: ${err.message}` }),
      err.hint ? el("p", { class: "hint", text: err.hint }) : null);
    errorBox.hidden = false;
  }
}

// Filters survive a reload through the query string.
const initial = new URLSearchParams(location.search);
for (const [k, v] of initial) {
  if (!form.elements[k]) continue;
  if (k === "since" || k === "until") {
    const d = new Date(v);
    if (!Number.isNaN(d.getTime())) {
      const local = new Date(d.getTime() - d.getTimezoneOffset() * 60000);
      form.elements[k].value = local.toISOString().slice(0, 16);
    }
  } else {
    form.elements[k].value = v;
  }
}
form.addEventListener("submit", (ev) => { ev.preventDefault(); load(); });
form.addEventListener("change", (ev) => { if (ev.target.tagName === "SELECT") load(); });
form.addEventListener("reset", () => setTimeout(load, 0));
load();
