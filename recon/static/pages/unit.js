// One service's detail page: the runbook's status text (with the command to copy), the
// timeline from its history, its timer, dependencies, unit file and every property. Every
// string from the host is inserted as text.
import { api, copyText, el, fmtClock } from "../lib/recon.js";
import { classify, whenText } from "../lib/status.js";

const root = document.getElementById("unit");
const slug = encodeURIComponent(root.dataset.slug);
const $ = (id) => document.getElementById(id);

function showError(err) {
  const box = $("u-error");
  box.replaceChildren(el("p", { text: `Could not read the unit: ${err.message}` }),
    err.hint ? el("p", { class: "hint", text: `Fix: ${err.hint}` }) : null);
  box.hidden = false;
}

function clock(iso) {
  const d = iso ? new Date(iso) : null;
  if (!d || Number.isNaN(d.getTime())) return "";
  return fmtClock(d, new Date().toDateString() !== d.toDateString()).slice(0, 16);
}

// "failed 03:12 (exit 1)" · "restarted by alice 03:20"
export function timelineText(e) {
  const past = { start: "started", stop: "stopped", restart: "restarted", reload: "reloaded",
    enable: "enabled", disable: "disabled", "reset-failed": "reset", mask: "masked", unmask: "unmasked" };
  let detail = "";
  if (e.to === "failed") {
    if (e.result === "exit-code" && e.exit_status != null) detail = ` (exit ${e.exit_status})`;
    else if (e.result === "signal" && e.exit_status != null) detail = ` (signal ${e.exit_status})`;
    else if (e.result && e.result !== "success") detail = ` (${e.result})`;
  }
  const what = e.cause === "action" && e.action
    ? `${past[e.action] || e.action} by ${e.actor || "?"} → ${e.to}${detail}`
    : `${e.from ? "" : "first seen "}${e.to}${detail}`;
  return `${what} ${clock(e.at)}`;
}

async function loadTimeline() {
  const list = $("u-timeline");
  try {
    const data = await api("GET", `/api/services/${slug}/history?limit=30`);
    const events = data.events || [];
    list.replaceChildren(...(events.length ? events.map((e) => el("li", {
      class: `tl tl-${e.to === "failed" ? "bad" : e.cause === "action" ? "act" : "obs"}`,
      title: e.at, text: timelineText(e),
    })) : [el("li", { class: "muted", text: "No recorded changes yet." })]));
  } catch (err) {
    list.replaceChildren(el("li", { class: "muted", text: `History unavailable: ${err.message}` }));
  }
}

function facts(node, pairs) {
  node.replaceChildren(...pairs.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v || "—" })]));
}

function paintProps(props) {
  const filter = $("u-props-filter").value.trim().toLowerCase();
  $("u-props").replaceChildren(...Object.entries(props)
    .filter(([k, v]) => !filter || k.toLowerCase().includes(filter) || String(v).toLowerCase().includes(filter))
    .map(([k, v]) => el("tr", {}, el("th", { scope: "row", text: k }), el("td", { text: v }))));
}

async function load() {
  try {
    const status = await api("GET", `/api/services/${slug}/status`);
    const [key, label] = classify(status);
    $("u-state").dataset.state = key;
    $("u-state").querySelector("[data-state-text]").textContent = label;
  } catch (err) { showError(err); }
  try {
    const d = await api("GET", `/api/services/${slug}/unit`);
    $("u-status-cmd").textContent = d.status_command;
    $("u-status").textContent = d.status_text || "(no output)";
    $("u-file").textContent = d.file ?? `No unit file: ${d.file_error}`;
    $("u-redacted").hidden = !d.redacted;
    const deps = Object.entries(d.dependencies || {}).map(([k, v]) => [k, v.join(" ")]);
    facts($("u-deps"), deps.length ? deps : [["Dependencies", "none"]]);
    if (d.timer && $("u-timer")) {
      facts($("u-timer"), [["State", `${d.timer.state || "?"} (${d.timer.enabled || "?"})`],
        ["Next run", d.timer.next ? whenText(d.timer.next)[0].replace(" ago)", ")") : d.timer.next_raw],
        ["Last run", d.timer.last ? whenText(d.timer.last)[0] : d.timer.last_raw || "never"],
        ["Schedule", d.timer.calendar]]);
    }
    root._props = d.properties || {};
    paintProps(root._props);
  } catch (err) {
    showError(err);
    for (const id of ["u-status", "u-file"]) $(id).textContent = "—";
  }
}

$("u-props-filter").addEventListener("input", () => paintProps(root._props || {}));
$("u-copy").addEventListener("click", async () => {
  const ok = await copyText($("u-status-cmd").textContent);
  $("u-copy").textContent = ok ? "Copied" : "Copy failed: select the command";
  setTimeout(() => { $("u-copy").textContent = "Copy command"; }, 2000);
});
load();
loadTimeline();
